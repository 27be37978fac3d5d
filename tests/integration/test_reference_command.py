"""`cdrflow provider|did|service|subscription add` publish what the sink projects."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.providers import providers
from rating.reference import Provider
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration


def cdrflow(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cdrflow.cli", *args], text=True,
                          capture_output=True, env={**os.environ, **settings.to_env()},
                          timeout=120, check=False)


def published(settings: Settings, *args: str) -> str:
    done = cdrflow(settings, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_added_reference_data_is_projected(settings: Settings, sink: Processes) -> None:
    client = connect(settings.clickhouse)
    assert published(settings, "provider", "add", "--id", "7", "--name", "Carrier B",
                     "--tariff", "1") == (
        "published provider_created for provider 7 (Carrier B, tariff 1)\n")
    published(settings, "provider", "add", "--id", "8", "--name", "Carrier C",
              "--tariff", "2")
    published(settings, "provider", "add", "--id", "7", "--name", "Carrier B2",
              "--tariff", "2")  # replaces provider 7
    assert published(settings, "did", "add", "--did", "37052000999", "--user", "3",
                     "--incoming-tariff", "2", "--owner-tariff", "1") == (
        "published did_created for DID 37052000999 (user 3)\n")
    assert published(settings, "did", "add", "--did", "37052000777",
                     "--provider-tariff", "2") == (
        "published did_created for DID 37052000777 (free)\n")
    assert published(settings, "service", "add", "--id", "5", "--name", "Static IP",
                     "--price", "10.50") == (
        "published service_created for service 5 (Static IP, 10.50 USD per month)\n")
    before = time.time_ns() // 1_000_000
    assert published(settings, "subscription", "add", "--id", "701", "--user", "2",
                     "--service", "5", "--start", "2026-10-01T00:00:00",
                     "--end", "1793484000000") == (
        "published subscription_added for subscription 701 (user 2, service 5, from "
        "2026-10-01 00:00:00 UTC until 2026-10-31 22:00:00 UTC)\n")
    published(settings, "subscription", "add", "--id", "702", "--user", "3",
              "--service", "5")
    after = time.time_ns() // 1_000_000

    def count(table: str) -> int:
        return int(client.execute(f"SELECT count() FROM {table} FINAL")[0][0])

    wait_for(lambda: count("dids") == 2 and count("services") == 1
             and count("subscriptions") == 2 and "Carrier B2" in {
                 p.name for p in providers(client)}, 30, "the reference data projected", sink)

    assert providers(client) == [Provider(5, "Carrier A", 2),  # the demo's
                                 Provider(7, "Carrier B2", 2), Provider(8, "Carrier C", 2)]
    assert client.execute(
        "SELECT did, user_id, incoming_tariff_id, owner_tariff_id, provider_tariff_id "
        "FROM dids FINAL ORDER BY did") == [("37052000777", 0, 0, 0, 2),
                                            ("37052000999", 3, 2, 1, 0)]
    assert client.execute("SELECT service_id, name, price, currency FROM services FINAL") == [
        (5, "Static IP", Decimal("10.50"), "USD")]
    rows = client.execute(
        "SELECT subscription_id, user_id, service_id, added_ms, activation_start_ms, "
        "activation_end_ms FROM subscriptions FINAL ORDER BY subscription_id")
    assert [row[:3] for row in rows] == [(701, 2, 5), (702, 3, 5)]
    assert all(before <= row[3] <= after for row in rows)
    assert rows[0][4:] == (1_790_812_800_000, 1_793_484_000_000)
    assert rows[1][4] == rows[1][3] and rows[1][5] == 0  # from now, open-ended


def test_bad_reference_data_is_not_published(settings: Settings) -> None:
    refused = cdrflow(settings, "service", "add", "--id", "6", "--name", "Fax",
                      "--price", "1.5", "--currency", "dollars")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == ("not published: service_created: currency must be an ISO 4217 "
                              "code like USD, got 'DOLLARS'\n")
    refused = cdrflow(settings, "subscription", "add", "--id", "703", "--user", "2",
                      "--service", "5", "--start", "next monday")
    assert refused.returncode == 1
    assert refused.stderr == ("not published: --start: not an ISO date-time or epoch ms: "
                              "'next monday'\n")
    client = connect(settings.clickhouse)
    assert client.execute("SELECT count() FROM services FINAL WHERE service_id = 6") == [(0,)]
