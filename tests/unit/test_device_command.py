import argparse

import pytest

from cdrflow import device_command
from cdrflow.settings import Settings


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    device_command.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_a_bad_device_is_not_published(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("device", "add", "--id", "-1", "--user", "2", "--extension", "201")
    assert device_command.run(Settings(), args) == 1
    assert "not published: field device_id must be a non-negative integer" in (
        capsys.readouterr().err)


def test_add_takes_the_page_fields() -> None:
    args = parse("device", "add", "--id", "12", "--user", "2", "--type", "IAX2",
                 "--extension", "202", "--callerid", '"John" <202>')
    assert (args.type, args.extension, args.callerid, args.description) == (
        "IAX2", "202", '"John" <202>', None)
