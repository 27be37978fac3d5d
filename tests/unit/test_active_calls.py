"""active_calls_get without services: the worker's state, the rows, filters, XML, hash."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from api.active_calls import Filters, matches, render
from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections import active_calls as table
from projections.active_calls import ActiveCall, record_rows
from projections.callflow import DidOwner, devices_by_ids, did_by_number
from projections.devices import Device
from projections.providers import providers
from projections.queries import User
from rating.reference import Account, Provider, ReferenceData
from rating.tariff import Destination, Rate, Tariff, Tier
from streams.active_calls import active_call
from streams.assembly import apply
from streams.events import CallAnswered, CallRinging, CallStarted
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
NOW = datetime(2026, 11, 20, 10, 0, 30, tzinfo=UTC)
T0 = int(NOW.timestamp() * 1000) - 30_000
USERS = {
    0: User(0, "admin", "System", "Admin", "admin", 0, "USD", "UTC"),
    2: User(2, "john", "John", "Smith", "user", 4, "USD", "Europe/Vilnius"),
    3: User(3, "ann", "Ann", "Jones", "user", 0, "USD", "UTC"),
    4: User(4, "res", "", "", "reseller", 0, "USD", "UTC"),
}
CALL = ActiveCall("c-1", 2, 10, "37052000201", "37061234567", "37061234567", 5, "Carrier A", 1,
                  T0, 0, "ringing", uniqueid="u-1", channel="SIP/201-c-1", prefix="3706",
                  destination="Lithuania MOB", direction="Lithuania", destination_group="LT")
INBOUND = ActiveCall("c-2", 3, 11, "37052000301", "37052999", "37052999", 0, "", 1, T0 + 1,
                     T0 + 5000, "answered", did="37052999", dst_user_id=2)
DEVICES = {10: Device(10, 2, "SIP", "john-desk", "201"), 11: Device(11, 3, "SIP", "ann", "301")}


def test_the_worker_publishes_the_call_state_with_its_destination() -> None:
    data = ReferenceData()
    data.accounts[2] = Account(2, "john", "", "", "user", 0, "USD", 1, "UTC")
    data.providers[5] = Provider(5, "Carrier A", 2)
    lt = Destination("3706", "Lithuania MOB", "Lithuania", group="LT")
    data.tariffs.add(Tariff.of(1, 1, "t", "USD", 0, [Rate(lt, (Tier(0, 60, 1),))]))
    start = CallStarted("c-1", T0, 2, 10, 1, "37052000201", "+37061234567", "x",
                        "SIP/201-c-1", "u-1", 5, "Carrier A")
    assert active_call(apply(None, CallRinging("c-1", T0)).state, data) is None
    state = apply(apply(None, start).state, CallRinging("c-1", T0 + 300)).state
    ringing = active_call(state, data)
    assert ringing is not None
    assert (ringing["status"], ringing["answered_ms"], ringing["localized_dst"],
            ringing["prefix"], ringing["direction"], ringing["destination_group"]) == (
        "ringing", 0, "37061234567", "3706", "Lithuania", "LT")
    answered = active_call(apply(state, CallAnswered("c-1", T0 + 5000)).state, data)
    assert answered is not None and (answered["status"], answered["answered_ms"]) == (
        "answered", T0 + 5000)
    assert active_call(apply(state, start).state, data) == ringing  # a repeat: same state
    assert "prefix" not in (active_call(state, None) or {})  # no reference data: left out


def record(value: bytes | None, offset: int = 7) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("t-active-calls", 0, offset, T0, 0, b"c-1", value, None, 0, 0, [])


def test_a_tombstone_is_the_row_that_ends_the_call() -> None:
    (name, row), = record_rows(record(None))
    assert (name, row[0], row[1], row[-1]) == ("active_calls", "c-1", 1, 7)
    assert len(row) == len(table.COLUMNS)
    (_, live), = record_rows(record(b'{"call_id": "c-1", "status": "ringing", "dst": "370"}'))
    assert (live[1], live[5], live[6], live[12]) == (0, "370", "370", "ringing")
    with pytest.raises(ValueError):
        list(record_rows(record(b'{"call_id": "other", "status": "ringing"}')))


@pytest.mark.parametrize(("pattern", "value", "expected"), [
    (None, "x", True), ("370", "370", True), ("370", "3706", False), ("370%", "3706", True),
    ("%370", "44370", True), ("%370", "3704", False), ("3%0", "370", True), ("%", "", True),
    (".*", "3", False), ("37%70", "370", False), ("3%%0", "30", True), ("%3%4%", "43", False),
    ("a%b%c", "abc", True), ("a%b%c", "acbc", True), ("%", "\n", True), ("3\n%", "3\n0", True),
])
def test_percent_patterns(pattern: str | None, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_a_hostile_pattern_is_matched_in_linear_time() -> None:
    """s_source=%3%3...%4 against a long number backtracked exponentially (about 7 s for
    16 parts and 30 digits, the event loop blocked meanwhile): the API fuzzer's find."""
    started = time.monotonic()
    assert matches("%3" * 64 + "%4", "3" * 40) is False
    assert matches("%3" * 20 + "%", "3" * 40) is True
    assert matches("%" * 100_000, "370") is True
    assert time.monotonic() - started < 1


def test_filters_keep_only_matching_calls() -> None:
    assert Filters(status="ringing", user_id=2, destination="37%").keep(CALL)
    assert not Filters(status="answered").keep(CALL)
    assert Filters(did="3705%", dst_user_id=2).keep(INBOUND)
    assert not Filters(dst_device_id=1).keep(INBOUND)  # a terminating device is never known
    assert Filters(direction="Lithuania", destination_group="LT", provider_id=5).keep(CALL)


def test_render_in_the_spec_order_with_inbound_extras() -> None:
    xml = render(USERS[0], [CALL, INBOUND], USERS, DEVICES, NOW)
    first, second = xml.split("</active_call>")[:2]
    names = re.findall(r"^   <([a-z_]+)", first, re.MULTILINE)
    assert names == [
        "id", "uniqueid", "status", "answer_time", "duration", "src", "user_id", "user",
        "src_device_id", "device_type", "device_extension", "device_name", "device_istrunk",
        "device_ani", "localized_dst", "direction_code", "direction_name", "destination_name",
        "provider_id", "provider_name", "channel"]
    assert "<answer_time/>\n   <duration/>" in first
    assert "<answer_time>2026-11-20 10:00:05</answer_time>" in second
    assert "<duration>25</duration>" in second
    assert second.split("<channel/>")[1].split() == [
        "<dst_user_id>2</dst_user_id>", "<dst_user>John", "Smith</dst_user>", "<dst_device_id/>",
        "<dst_device_type/>", "<dst_device_extension/>", "<dst_device_name/>",
        "<dst_device_istrunk/>", "<dst_device_ani/>"]
    # a user sees no provider; answer times in the caller's zone (Vilnius: UTC+2)
    own = render(USERS[2], [INBOUND], USERS, DEVICES, NOW)
    assert "<provider_id/>" in own and "<answer_time>2026-11-20 12:00:05</answer_time>" in own


class FakeReader(UsersReader):
    def __init__(self) -> None:
        super().__init__(USERS)

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        answers: dict[Any, Callable[..., Any]] = {
            table.active_calls: lambda since: [CALL, INBOUND] if since <= T0 else [],
            devices_by_ids: lambda ids: {i: DEVICES[i] for i in ids if i in DEVICES},
            providers: lambda: [Provider(5, "Carrier A", 2)],
            did_by_number: lambda did: DidOwner(did, 2) if did == "37052999" else None,
            table.known_direction: lambda name: name == "Lithuania",
            table.known_destination_group: lambda name: name == "LT",
        }
        return answers[read](*args, **kwargs)


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(Settings(api_secret=SECRET), reader=FakeReader(),
                                 clock=lambda: NOW))


def post(client: TestClient, data: dict[str, str], path: str = "/billing/api/active_calls_get",
         ) -> str:
    answer = client.post(path, data=data)
    assert answer.status_code == 200
    return answer.text


def test_the_hash_covers_u_and_the_specs_example_hash_is_accepted(client: TestClient) -> None:
    with_u = post(client, {"u": "admin", "hash": mor_hash(["admin"], SECRET)})
    # the spec's own example: df29... is SHA1 of the secret alone (u not hashed)
    example = post(client, {"u": "admin", "s_server": "2", "s_status": "ringing",
                            "hash": "df2983700ffecb52e6649f0cb3981b66537083a4"},
                   "/api/active_calls_get")
    assert "<id>c-1</id>" in with_u and "<id>c-2</id>" in with_u
    assert "No data found..." in example  # server 2 has no call
    assert "Incorrect hash" in post(client, {"u": "admin", "hash": mor_hash(["john"], SECRET)})


def test_roles_and_errors(client: TestClient) -> None:
    def ask(user: str, **filters: str) -> str:
        return post(client, {"u": user, **filters, "hash": mor_hash([user], SECRET)})

    assert "<id>c-1</id>" in ask("john") and "<id>c-2</id>" in ask("john")  # caller, DID owner
    assert "<id>c-1</id>" not in ask("ann") and "<id>c-2</id>" in ask("ann")
    assert "<id>c-1</id>" in ask("res")  # john is the reseller's user
    assert "<error>Did was not found</error>" in ask("ann", s_did="37052999")
    assert "<id>c-2</id>" in ask("john", s_did="37052999")
    assert "<error>Status value must be Ringing or Answered</error>" in ask("admin", s_status="x")
    assert "<error>Originating Device was not found</error>" in ask(
        "admin", s_user_id="2", s_device="11")
    assert "<id>c-1</id>" in ask("admin", s_device="11")  # ignored without s_user_id
