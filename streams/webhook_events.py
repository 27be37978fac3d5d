"""Webhook events: where a user's or a device's "Call End" webhook posts (docs/webhooks.md).

`call_end_webhook_set` {user_id, device_id, url, set_ms}, keyed by the user id on
account-events. device_id 0 means every device of the user; a device's own URL wins
over its user's. An empty url removes the setting. MOR's device field is
`webhook_url_for_call_end`; like MOR, a URL must start with http:// or https://.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rating.fields import integer, text

CALL_END_SET = "call_end_webhook_set"
MAX_URL = 1000


@dataclass(frozen=True, slots=True)
class CallEndWebhook:
    user_id: int
    device_id: int  # 0: every device of the user
    url: str  # "": removed
    set_ms: int


def check_url(url: str) -> str:
    """The URL, or ValueError saying why it cannot be a webhook's."""
    if len(url) > MAX_URL:
        raise ValueError(f"{CALL_END_SET}: url is longer than {MAX_URL} characters")
    if url == "":
        return url
    if not url.isascii() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError(f"{CALL_END_SET}: url must be ASCII without spaces or control "
                         "characters (percent-encode the rest, punycode the host)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"{CALL_END_SET}: url is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{CALL_END_SET}: url must start with http:// or https:// and "
                         "name a host")
    if parts.fragment:
        raise ValueError(f"{CALL_END_SET}: url must not have a #fragment")
    return url


def call_end_webhook_set(event: dict[str, Any]) -> CallEndWebhook:
    return CallEndWebhook(integer(event, "user_id"), integer(event, "device_id"),
                          check_url(text(event, "url")), integer(event, "set_ms"))


PARSERS = {CALL_END_SET: call_end_webhook_set}
