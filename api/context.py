"""What every endpoint is given: settings, the clock, the projections and the event log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from clickhouse_driver import Client
from starlette.concurrency import run_in_threadpool

from cdrflow.settings import Settings
from projections.queries import Call, CallFilter, User

log = logging.getLogger(__name__)

PROJECTION_WAIT = 5.0  # seconds a command waits to read its own write (a sink batch is 0.5)
P = ParamSpec("P")
T = TypeVar("T")


class Reader(Protocol):
    """What the API reads; projections.queries.ClickHouseReader in production."""

    def user_by_username(self, username: str) -> User | None: ...
    def user_by_id(self, user_id: int) -> User | None: ...
    def users_by_ids(self, user_ids: Iterable[int]) -> dict[int, User]: ...
    def calls(self, where: CallFilter) -> Iterable[Call]: ...
    def query(self, read: Callable[Concatenate[Client, P], T], *args: P.args,
              **kwargs: P.kwargs) -> T: ...


class Appender(Protocol):
    """Appends events to the log; api.appender.KafkaAppender in production. Returns the
    event's offset in its partition (None when the log does not tell)."""

    async def append(self, topic: str, key: bytes, value: bytes) -> int | None: ...


@dataclass
class ApiContext:
    settings: Settings
    clock: Callable[[], datetime]
    reader: Reader | None = None
    appender: Appender | None = None

    def read(self) -> Reader:
        if self.reader is None:
            raise RuntimeError("the API has no reader (lifespan not run?)")
        return self.reader

    async def query(self, read: Callable[Concatenate[Client, P], T], *args: P.args,
                    **kwargs: P.kwargs) -> T:
        """Run one projections read function with a pooled client, off the event loop."""
        reader = self.read()

        def run() -> T:
            return reader.query(read, *args, **kwargs)

        return await run_in_threadpool(run)

    async def blocking(self, func: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(func, *args)

    async def append(self, topic: str, key: bytes, value: bytes) -> int | None:
        if self.appender is None:
            raise RuntimeError("the API has no appender (lifespan not run?)")
        return await self.appender.append(topic, key, value)

    async def projected(self, version: Callable[[Client, int], int], key: int,
                        offset: int | None, timeout: float = PROJECTION_WAIT) -> bool:
        """Wait until a projection holds the event appended at `offset` (`version(client,
        key)`: the highest version, i.e. event offset, of the key's rows), so that a
        command that reads the projection to build its event (a whole account) builds on
        this one; False after `timeout` seconds (the sink is down or behind) or when the
        offset is unknown."""
        if offset is None:
            return False
        deadline = time.monotonic() + timeout
        while await self.query(version, key) < offset:
            if time.monotonic() >= deadline:
                log.warning("api: the projection did not show offset %d of key %d within "
                            "%.0f s", offset, key, timeout)
                return False
            await asyncio.sleep(0.05)
        return True
