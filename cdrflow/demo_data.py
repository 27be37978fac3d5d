"""Reference data for the demo and the tests: users, devices and a retail tariff.

Tariff 1 has a rate for every prefix the simulator dials; some have a connection
fee, a minimal time or a coarse increment so the demo shows each rule at work.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from cdrflow.passwords import hash_password
from cdrflow.settings import Settings
from rating.reference import ACCOUNT_SCHEMA
from rating.tariff_events import TARIFF_SCHEMA
from streams.publisher import publish
from streams.simulator import Caller
from streams.topics import ACCOUNT_EVENTS, TARIFF_EVENTS, ensure_topics

USERS: list[dict[str, Any]] = [
    {"user_id": 0, "username": "admin", "first_name": "System", "last_name": "Admin",
     "role": "admin", "owner_id": 0, "currency": "USD", "tariff_id": 1, "timezone": "UTC"},
    {"user_id": 2, "username": "john", "first_name": "John", "last_name": "Smith",
     "role": "user", "owner_id": 0, "currency": "USD", "tariff_id": 1, "timezone": "UTC"},
    {"user_id": 3, "username": "ann", "first_name": "Ann", "last_name": "Jones",
     "role": "user", "owner_id": 0, "currency": "USD", "tariff_id": 1, "timezone": "UTC"},
]
DEVICES: list[dict[str, Any]] = [
    {"device_id": 10, "user_id": 2, "device_type": "SIP", "name": "john-desk", "extension": "201"},
    {"device_id": 11, "user_id": 3, "device_type": "SIP", "name": "ann-desk", "extension": "301"},
]
PROVIDERS: list[dict[str, Any]] = [
    {"provider_id": 5, "name": "Carrier A", "tariff_id": 2},
]
# the demo's logins for the pages (`/billing/api/login`): never use these anywhere else
DEMO_PASSWORDS = {"admin": "admin-demo", "john": "john-demo", "ann": "ann-demo"}
CALLERS = [Caller(2, 10, "37052000201"), Caller(3, 11, "37052000301")]

# prefix, destination, price per minute, connection fee, minimal time, increment
RATES: list[tuple[str, str, str, str, int, int]] = [
    ("370", "Lithuania", "0.05", "0", 0, 1),
    ("3706", "Lithuania MOB", "0.25", "0", 0, 1),
    ("44", "United Kingdom", "0.04", "0", 0, 1),
    ("447", "United Kingdom MOB", "0.18", "0.02", 0, 1),
    ("1", "USA", "0.015", "0", 0, 6),
    ("49", "Germany", "0.045", "0", 0, 1),
    ("491", "Germany MOB", "0.22", "0", 30, 1),
    ("33", "France", "0.05", "0", 0, 60),
    ("336", "France MOB", "0.2", "0", 0, 60),
    ("39", "Italy", "0.06", "0", 0, 1),
    ("34", "Spain", "0.05", "0.01", 0, 1),
    ("48", "Poland", "0.07", "0", 0, 1),
    ("351", "Portugal", "0.08", "0", 0, 1),
    ("61", "Australia", "0.12", "0", 0, 1),
    ("81", "Japan", "0.15", "0", 0, 30),
]


# Carrier A's buy prices (tariff 2): what the operator pays per minute.
PROVIDER_RATES: list[tuple[str, str, str, str, int, int]] = [
    ("370", "Lithuania", "0.02", "0", 0, 1),
    ("3706", "Lithuania MOB", "0.12", "0", 0, 1),
]


def tariff_event(tariff_id: int = 1, version: int = 1,
                 effective_from_ms: int = 0) -> dict[str, Any]:
    name, rates = ("Demo retail", RATES) if tariff_id == 1 else ("Carrier A buy", PROVIDER_RATES)
    return {
        "schema": TARIFF_SCHEMA, "type": "tariff_published", "tariff_id": tariff_id,
        "version": version, "name": name, "currency": "USD",
        "effective_from_ms": effective_from_ms,
        "rates": [
            {"prefix": p, "destination": d, "rate": r, "connection_fee": f,
             "min_time": m, "increment": i}
            for p, d, r, f, m, i in rates
        ],
    }


def tariff_events() -> list[dict[str, Any]]:
    return [tariff_event(1), tariff_event(2)]


def account_events() -> list[dict[str, Any]]:
    users = [{"schema": ACCOUNT_SCHEMA, "type": "user_created", **u,
              "password_hash": _demo_hash(u["username"])} for u in USERS]
    devices = [{"schema": ACCOUNT_SCHEMA, "type": "device_created", **d} for d in DEVICES]
    providers = [{"schema": ACCOUNT_SCHEMA, "type": "provider_created", **p} for p in PROVIDERS]
    return users + devices + providers


@cache
def _demo_hash(username: str) -> str:
    return hash_password(DEMO_PASSWORDS[username])


def _account_key(event: dict[str, Any]) -> bytes:
    """Account events are keyed by the user they belong to (providers by their id)."""
    return str(event.get("user_id", event.get("provider_id"))).encode()


async def publish_demo_data(settings: Settings) -> tuple[int, int]:
    """Publish the demo account and tariff events; returns how many of each."""
    await ensure_topics(settings)
    accounts = [(_account_key(e), orjson.dumps(e)) for e in account_events()]
    tariffs = [(str(e["tariff_id"]).encode(), orjson.dumps(e)) for e in tariff_events()]
    return (await publish(settings, ACCOUNT_EVENTS, accounts),
            await publish(settings, TARIFF_EVENTS, tariffs))
