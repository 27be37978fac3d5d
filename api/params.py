"""Request parameters as MOR reads them: query string and form body, merged.

The body wins over the query string, and within one source the last value of a
repeated name wins. `order` keeps each name's first appearance (query string
first, then body), which the hash check needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from starlette.requests import Request

from api.errors import ApiError, ErrorKind

UINT64_MAX = 2**64 - 1  # the ids' column type, UInt64
# Latest accepted timestamp: 9999-12-30, so any time zone can still show it.
MAX_TIMESTAMP = 253_402_128_000
_DIGITS = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class Params:
    values: dict[str, str] = field(default_factory=dict)
    order: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, *sources: list[tuple[str, str]]) -> Params:
        values: dict[str, str] = {}
        order: dict[str, None] = {}
        for pairs in sources:
            for name, value in pairs:
                values[name] = value
                order.setdefault(name, None)
        return cls(values, tuple(order))

    def get(self, name: str) -> str | None:
        """The value, or None when absent or empty (an empty value means the default)."""
        value = self.values.get(name)
        return value if value else None


def id_param(params: Params, name: str, error: ErrorKind = ErrorKind.INVALID_PARAMETER,
             ) -> int | None:
    """An id (ASCII digits that fit UInt64) or None when absent or empty; anything else
    raises ApiError(`error`, name)."""
    value = params.get(name)
    if value is None:
        return None
    if not _DIGITS.fullmatch(value) or int(value) > UINT64_MAX:
        raise ApiError(error, name)
    return int(value)


def seconds_param(params: Params, name: str) -> int | None:
    """Epoch seconds (ASCII digits, up to MAX_TIMESTAMP) or None when absent or empty;
    anything else raises ApiError(INVALID_PARAMETER, name)."""
    value = params.get(name)
    if value is None:
        return None
    if not _DIGITS.fullmatch(value) or int(value) > MAX_TIMESTAMP:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return int(value)


async def read_params(request: Request, *, allow_get: bool) -> Params:
    """Parameters of a MOR API request; refuses GET unless allowed."""
    if request.method not in ("POST",) and not allow_get:
        raise ApiError(ErrorKind.GET_DISABLED)
    query = parse_qsl(
        request.scope.get("query_string", b"").decode("latin-1"),
        keep_blank_values=True,
    )
    body: list[tuple[str, str]] = []
    if request.method == "POST":
        body = form_pairs(request.headers.get("content-type", ""), await request.body())
    return Params.from_pairs(query, body)


def form_pairs(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """Fields of an urlencoded or multipart/form-data body (UTF-8; files are ignored)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return []
    if kind == "application/x-www-form-urlencoded":
        return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if kind == "multipart/form-data":
        return _multipart_pairs(content_type, body)
    return []


def _multipart_pairs(content_type: str, body: bytes) -> list[tuple[str, str]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    parts = message.get_payload() if message.is_multipart() else []
    pairs: list[tuple[str, str]] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, Message) or part.get_filename() is not None:
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        pairs.append((name, raw.decode("utf-8", "replace")))
    return pairs
