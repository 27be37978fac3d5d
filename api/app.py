"""The Starlette application speaking the MOR XML API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial

from clickhouse_driver import Client
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from api.errors import http_error, mor_endpoint, unexpected_error
from api.user_calls import ApiContext, Reader, user_calls_get
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.queries import ClickHouseReader, ClientPool

MAX_BODY_SIZE = 1024 * 1024
METHODS = ["GET", "POST"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    client_factory: Callable[[], Client] | None = None,
    *,
    reader: Reader | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Starlette:
    """The API app.

    By default the lifespan opens a pool of ClickHouse clients made by
    `client_factory` (a client for `settings.clickhouse` when None). Tests may
    pass `reader` instead, which is used as is and needs no lifespan.
    """
    context = ApiContext(settings=settings, clock=clock, reader=reader)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if reader is not None:
            yield
            return
        factory = client_factory or partial(connect, settings.clickhouse)
        owned = ClickHouseReader(ClientPool(factory))
        context.reader = owned
        try:
            yield
        finally:
            context.reader = None
            owned.close()

    user_calls = mor_endpoint(partial(user_calls_get, context=context))
    routes = [
        Route("/billing/api/user_calls_get", user_calls, methods=METHODS),
        Route("/billing/api/user_calls", user_calls, methods=METHODS),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: unexpected_error},
        max_body_size=MAX_BODY_SIZE,
    )
