"""Dead-letter records: the original bytes, where they came from, and why."""

from __future__ import annotations

import base64
from typing import Any

import orjson

DEAD_LETTER_SCHEMA = "cdrflow.dead-letter/1"


def json_object(raw: bytes | None, what: str) -> dict[str, Any]:
    """A record's value as a JSON object; ValueError (a dead-letter reason) otherwise."""
    data = orjson.loads(raw or b"null")  # JSONDecodeError is a ValueError
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object")
    return data


def dead_letter(reason: str, topic: str, partition: int, offset: int,
                key: bytes | None, value: bytes | None, **extra: Any) -> tuple[bytes, bytes]:
    """(key, value) of a dead-letter record; the key is the source position."""
    record: dict[str, Any] = {
        "schema": DEAD_LETTER_SCHEMA,
        "reason": reason,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key": _text(key),
        "value": _text(value),
        "value_b64": base64.b64encode(value).decode() if value is not None else None,
    }
    record.update(extra)
    return f"{topic}:{partition}:{offset}".encode(), orjson.dumps(record)


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw[:4096].decode("utf-8", errors="replace")
