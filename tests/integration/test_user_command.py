"""`cdrflow user add|password` publish users whose passwords work on the pages."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from cdrflow.settings import Settings
from projections.clickhouse import connect
from tests.integration.support import wait_for

pytestmark = pytest.mark.integration


def cdrflow(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cdrflow.cli", *args], input=stdin, text=True,
                          capture_output=True, env={**os.environ, **settings.to_env()},
                          timeout=120, check=False)


def logs_in(api: TestClient, username: str, password: str) -> bool:
    body = api.post("/billing/api/login", data={"u": username, "p": password}).text
    return "<status>ok</status>" in body


def test_a_user_added_with_a_password_logs_in_and_a_new_password_ends_old_sessions(
        sink: object, api: TestClient, settings: Settings) -> None:
    added = cdrflow(settings, "user", "add", "--id", "40", "--username", "bob", "--tariff", "1",
                    "--first-name", "Bob", "--tax", "21", "--password-stdin",
                    stdin="first secret\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "published user_created for user 40 (bob)\n"
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute("SELECT count() FROM users FINAL WHERE user_id = 40")[0][0]
             == 1, 10, "bob projected")
    row = client.execute("SELECT password_hash, tax_percent, account_type FROM users FINAL "
                         "WHERE user_id = 40")[0]
    assert row[0].startswith("scrypt$") and "first secret" not in row[0]
    assert (row[1], row[2]) == (Decimal(21), "postpaid")
    assert not logs_in(api, "bob", "wrong")
    assert logs_in(api, "bob", "first secret")
    assert "<pagename>Phonebook</pagename>" in api.get("/phonebooks/list").text

    changed = cdrflow(settings, "user", "password", "bob", "--password-stdin",
                      stdin="second secret\n")
    assert changed.returncode == 0, changed.stderr
    wait_for(lambda: "Please log in" in api.get("/phonebooks/list").text, 10,
             "the old session ended by the new password")
    assert not logs_in(api, "bob", "first secret")
    assert logs_in(api, "bob", "second secret")


def test_bad_users_are_not_published(settings: Settings) -> None:
    refused = cdrflow(settings, "user", "add", "--id", "41", "--username", "eve", "--tariff",
                      "1", "--tax", "150")
    assert refused.returncode == 1
    assert refused.stderr == ("not published: user_created: tax_percent must be between 0 "
                              "and 100\n")
    missing = cdrflow(settings, "user", "password", "nobody", "--password-stdin", stdin="x\n")
    assert missing.returncode == 1
    assert missing.stderr.endswith("no user 'nobody'\n")
