"""Rejected calls over the real Kafka and ClickHouse: a call to a destination the tariff
has no rate for is rejected and listed open (CLI and API); once the tariff has the rate,
`cdrflow rerate --rejected --what-if` reports it and publishes nothing, `cdrflow rerate
--rejected` rates it into its first CDR, it is no longer listed, and a second run does
nothing. A call of an unknown user stays rejected throughout. A call from a device that
does not exist yet is rejected (`unknown_device`) and rated once the device is created.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
from decimal import Decimal
from types import ModuleType

import orjson
import pytest
from starlette.testclient import TestClient

from cdrflow import dead_letters_command, rerate_command
from cdrflow.demo_data import tariff_event
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.rejections import TABLE
from rating.reference import ACCOUNT_SCHEMA
from streams.events import CallAnswered, CallEnded, CallStarted, encode
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, CALL_EVENTS, CDRS, DEAD_LETTERS, TARIFF_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, read_topic, wait_for

pytestmark = pytest.mark.integration

T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
DAY = {"period_start": "1795132800", "period_end": "1795219199"}  # 2026-11-20, whole day
CHINA_DETAIL = "tariff 1 v1 of user 2 has no rate for 8613800138000"
# version 2 of tariff 1, in force since the start like version 1: every rate of version
# 1 and China at 0.12/min
CHINA = {**tariff_event(1, version=2),
         "rates": [*tariff_event(1)["rates"], {"prefix": "86", "destination": "China",
                                               "rate": "0.12"}]}
Event = CallStarted | CallAnswered | CallEnded


def call(call_id: str, user: int, device: int, dst: str, start: int,
         billsec: int) -> list[Event]:
    return [CallStarted(call_id, start, user, device, 1, "37052000201", dst, "37052000201",
                        f"SIP/201-{call_id}", call_id),
            CallAnswered(call_id, start + 2_000),
            CallEnded(call_id, start + 2_000 + billsec * 1000, 16, billsec, 2 + billsec)]


CALLS = [
    call("rj-cn", 2, 10, "8613800138000", T0, 30),  # no rate for 86 yet; then 0.06
    call("rj-ghost", 99, 10, "37061234567", T0 + 300_000, 20),  # user 99 is never known
    call("rj-ok", 2, 10, "37061234567", T0 + 600_000, 20),  # rated at once: 0.083333
]


def run(command: ModuleType, settings: Settings, capsys: pytest.CaptureFixture[str],
        *argv: str) -> str:
    """What a `cdrflow` command module prints for `argv`."""
    parser = argparse.ArgumentParser()
    command.add_parser(parser.add_subparsers())
    assert command.run(settings, parser.parse_args(list(argv))) == 0
    return capsys.readouterr().out


def cdrs(settings: Settings) -> dict[str, tuple[int, int, Decimal]]:
    rows = connect(settings.clickhouse).execute(
        "SELECT call_id, version, tariff_version, user_price FROM cdrs FINAL")
    return {call_id: (version, tariff, price) for call_id, version, tariff, price in rows}


def cdr_messages(settings: Settings) -> int:
    return len(asyncio.run(read_topic(settings, CDRS)))


def rejections(settings: Settings) -> int:
    letters = [orjson.loads(value or b"{}")
               for _, value in asyncio.run(read_topic(settings, DEAD_LETTERS))]
    return sum(str(letter.get("reason")).startswith("rejected: ") for letter in letters)


def projected_rejections(settings: Settings) -> int:
    """Rejected calls the sink projected from `dead-letters`."""
    return int(connect(settings.clickhouse).execute(
        f"SELECT count() FROM {TABLE} FINAL")[0][0])


def listed(api: TestClient, **params: str) -> str:
    hashed = [params[name] for name in ("period_start", "period_end", "s_reason")
              if name in params]
    hash_ = hashlib.sha1(("".join(hashed) + SECRET).encode()).hexdigest()
    return str(api.post("/billing/api/rejected_calls_get",
                        data={"u": "admin", **params, "hash": hash_}).text)


def page(period: tuple[str, str], reason: str, *calls: str) -> str:
    body = f"   <calls>\n{''.join(calls)}   </calls>\n" if calls else "   <calls></calls>\n"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<page>\n'
            " <pagename>Rejected calls</pagename>\n <language>en</language>\n"
            " <error_msg></error_msg>\n <userid>0</userid>\n <username>admin</username>\n"
            f" <total_calls>{len(calls)}</total_calls>\n <calls_stat>\n   <period>\n"
            f"     <period_start>{period[0]}</period_start>\n"
            f"     <period_end>{period[1]}</period_end>\n   </period>\n"
            f"   <show_reason>{reason}</show_reason>\n{body} </calls_stat>\n</page>\n")


def row(call_id: str, when: str, detail: str, dst: str, billsec: int, reason: str,
        user: str, user_id: int, device_id: int = 10) -> str:
    return ("     <call>\n"
            f"       <call_id>{call_id}</call_id>\n"
            f"       <calldate2>2026-11-20 {when}</calldate2>\n"
            "       <clid>37052000201</clid>\n"
            f"       <detail>{detail}</detail>\n"
            f"       <device_id>{device_id}</device_id>\n"
            "       <did></did>\n"
            f"       <dst>{dst}</dst>\n"
            f"       <nice_billsec>{billsec}.0</nice_billsec>\n"
            "       <provider_id>0</provider_id>\n"
            f"       <reason>{reason}</reason>\n"
            "       <server_id>1</server_id>\n"
            "       <src>37052000201</src>\n"
            f"       <user>{user}</user>\n"
            f"       <user_id>{user_id}</user_id>\n"
            "     </call>\n")


CN_ROW = row("rj-cn", "10:00:00", CHINA_DETAIL, "8613800138000", 30, "no_rate", "John Smith", 2)
GHOST_ROW = row("rj-ghost", "10:05:00", "user 99 is not known", "37061234567", 20,
                "unknown_user", "", 99)
DAY_SHOWN = ("2026-11-20 00:00:00", "2026-11-20 23:59:59")
CN_LINE = f"2026-11-20 10:00:00  rj-cn  user 2  8613800138000  no_rate: {CHINA_DETAIL}\n"
GHOST_LINE = ("2026-11-20 10:05:00  rj-ghost  user 99  37061234567  "
              "unknown_user: user 99 is not known\n")


def test_a_rejected_call_is_listed_then_rated_once_the_rate_exists(
        settings: Settings, pipeline: Processes, api: TestClient,
        capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(publish(settings, CALL_EVENTS, [
        (e.call_id.encode(), encode(e)) for events in CALLS for e in events]))
    wait_for(lambda: "rj-ok" in cdrs(settings) and rejections(settings) == 2, 120,
             "one CDR and two rejections", pipeline)
    assert cdrs(settings) == {"rj-ok": (1, 1, Decimal("0.083333"))}

    # listed open: CLI and API
    assert run(dead_letters_command, settings, capsys, "dead-letters", "--rejected",
               "--open") == CN_LINE + GHOST_LINE + "2 open rejected calls\n"
    assert run(dead_letters_command, settings, capsys, "dead-letters", "--open",
               "--summary") == ("       1  rejected: no_rate\n       1  rejected: unknown_user\n"
                                "2 open rejected calls\n")
    wait_for(lambda: projected_rejections(settings) == 2, 60, "2 rejected calls projected",
             pipeline)
    assert listed(api, **DAY) == page(DAY_SHOWN, "all", CN_ROW, GHOST_ROW)
    assert listed(api, s_reason="no_rate") == page(("", ""), "no_rate", CN_ROW)
    assert listed(api, period_start="1795168801") == page(("2026-11-20 10:00:01", ""), "all",
                                                          GHOST_ROW)

    # the rate arrives; what-if reports and publishes nothing
    asyncio.run(publish(settings, TARIFF_EVENTS, [(b"1", orjson.dumps(CHINA))]))
    messages = cdr_messages(settings)
    assert run(rerate_command, settings, capsys, "rerate", "--rejected", "--user", "john",
               "--what-if") == (
        "what-if (testing mode): open rejected calls started any time, user 2 (john)\n\n"
        "examined 1: rated 1, still rejected 0\n\n"
        "currency  rated  user price\n"
        "USD           1    0.060000\n\n"
        "nothing was published\n")
    assert cdr_messages(settings) == messages

    # the re-rating: rj-cn gets its first CDR, rj-ghost stays rejected
    assert run(rerate_command, settings, capsys, "rerate", "--rejected", "--from",
               "2026-11-20", "--to", "2026-11-20") == (
        "re-rated: open rejected calls started 2026-11-20 00:00:00 to 2026-11-20 23:59:59 "
        "(UTC), all users\n\n"
        "examined 2: rated 1, still rejected 1\n\n"
        "currency  rated  user price\n"
        "USD           1    0.060000\n\n"
        "still rejected (they stay open):\n"
        "  unknown_user  1\n"
        "  rj-ghost  unknown_user: user 99 is not known\n\n"
        f"published 1 CDRs to {settings.topic(CDRS)}\n")
    wait_for(lambda: "rj-cn" in cdrs(settings), 60, "the CDR of rj-cn", pipeline)
    assert cdrs(settings) == {"rj-ok": (1, 1, Decimal("0.083333")),
                              "rj-cn": (1, 2, Decimal("0.06"))}
    assert cdr_messages(settings) == messages + 1

    # no longer open
    assert run(dead_letters_command, settings, capsys, "dead-letters", "--open") == (
        GHOST_LINE + "1 open rejected calls\n")
    assert listed(api, **DAY) == page(DAY_SHOWN, "all", GHOST_ROW)
    assert listed(api, s_reason="no_rate") == page(("", ""), "no_rate")

    # again: nothing left to rate
    assert run(rerate_command, settings, capsys, "rerate", "--rejected") == (
        "re-rated: open rejected calls started any time, all users\n\n"
        "examined 1: rated 0, still rejected 1\n\n"
        "still rejected (they stay open):\n"
        "  unknown_user  1\n"
        "  rj-ghost  unknown_user: user 99 is not known\n\n"
        f"published 0 CDRs to {settings.topic(CDRS)}\n")
    assert cdr_messages(settings) == messages + 1


def test_a_call_from_an_unknown_device_is_rated_once_the_device_exists(
        settings: Settings, pipeline: Processes, api: TestClient,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = rejections(settings)
    asyncio.run(publish(settings, CALL_EVENTS, [
        (e.call_id.encode(), encode(e))
        for e in call("rj-dev", 2, 77, "37061234567", T0 + 900_000, 20)]))
    wait_for(lambda: rejections(settings) == before + 1, 120, "the call rejected", pipeline)
    assert "rj-dev" not in cdrs(settings)
    dev_row = row("rj-dev", "10:15:00", "device 77 is not known", "37061234567", 20,
                  "unknown_device", "John Smith", 2, device_id=77)
    wait_for(lambda: listed(api, s_reason="unknown_device") == page(
        ("", ""), "unknown_device", dev_row), 60, "listed as unknown_device", pipeline)

    desk = {"schema": ACCOUNT_SCHEMA, "type": "device_created", "device_id": 77,
            "user_id": 2, "device_type": "SIP", "name": "john-mobile", "extension": "202"}
    asyncio.run(publish(settings, ACCOUNT_EVENTS, [(b"2", orjson.dumps(desk))]))
    assert run(rerate_command, settings, capsys, "rerate", "--rejected", "--user",
               "john") == (
        "re-rated: open rejected calls started any time, user 2 (john)\n\n"
        "examined 1: rated 1, still rejected 0\n\n"
        "currency  rated  user price\n"
        "USD           1    0.083333\n\n"
        f"published 1 CDRs to {settings.topic(CDRS)}\n")
    wait_for(lambda: "rj-dev" in cdrs(settings), 60, "the CDR of rj-dev", pipeline)
    assert cdrs(settings)["rj-dev"] == (1, 2, Decimal("0.083333"))
    assert listed(api, s_reason="unknown_device") == page(("", ""), "unknown_device")
