"""Logging in and out: `/billing/api/login` (u, p) opens a page session; the login form.

MOR's texts: `Succesfully logged in` (sic, as the page spec writes it), `Login failed`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import session
from api.access import api_gate
from api.context import ApiContext
from api.errors import ApiError, Endpoint, mor_endpoint, xml_response
from api.pages import action, login_page
from api.params import read_params
from cdrflow.passwords import hash_password, password_matches
from projections.accounts import credentials_by_username

LOGGED_IN = "Succesfully logged in"
LOGIN_FAILED = "Login failed"
LOGGED_OUT = "Successfully logged out"


async def login(request: Request, context: ApiContext) -> Response:
    params = await read_params(request, allow_get=context.settings.allow_get_api)
    try:
        api_gate(context, request.client.host if request.client else None)
    except ApiError as exc:
        return xml_response(action("login", False, exc.message))
    username, password = params.get("u") or "", params.get("p") or ""
    found = await context.query(credentials_by_username, username) if username else None
    stored = found.password_hash if found is not None and found.password_hash else _decoy()
    # the hash is checked even for an unknown user, so the time taken tells nothing
    matches = await context.blocking(password_matches, password, stored)
    if found is None or not found.password_hash or not matches:
        return xml_response(action("login", False, LOGIN_FAILED))
    session.start(request, found)
    return xml_response(action("login", True, LOGGED_IN))


async def logout(request: Request, context: ApiContext) -> Response:
    session.end(request)
    return xml_response(action("logout", True, LOGGED_OUT))


async def login_form(request: Request, context: ApiContext) -> Response:
    return xml_response(login_page())


@lru_cache(maxsize=1)
def _decoy() -> str:
    return hash_password("decoy: no user has this password")


def routes(context: ApiContext) -> list[Route]:
    def bind(handler: Callable[[Request, ApiContext], Awaitable[Response]]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await handler(request, context)

        return mor_endpoint(endpoint)

    both = ["GET", "POST"]
    return [
        Route("/billing/api/login", bind(login), methods=both),
        Route("/billing/api/user_login", bind(login), methods=both),
        Route("/billing/api/logout", bind(logout), methods=both),
        Route("/billing/api/user_logout", bind(logout), methods=both),
        Route("/callc/login", bind(login_form), methods=both),
        Route("/callc/logout", bind(logout), methods=both),
    ]
