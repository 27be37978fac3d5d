"""`cdrflow provider|did|service|subscription add`: arguments to events, refusals."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from cdrflow import reference_command
from cdrflow.reference_command import build, describe
from cdrflow.settings import Settings
from rating.reference import ACCOUNT_SCHEMA

NOW = 1_790_000_000_000  # 2026-09-21 14:13:20 UTC


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    reference_command.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def built(*argv: str) -> tuple[int, dict[str, Any]]:
    return build(parse(*argv), NOW)


def refusal(*argv: str) -> str:
    with pytest.raises(ValueError) as raised:
        built(*argv)
    return str(raised.value)


def test_provider_add_is_keyed_by_the_provider() -> None:
    key, event = built("provider", "add", "--id", "5", "--name", " Carrier B ",
                       "--tariff", "2")
    assert key == 5
    assert event == {"schema": ACCOUNT_SCHEMA, "type": "provider_created", "provider_id": 5,
                     "name": "Carrier B", "tariff_id": 2}
    assert describe(event) == "published provider_created for provider 5 (Carrier B, tariff 2)"


def test_did_add_is_keyed_by_its_owner_and_free_by_default() -> None:
    key, event = built("did", "add", "--did", "37052000999", "--user", "3",
                       "--incoming-tariff", "2", "--owner-tariff", "4")
    assert key == 3
    assert event == {"schema": ACCOUNT_SCHEMA, "type": "did_created", "did": "37052000999",
                     "user_id": 3, "incoming_tariff_id": 2, "owner_tariff_id": 4,
                     "provider_tariff_id": 0}
    assert describe(event) == "published did_created for DID 37052000999 (user 3)"
    key, event = built("did", "add", "--did", "37052000777", "--provider-tariff", "2")
    assert (key, event["user_id"], event["provider_tariff_id"]) == (0, 0, 2)
    assert describe(event) == "published did_created for DID 37052000777 (free)"


def test_service_add_is_keyed_zero_with_a_plain_decimal_price() -> None:
    key, event = built("service", "add", "--id", "5", "--name", "Static IP",
                       "--price", "10.00", "--currency", "eur")
    assert key == 0
    assert event == {"schema": ACCOUNT_SCHEMA, "type": "service_created", "service_id": 5,
                     "name": "Static IP", "price": "10.00", "currency": "EUR"}
    assert built("service", "add", "--id", "6", "--name", "Fax", "--price",
                 "1E+1")[1]["price"] == "10"
    assert describe(event) == ("published service_created for service 5 "
                               "(Static IP, 10.00 EUR per month)")


def test_subscription_add_starts_now_and_is_open_ended_by_default() -> None:
    key, event = built("subscription", "add", "--id", "701", "--user", "2", "--service", "5")
    assert key == 2
    assert event == {"schema": ACCOUNT_SCHEMA, "type": "subscription_added",
                     "subscription_id": 701, "user_id": 2, "service_id": 5, "added_ms": NOW,
                     "activation_start_ms": NOW, "activation_end_ms": 0}
    assert describe(event) == ("published subscription_added for subscription 701 (user 2, "
                               "service 5, from 2026-09-21 14:13:20 UTC, open-ended)")


def test_subscription_times_are_utc_unless_offset_or_epoch_ms() -> None:
    _, event = built("subscription", "add", "--id", "701", "--user", "2", "--service", "5",
                     "--start", "2026-10-01T00:00:00", "--end", "2026-11-01T00:00:00+02:00")
    assert (event["activation_start_ms"], event["activation_end_ms"]) == (
        1_790_812_800_000, 1_793_484_000_000)
    assert describe(event).endswith(
        "from 2026-10-01 00:00:00 UTC until 2026-10-31 22:00:00 UTC)")
    _, event = built("subscription", "add", "--id", "701", "--user", "2", "--service", "5",
                     "--start", "1790812800000")
    assert event["activation_start_ms"] == 1_790_812_800_000


@pytest.mark.parametrize(("argv", "message"), [
    (("provider", "add", "--id", "0", "--name", "A", "--tariff", "2"),
     "provider_created: provider_id must not be 0"),
    (("provider", "add", "--id", "5", "--name", "  ", "--tariff", "2"),
     "provider_created: name must not be empty"),
    (("provider", "add", "--id", "5", "--name", "A", "--tariff", "-2"),
     "field tariff_id must be a non-negative integer below 2**63"),
    (("did", "add", "--did", "+37052000999"), "did_created: did must be digits"),
    (("did", "add", "--did", "370", "--user", "-1"),
     "field user_id must be a non-negative integer below 2**63"),
    (("service", "add", "--id", "5", "--name", "IP", "--price", "ten"),
     "service_created: price must be a decimal number, got 'ten'"),
    (("service", "add", "--id", "5", "--name", "IP", "--price", "-1"),
     "service_created: price must be from 0 to below 1000000000000 with at most 6 "
     "decimals, got -1"),
    (("service", "add", "--id", "5", "--name", "IP", "--price", "1", "--currency", "dollar"),
     "service_created: currency must be an ISO 4217 code like USD, got 'DOLLAR'"),
    (("service", "add", "--id", "0", "--name", "IP", "--price", "1"),
     "service_created: service_id must not be 0"),
    (("subscription", "add", "--id", "7", "--user", "2", "--service", "5", "--start",
      "tomorrow"), "--start: not an ISO date-time or epoch ms: 'tomorrow'"),
    (("subscription", "add", "--id", "7", "--user", "2", "--service", "5", "--start",
      "1969-12-31T23:00:00"), "--start: before 1970: '1969-12-31T23:00:00'"),
    (("subscription", "add", "--id", "7", "--user", "2", "--service", "5", "--start",
      "2026-10-01", "--end", "2026-10-01"),
     "subscription_added: activation_end_ms must be after activation_start_ms "
     "(or 0: open-ended)"),
    (("subscription", "add", "--id", "7", "--user", "2", "--service", "0"),
     "subscription_added: subscription_id and service_id must not be 0"),
])
def test_bad_input_is_refused_with_the_reason(argv: tuple[str, ...], message: str) -> None:
    assert refusal(*argv) == message


def test_a_refused_event_is_not_published(capsys: pytest.CaptureFixture[str]) -> None:
    # an unreachable broker: publishing would fail, so returning 1 proves nothing was sent
    settings = Settings(kafka_bootstrap="127.0.0.1:9")
    args = parse("did", "add", "--did", "37O52")
    assert reference_command.run(settings, args) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "not published: did_created: did must be digits\n")


def test_the_cli_dispatches_the_four_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdrflow import cli

    seen: list[str] = []
    monkeypatch.setattr(reference_command, "run",
                        lambda settings, args: seen.append(args.command) or 0)
    for argv in (["provider", "add", "--id", "5", "--name", "A", "--tariff", "2"],
                 ["did", "add", "--did", "370"],
                 ["service", "add", "--id", "5", "--name", "IP", "--price", "1"],
                 ["subscription", "add", "--id", "7", "--user", "2", "--service", "5"]):
        assert cli.main(argv) == 0
    assert seen == ["provider", "did", "service", "subscription"]
