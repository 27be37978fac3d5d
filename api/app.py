"""The Starlette application speaking the MOR XML API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial

from clickhouse_driver import Client
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Route

from api import (
    access,
    active_calls,
    billing_pages,
    call_list,
    call_quality,
    callback,
    callflow,
    catalogue,
    devices,
    faxes,
    login,
    main_page,
    methods,
    missed_calls,
    personal,
    phonebook,
    rates,
    rejected_calls,
    session,
    user_stats,
)
from api.appender import KafkaAppender
from api.context import ApiContext, Appender, Reader
from api.errors import http_error, mor_endpoint, unexpected_error
from api.user_calls import user_calls_get
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
    appender: Appender | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Starlette:
    """The API app.

    By default the lifespan opens a pool of ClickHouse clients made by
    `client_factory` (a client for `settings.clickhouse` when None) and a Kafka
    producer for the events of commands. Tests may pass `reader` (and `appender`)
    instead, which are used as they are and need no lifespan.
    """
    access.allowed_networks(settings.api_allowed_ips)  # an invalid entry fails here
    context = ApiContext(settings=settings, clock=clock, reader=reader, appender=appender)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if reader is not None:
            yield
            return
        factory = client_factory or partial(connect, settings.clickhouse)
        owned = ClickHouseReader(ClientPool(factory))
        kafka = KafkaAppender(settings)
        context.reader, context.appender = owned, kafka
        try:
            yield
        finally:
            context.reader = context.appender = None
            owned.close()
            await kafka.stop()

    user_calls = mor_endpoint(partial(user_calls_get, context=context))
    routes = [
        Route("/billing/api/user_calls_get", user_calls, methods=METHODS),
        Route("/billing/api/user_calls", user_calls, methods=METHODS),
        *login.routes(context),
        *phonebook.routes(context),
        *rates.routes(context),
        *billing_pages.routes(context),
        *callflow.routes(context),
        *personal.routes(context),
        *callback.routes(context),
        *devices.routes(context),
        *faxes.routes(context),
        *main_page.routes(context),
        *call_list.routes(context),
        *active_calls.routes(context),
        *missed_calls.routes(context),
        *user_stats.routes(context),
        *call_quality.routes(context),
        *rejected_calls.routes(context),
        *methods.routes(context, catalogue.METHODS),
    ]
    sessions = Middleware(SessionMiddleware, secret_key=settings.session_key,
                          session_cookie=session.COOKIE, max_age=session.MAX_AGE,
                          same_site="lax")
    return Starlette(
        routes=routes,
        middleware=[sessions],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: unexpected_error},
        max_body_size=MAX_BODY_SIZE,
    )
