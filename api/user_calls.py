"""user_calls_get (alias user_calls): one user's calls in a period, as MOR lists them.

Checks run in MOR's order: the access rules of `api.access.api_caller` (API allowed,
client IP, the caller `u`, the hash, the permission group), the shown user `s_user`
(existence and visibility), then cdrflow's validation of the other parameters.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import IO, TypeVar
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.access import api_caller, can_see
from api.calls_page import (
    CALLS_CLOSE,
    CALLS_OPEN,
    NO_CALLS,
    TAIL,
    CallsPage,
    Shown,
    display_names,
    render_call,
    render_head,
)
from api.context import ApiContext, Reader
from api.errors import MEDIA_TYPE, ApiError, ErrorKind
from api.params import MAX_TIMESTAMP, UINT64_MAX, Params, read_params
from api.xml import moment
from projections.queries import ORDER_COLUMNS, CallFilter, User
from rating.disposition import DISPOSITIONS

HASHED = (
    "s_user", "period_start", "period_end", "s_call_type", "s_device", "s_provider", "s_hgc",
    "s_destination", "s_did", "order_by", "order_desc", "only_did",
)  # fmt: skip

# MOR's s_call_type values and the dispositions they select (None: every call)
CALL_TYPES = {"all": None, **{name.lower(): name for name in DISPOSITIONS}}
_DIGITS = re.compile(r"[0-9]+")
SPOOL_BYTES = 4 * 1024 * 1024  # a page's rendered calls kept in memory; beyond, a file
BATCH_CALLS = 200  # calls rendered before they are written to the spool together
CHUNK_BYTES = 256 * 1024  # the body is sent in parts of this size

T = TypeVar("T")


async def user_calls_get(request: Request, context: ApiContext) -> Response:
    settings = context.settings
    params = await read_params(request, allow_get=settings.allow_get_api)
    client_ip = request.client.host if request.client else None
    caller = await api_caller(context, params, "user_calls_get", HASHED, client_ip=client_ip)
    reader = context.read()

    target = await _shown_user(reader, caller, params.get("s_user"))
    zone = user_zone(target.timezone)
    where, shown = call_filter(params, target, context.clock())
    page = CallsPage(
        caller=caller,
        currency=target.currency,
        period_start=moment(datetime.fromtimestamp(where.start, UTC), zone),
        period_end=moment(datetime.fromtimestamp(where.end, UTC), zone),
        shown=shown,
        calls=(),
        zone=zone,
        users={target.user_id: target},
    )
    total, rows = await _blocking(spool_calls, reader, where, page)
    return StreamingResponse(_page_parts(page, total, rows), media_type=MEDIA_TYPE)


def spool_calls(reader: Reader, where: CallFilter, page: CallsPage) -> tuple[int, IO[bytes]]:
    """Render every call of the list into a spool (memory up to SPOOL_BYTES, then a
    temporary file), counting them: the count heads the page, so the list is read once,
    in bounded memory, and the count always matches the rows. Runs in a worker thread."""
    names = display_names(page.users)
    names.setdefault(0, "")  # no user: shown empty, never looked up
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")
    total = 0
    batch: list[str] = []
    try:
        for call in reader.calls(where):
            if call.user_id not in names or call.reseller_id not in names:
                _add_names(reader, names, {call.user_id, call.reseller_id} - names.keys())
            batch.append(render_call(call, page.zone, names))
            if len(batch) == BATCH_CALLS:
                spool.write("".join(batch).encode("utf-8"))
                batch.clear()
            total += 1
        spool.write("".join(batch).encode("utf-8"))
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return total, spool


def _add_names(reader: Reader, names: dict[int, str], user_ids: set[int]) -> None:
    """Names of a call's user and reseller, asked once each ("" for unknown users)."""
    found = reader.users_by_ids(user_ids)
    names.update(display_names(found))
    names.update(dict.fromkeys(user_ids - found.keys(), ""))


def _page_parts(page: CallsPage, total: int, rows: IO[bytes]) -> Iterator[bytes]:
    """The page in parts; Starlette runs this in a worker thread (the spool may be a
    file)."""
    try:
        if not total:
            yield f"{render_head(page, total)}{NO_CALLS}{TAIL}".encode()
            return
        yield f"{render_head(page, total)}{CALLS_OPEN}".encode()
        while chunk := rows.read(CHUNK_BYTES):
            yield chunk
        yield f"{CALLS_CLOSE}{TAIL}".encode()
    finally:
        rows.close()


async def _shown_user(reader: Reader, caller: User, s_user: str | None) -> User:
    """The user whose calls are listed, if the caller may see them (the caller's own calls
    need no second look-up: the caller was just read from the same table)."""
    user_id = _uint(s_user)
    if user_id is None:
        target = None
    elif user_id == caller.user_id:
        target = caller
    else:
        target = await _blocking(reader.user_by_id, user_id)
    if target is None or not can_see(caller, target):
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    return target


def call_filter(params: Params, target: User, now: datetime) -> tuple[CallFilter, Shown]:
    """Validate the listing parameters (in documented order) and apply the defaults."""
    zone = user_zone(target.timezone)
    today = now.astimezone(zone).date()
    start = _timestamp(params, "period_start", datetime.combine(today, time.min, zone))
    end = _timestamp(params, "period_end", datetime.combine(today, time(23, 59, 59), zone))

    call_type = params.get("s_call_type")
    if call_type is not None and call_type.lower() not in CALL_TYPES:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "s_call_type")
    device = _id_or_all(params, "s_device")
    provider = _id_or_all(params, "s_provider")
    hgc = _id_or_all(params, "s_hgc")
    destination = params.get("s_destination")
    did = params.get("s_did")
    if did is not None and did.lower() != "all" and not _DIGITS.fullmatch(did):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "s_did")
    order_by = params.get("order_by") or "time"
    if order_by not in ORDER_COLUMNS:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "order_by")
    order_desc = _flag(params, "order_desc")
    only_did = _flag(params, "only_did")

    where = CallFilter(
        user_id=target.user_id,
        start=start,
        end=end,
        disposition=CALL_TYPES[call_type.lower()] if call_type else None,
        device_id=device,
        provider_id=provider,
        hangup_cause=hgc,
        dst_prefix=destination,
        did=did if did is not None and did.lower() != "all" else None,
        only_did=only_did,
        order_by=order_by,
        order_desc=order_desc,
    )
    shown = Shown(
        user=params.get("s_user") or "",
        device=params.get("s_device") or "all",
        status=call_type or "all",
        provider=params.get("s_provider") or "all",
        hgc=params.get("s_hgc") or "all",
        did=did or "all",
    )
    return where, shown


@lru_cache(maxsize=512)
def user_zone(name: str) -> ZoneInfo:
    """The user's IANA time zone; UTC when empty or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            pass
    return ZoneInfo("UTC")


def _timestamp(params: Params, name: str, default: datetime) -> int:
    value = params.get(name)
    if value is None:
        return int(default.timestamp())
    seconds = _uint(value)
    if seconds is None or seconds > MAX_TIMESTAMP:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return seconds


def _id_or_all(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None or value.lower() == "all":
        return None
    number = _uint(value)
    if number is None:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return number


def _flag(params: Params, name: str) -> bool:
    value = params.get(name) or "0"
    if value not in ("0", "1"):
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value == "1"


def _uint(value: str | None) -> int | None:
    """A non-negative integer of ASCII digits that fits UInt64, else None."""
    if value is None or not _DIGITS.fullmatch(value) or len(value.lstrip("0")) > 20:
        return None
    number = int(value)
    return number if number <= UINT64_MAX else None


async def _blocking(func: Callable[..., T], *args: object) -> T:
    return await run_in_threadpool(func, *args)
