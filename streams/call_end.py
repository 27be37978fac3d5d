"""The pure parts of the "Call End" webhook (docs/webhooks.md): which URL a CDR goes to,
the request's query string, and the retry schedule.

No Kafka, HTTP or clock here: `streams.webhooks` feeds these with records and times.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

from rating.cdr import Cdr
from streams.webhook_events import CallEndWebhook

FIRST_BACKOFF = 0.5  # seconds before the second attempt; doubled after each failure
FIRST_VERSION = 1  # re-rated CDRs (version 2 and up) are not posted again


class UrlBook:
    """Every `call_end_webhook_set` so far, in the order the topic holds them, so that
    both "the URL when this CDR was written" and "the URL now" can be answered."""

    def __init__(self) -> None:
        self._history: dict[tuple[int, int], tuple[list[int], list[str]]] = {}
        self.first_ms: int | None = None  # the earliest setting of a non-empty URL

    def apply(self, hook: CallEndWebhook) -> None:
        times, urls = self._history.setdefault((hook.user_id, hook.device_id), ([], []))
        at = max(hook.set_ms, times[-1]) if times else hook.set_ms  # never back in time
        times.append(at)
        urls.append(hook.url)
        if hook.url and (self.first_ms is None or at < self.first_ms):
            self.first_ms = at

    def url_at(self, user_id: int, device_id: int, at_ms: int) -> str:
        """The URL in force at `at_ms` ("" none): the device's own, else its user's."""
        return (self._at((user_id, device_id), at_ms) if device_id else "") \
            or self._at((user_id, 0), at_ms)

    def current(self, user_id: int, device_id: int) -> str:
        return self.url_at(user_id, device_id, 2**63)

    def _at(self, key: tuple[int, int], at_ms: int) -> str:
        found = self._history.get(key)
        if found is None:
            return ""
        times, urls = found
        index = bisect_right(times, at_ms)
        return urls[index - 1] if index else ""


def calldate(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms // 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _money(value: Decimal) -> str:
    return format(value, "f")


def call_params(cdr: Cdr) -> list[tuple[str, str]]:
    """The call's data as the query parameters of the POST, named after MOR's `calls`
    columns where MOR has one (times in UTC, money in the user's currency)."""
    return [
        ("calldate", calldate(cdr.start_ms)),
        ("clid", cdr.clid),
        ("src", cdr.src),
        ("dst", cdr.dst),
        ("duration", str(cdr.duration)),
        ("billsec", str(cdr.billsec)),
        ("disposition", cdr.disposition),
        ("hangupcause", str(cdr.hangup_cause)),
        ("uniqueid", cdr.uniqueid),
        ("src_device_id", str(cdr.device_id)),
        ("user_id", str(cdr.user_id)),
        ("prefix", cdr.prefix),
        ("user_rate", _money(cdr.user_rate)),
        ("user_billsec", str(cdr.user_billsec)),
        ("user_price", _money(cdr.user_price)),
        ("currency", cdr.currency),
        ("did", cdr.did),
        ("call_id", cdr.call_id),
        ("answer_time", calldate(cdr.answer_ms) if cdr.answer_ms else ""),
        ("end_time", calldate(cdr.end_ms)),
    ]


def request_url(url: str, params: list[tuple[str, str]]) -> str:
    """The configured URL with the parameters appended: after `?`, or after `&` when the
    URL has a query of its own (as MOR merges them). Percent-encoded UTF-8, `%20` for a
    space and `%2B` for a plus, so that every decoder reads the same values."""
    query = urlencode(params, quote_via=quote, safe="")
    if "?" not in url:
        return f"{url}?{query}"
    return url + query if url.endswith(("?", "&")) else f"{url}&{query}"


def backoff(maximum: float, first: float = FIRST_BACKOFF) -> Iterator[float]:
    """Seconds to wait after each failed attempt: `first`, doubling, at most `maximum`,
    for ever (a CDR is never skipped)."""
    delay = min(first, maximum)
    while True:
        yield delay
        delay = min(delay * 2, maximum)
