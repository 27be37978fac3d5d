import argparse
from typing import Any

import orjson
import pytest

from cdrflow.settings import Settings
from cdrflow.webhook_command import run
from rating.reference import Account, Device, ReferenceData
from streams.account_events import parse_account_event
from streams.webhook_events import CallEndWebhook


def reference() -> ReferenceData:
    data = ReferenceData()
    data.accounts[2] = object.__new__(Account)
    data.devices[10] = Device(10, 2, "SIP", "101", "101")
    data.devices[20] = Device(20, 3, "SIP", "201", "201")
    return data


def command(*argv: str) -> tuple[int, list[tuple[bytes, bytes]]]:
    published: list[tuple[bytes, bytes]] = []

    async def load(settings: Settings) -> ReferenceData:
        return reference()

    def publish(settings: Settings, topic: str, records: list[tuple[bytes, bytes]]) -> int:
        assert topic == "account-events"
        published.extend(records)
        return len(records)

    parser = argparse.ArgumentParser()
    parser.add_argument("--user", type=int)
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--url")
    return run(Settings(), parser.parse_args(argv), load, publish), published


def hook(record: tuple[bytes, bytes]) -> Any:
    found = parse_account_event(orjson.loads(record[1]))
    assert isinstance(found, CallEndWebhook)
    return record[0], found.user_id, found.device_id, found.url


def test_set_publishes_a_device_or_user_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert hook(command("--user", "2", "--device", "10", "--url", "http://x/")[1][0]) == \
        (b"2", 2, 10, "http://x/")
    assert hook(command("--user", "2", "--url", "")[1][0]) == (b"2", 2, 0, "")
    assert capsys.readouterr().out == ("Call End webhook of device 10: http://x/\n"
                                       "Call End webhook of every device of user 2: removed\n")


@pytest.mark.parametrize(("argv", "message"), [
    (("--user", "9", "--url", "http://x/"), "no user 9; nothing was published\n"),
    (("--user", "2", "--device", "20", "--url", "http://x/"),
     "user 2 has no device 20; nothing was published\n"),
    (("--user", "2", "--url", "x"), "call_end_webhook_set: url must start with http:// or "
     "https:// and name a host; nothing was published\n"),
])
def test_set_refuses(argv: tuple[str, ...], message: str,
                     capsys: pytest.CaptureFixture[str]) -> None:
    assert command(*argv) == (1, [])
    assert capsys.readouterr().err == message
