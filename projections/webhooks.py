"""The `call_end_webhooks` table: the Call End webhook URL of each user and device
(docs/webhooks.md), and the read of the URL a device's calls are posted to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client

from streams.webhook_events import CallEndWebhook

TABLE = "call_end_webhooks"
COLUMNS = ("user_id", "device_id", "url", "set", "version")


def rows(hook: CallEndWebhook, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (hook.user_id, hook.device_id, hook.url,
                  datetime.fromtimestamp(hook.set_ms // 1000, tz=UTC), version)


def call_end_url(client: Client, user_id: int, device_id: int) -> str:
    """The URL the device's calls are posted to now ("" none): MOR's
    `webhook_url_for_call_end`. The device's own URL wins over its user's."""
    found = dict(client.execute(
        f"SELECT device_id, url FROM {TABLE} FINAL "
        "WHERE user_id = %(user_id)s AND device_id IN %(devices)s",
        {"user_id": user_id, "devices": (0, device_id)}))
    return str(found.get(device_id, "") if device_id else "") or str(found.get(0, ""))
