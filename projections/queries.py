"""Read queries over the ClickHouse projections (users, cdrs).

Every table is read with FINAL (ReplacingMergeTree keeps duplicates until it
merges). Values travel as clickhouse-driver `%(name)s` parameters; the only SQL
text built from a request is a whitelisted column name. All SQL runs on
ClickHouse 18.16 and 24.x.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar, get_type_hints

from clickhouse_driver import Client

UINT32_MAX = 2**32 - 1
P = ParamSpec("P")
T = TypeVar("T")
BLOCK_ROWS = 10_000

# The longest number a call event may carry (streams.events.MAX_TEXT): a prefix or DID
# filter longer than this matches nothing, and is not written into the SQL.
LONGEST_NUMBER = 256


# MOR's order_by values -> cdrs columns.
ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("calldate", "calldate_ms"),
    "src": ("src",),
    "dst": ("dst",),
    "prefix": ("prefix",),
    "nice_billsec": ("billsec",),
    "hgc": ("hangup_cause",),
    "server": ("server_id",),
    "p_name": ("provider_name",),
    "p_rate": ("provider_rate",),
    "p_price": ("provider_price",),
    "reseller": ("reseller_id",),
    "r_rate": ("reseller_rate",),
    "r_price": ("reseller_price",),
    "user": ("user_id",),
    "u_rate": ("user_rate",),
    "u_price": ("user_price",),
    "number": ("dst",),
    "d_provider": ("did_prov_price",),
    "d_inc": ("did_inc_price",),
    "d_owner": ("did_price",),
}
TIE_BREAKERS = ("calldate", "calldate_ms", "call_id")


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    username: str
    first_name: str
    last_name: str
    role: str
    owner_id: int
    currency: str
    timezone: str
    tax_percent: Decimal = Decimal(0)
    account_type: str = "postpaid"
    credit_limit: Decimal = Decimal(-1)  # -1: no limit
    language: str = "en"
    api_group: str = ""  # API permission group, "" for none

    @property
    def nice_name(self) -> str:
        """ "first_name last_name", or the username when both are empty."""
        return f"{self.first_name} {self.last_name}".strip() or self.username


@dataclass(frozen=True, slots=True)
class CallFilter:
    user_id: int
    start: int  # unix seconds, inclusive
    end: int  # unix seconds, inclusive
    disposition: str | None = None
    device_id: int | None = None
    provider_id: int | None = None
    hangup_cause: int | None = None
    dst_prefix: str | None = None
    did: str | None = None
    only_did: bool = False
    order_by: str = "time"
    order_desc: bool = False


class Call(NamedTuple):
    """One listed call: the columns of `_CALL_COLUMNS`, in their order (a row becomes a
    Call without copying its values one by one)."""

    call_id: str
    calldate: datetime  # aware, UTC
    calldate_ms: int
    user_id: int
    src: str
    dst: str
    clid: str
    disposition: str
    hangup_cause: int
    billsec: int
    prefix: str
    destination: str
    server_id: int
    did: str
    did_inc_price: Decimal
    did_price: Decimal
    did_prov_price: Decimal
    provider_name: str
    provider_rate: Decimal
    provider_price: Decimal
    reseller_id: int
    reseller_rate: Decimal
    reseller_price: Decimal
    user_rate: Decimal
    user_price: Decimal
    profit: Decimal


USER_SELECT = (
    "user_id, username, first_name, last_name, role, owner_id, currency, timezone, "
    "tax_percent, account_type, credit_limit, language, api_group"
)
_CALL_COLUMNS = (
    "call_id, toUInt32(calldate), calldate_ms, user_id, src, dst, clid, "
    "CAST(disposition AS String), hangup_cause, billsec, prefix, destination, server_id, did, "
    "did_inc_price, did_price, did_prov_price, provider_name, provider_rate, provider_price, "
    "reseller_id, reseller_rate, reseller_price, user_rate, user_price, profit"
)


def user_by_username(client: Client, username: str) -> User | None:
    rows = client.execute(
        f"SELECT {USER_SELECT} FROM users FINAL WHERE username = %(username)s "
        "ORDER BY user_id LIMIT 1",
        {"username": username},
    )
    return user_from_row(rows[0]) if rows else None


def user_by_id(client: Client, user_id: int) -> User | None:
    rows = client.execute(
        f"SELECT {USER_SELECT} FROM users FINAL WHERE user_id = %(user_id)s",
        {"user_id": user_id},
    )
    return user_from_row(rows[0]) if rows else None


def users_by_ids(client: Client, user_ids: Iterable[int]) -> dict[int, User]:
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = client.execute(
        f"SELECT {USER_SELECT} FROM users FINAL WHERE user_id IN %(user_ids)s",
        {"user_ids": tuple(wanted)},
    )
    return {user.user_id: user for user in map(user_from_row, rows)}


def calls(client: Client, where: CallFilter) -> list[Call]:
    """One user's calls in a period, filtered and ordered as user_calls_get asks."""
    sql, params = calls_sql(where)
    return [_call(row) for row in client.execute(sql, params)]


def each_call(client: Client, where: CallFilter) -> Iterator[Call]:
    """`calls`, streamed: rows arrive in blocks of at most BLOCK_ROWS."""
    sql, params = calls_sql(where)
    for row in client.execute_iter(sql, params, settings={"max_block_size": BLOCK_ROWS}):
        yield _call(row)


def calls_sql(where: CallFilter) -> tuple[str, dict[str, Any]]:
    conditions = [
        "user_id = %(user_id)s",
        "calldate >= toDateTime(%(start)s)",
        "calldate <= toDateTime(%(end)s)",
    ]
    params: dict[str, Any] = {
        "user_id": where.user_id,
        "start": _clamp(where.start),
        "end": _clamp(where.end),
    }
    optional = {
        "disposition": ("CAST(disposition AS String) = %(disposition)s", where.disposition),
        "device_id": ("device_id = %(device_id)s", where.device_id),
        "provider_id": ("provider_id = %(provider_id)s", where.provider_id),
        "hangup_cause": ("hangup_cause = %(hangup_cause)s", where.hangup_cause),
        "dst_prefix": (
            "substring(dst, 1, length(%(dst_prefix)s)) = %(dst_prefix)s",
            where.dst_prefix,
        ),
        "did": ("did = %(did)s", where.did),
    }
    for name, (condition, value) in optional.items():
        if value is None:
            continue
        if isinstance(value, str) and len(value) > LONGEST_NUMBER:
            conditions.append("0")  # no stored number is that long (and the SQL stays short)
            continue
        conditions.append(condition)
        params[name] = value
    if where.only_did:
        conditions.append("did != ''")
    return (
        f"SELECT {_CALL_COLUMNS} FROM cdrs FINAL WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order_clause(where.order_by, where.order_desc)}",
        params,
    )


def order_clause(order_by: str, descending: bool) -> str:
    """ORDER BY text from whitelisted columns only; ties broken by time and call id."""
    columns = ORDER_COLUMNS.get(order_by)
    if columns is None:
        raise ValueError(f"unknown order_by {order_by!r}")
    direction = " DESC" if descending else ""
    terms = [f"{column}{direction}" for column in columns]
    terms += [column for column in TIE_BREAKERS if column not in columns]
    return ", ".join(terms)


def _clamp(seconds: int) -> int:
    return min(max(seconds, 0), UINT32_MAX)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def user_from_row(row: tuple[Any, ...]) -> User:
    """A User from the columns of USER_SELECT."""
    (user_id, username, first, last, role, owner_id, currency, timezone, tax_percent,
     account_type, credit_limit, language, api_group) = row
    return User(
        int(user_id), _text(username), _text(first), _text(last), _text(role),
        int(owner_id), _text(currency), _text(timezone), Decimal(tax_percent),
        _text(account_type), Decimal(credit_limit), _text(language), _text(api_group),
    )  # fmt: skip


# the string columns of a call row
_call_strings = itemgetter(*(i for i, kind in enumerate(get_type_hints(Call).values())
                             if kind is str))


def _call(row: tuple[Any, ...]) -> Call:
    """A Call from the columns of `_CALL_COLUMNS`. clickhouse-driver already gives ints,
    `Decimal`s and strings; only the time needs converting, and a string that is not
    valid UTF-8 (which the driver returns as bytes) decoding."""
    if bytes in map(type, _call_strings(row)):
        row = tuple(_text(value) if isinstance(value, bytes) else value for value in row)
    return Call._make((row[0], datetime.fromtimestamp(row[1], UTC), *row[2:]))


class ClientPool:
    """clickhouse-driver clients are not thread-safe: each borrower gets its own."""

    def __init__(self, factory: Callable[[], Client], size: int = 8) -> None:
        self._factory = factory
        self._idle: queue.LifoQueue[Client] = queue.LifoQueue(maxsize=size)

    @contextmanager
    def client(self) -> Iterator[Client]:
        try:
            client = self._idle.get_nowait()
        except queue.Empty:
            client = self._factory()
        try:
            yield client
        except BaseException:
            _disconnect(client)  # the connection may be mid-packet; reconnect on next use
            raise
        finally:
            try:
                self._idle.put_nowait(client)
            except queue.Full:
                _disconnect(client)

    def close(self) -> None:
        while True:
            try:
                client = self._idle.get_nowait()
            except queue.Empty:
                return
            _disconnect(client)


def _disconnect(client: Client) -> None:
    with suppress(Exception):
        client.disconnect()


class ClickHouseReader:
    """The query functions over a pool; blocking, so call them from a worker thread."""

    def __init__(self, pool: ClientPool) -> None:
        self.pool = pool

    def user_by_username(self, username: str) -> User | None:
        with self.pool.client() as client:
            return user_by_username(client, username)

    def user_by_id(self, user_id: int) -> User | None:
        with self.pool.client() as client:
            return user_by_id(client, user_id)

    def users_by_ids(self, user_ids: Iterable[int]) -> dict[int, User]:
        with self.pool.client() as client:
            return users_by_ids(client, user_ids)

    def calls(self, where: CallFilter) -> Iterator[Call]:
        """The calls one at a time, read in blocks from ClickHouse (a list of any length
        in bounded memory); the client is held until the iteration ends."""
        with self.pool.client() as client:
            yield from each_call(client, where)

    def query(self, read: Callable[Concatenate[Client, P], T], *args: P.args,
              **kwargs: P.kwargs) -> T:
        """Any read function of projections/ that takes a client first."""
        with self.pool.client() as client:
            return read(client, *args, **kwargs)

    def close(self) -> None:
        self.pool.close()
