"""Text helpers for MOR XML: the one escaping function and the value formats.

Pages are rendered with f-string templates; every piece of text that reaches a
template goes through `escape` (or is produced by `money`, `number` or `moment`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from rating.disposition import ANSWERED, BUSY, FAILED, NO_ANSWER

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# XML 1.0 forbids C0 controls other than tab, LF and CR, lone surrogates and U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile('[&<>"]')
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def escape(value: object) -> str:
    """Text safe inside an element or a double-quoted attribute.

    Escapes & < > " and drops characters XML 1.0 cannot carry. Bytes (which
    clickhouse-driver returns for strings that are not valid UTF-8) are decoded
    with replacement characters.
    """
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    else:
        text = value if isinstance(value, str) else str(value)
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if _SPECIAL.search(text):
        text = _SPECIAL.sub(lambda match: _ENTITIES[match.group()], text)
    return text


def element(name: str, value: object) -> str:
    """`<name>value</name>` with the value escaped; an empty value gives `<name></name>`."""
    return f"<{name}>{escape(value)}</{name}>"


def error_document(message: str) -> str:
    """The MOR error envelope."""
    return f"{DECLARATION}{element('error', message)}\n"


def money(value: Decimal) -> str:
    """A price, rate or profit as MOR shows it: the exact value, at least one decimal.

    Trailing zeros go, exponents never appear: Decimal("2.000000") -> "2.0",
    Decimal("0.083333") -> "0.083333", Decimal("1E+2") -> "100.0".
    """
    if not value.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    if value.is_zero():
        return "0.0"
    text = format(value, "f")
    if "." not in text:
        return f"{text}.0"
    text = text.rstrip("0")
    return f"{text}0" if text.endswith(".") else text


def duration(seconds: int) -> str:
    """A duration as MOR's pages show it, `HH:MM:SS` (hours past 99 keep their digits):
    36 -> 00:00:36, 360001 -> 100:00:01."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


# MOR's words for the dispositions, as its call pages show a hangup cause
HANGUP_WORDS = {ANSWERED: "Answered", NO_ANSWER: "No Answer", BUSY: "Busy", FAILED: "Failed"}


def hangup_word(disposition: str) -> str:
    return HANGUP_WORDS.get(disposition, disposition.title())


def seconds(value: int) -> str:
    """A whole number of seconds with one decimal, as `nice_billsec` shows it: 20 -> "20.0"."""
    return f"{int(value)}.0"


def moment_ms(epoch_ms: int, zone: tzinfo) -> str:
    """`moment` of an epoch in milliseconds (the events' times), to the second."""
    return moment(datetime.fromtimestamp(epoch_ms // 1000, tz=UTC), zone)


def moment(when: datetime, zone: tzinfo) -> str:
    """`YYYY-MM-DD HH:MM:SS` in the given time zone (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(zone)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )


@dataclass(frozen=True, slots=True)
class Node:
    """An element of a rendered document: text (escaped when rendered) or child nodes,
    and attributes in the given order."""

    name: str
    content: object = ""  # a str/number/Decimal-as-text, or a list/tuple of Nodes
    attrs: tuple[tuple[str, object], ...] = ()


def render(root: Node, indent: str = "  ") -> str:
    """The document: the declaration, then `root` with each child on its own line,
    indented; an element without content is `<name></name>`."""
    lines: list[str] = [DECLARATION.rstrip("\n")]
    _render(root, 0, indent, lines)
    return "\n".join(lines) + "\n"


def _render(node: Node, depth: int, indent: str, lines: list[str]) -> None:
    attrs = "".join(f' {name}="{escape(value)}"' for name, value in node.attrs)
    pad = indent * depth
    content = node.content
    if isinstance(content, (list, tuple)):
        if not content:
            lines.append(f"{pad}<{node.name}{attrs}></{node.name}>")
            return
        lines.append(f"{pad}<{node.name}{attrs}>")
        for child in content:
            _render(child, depth + 1, indent, lines)
        lines.append(f"{pad}</{node.name}>")
        return
    lines.append(f"{pad}<{node.name}{attrs}>{escape(content)}</{node.name}>")
