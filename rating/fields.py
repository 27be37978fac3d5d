"""Checked reads of fields from decoded JSON events (ValueError says what is wrong)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

REQUIRED: Any = object()
MAX_INT = 2**63


def text(data: dict[str, Any], name: str, default: Any = REQUIRED) -> str:
    value = data.get(name, default)
    if value is REQUIRED:
        raise ValueError(f"field {name} is missing")
    if not isinstance(value, str):
        raise ValueError(f"field {name} must be a string")
    return value


def integer(data: dict[str, Any], name: str, default: Any = REQUIRED) -> int:
    value = data.get(name, default)
    if value is REQUIRED:
        raise ValueError(f"field {name} is missing")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < MAX_INT:
        raise ValueError(f"field {name} must be a non-negative integer below 2**63")
    return value


def optional_integer(data: dict[str, Any], name: str) -> int | None:
    return None if data.get(name) is None else integer(data, name)


def money(data: dict[str, Any], name: str, default: Any = REQUIRED) -> Decimal:
    value = text(data, name, default)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"field {name} is not a decimal number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"field {name} must be finite")
    return amount


def flag(data: dict[str, Any], name: str, default: bool = False) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"field {name} must be true or false")
    return value


def objects(data: dict[str, Any], name: str, default: Any = REQUIRED) -> list[dict[str, Any]]:
    value = data.get(name, default)
    if value is REQUIRED:
        raise ValueError(f"field {name} is missing")
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"field {name} must be a list of objects")
    return value
