"""Page sessions: who is logged in, in a signed cookie (Starlette's SessionMiddleware).

The cookie holds the user id and a fingerprint of the user's password hash, so that a
password change ends every session of that user.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from api.context import ApiContext
from api.errors import Endpoint, mor_endpoint, xml_response
from api.pages import login_page
from projections.accounts import Credentials, credentials_by_id
from projections.queries import User

COOKIE = "cdrflow_session"
MAX_AGE = 8 * 3600  # seconds; a working day
PLEASE_LOG_IN = "Please log in"


class NotLoggedIn(Exception):
    """A page was asked for without a valid session."""


def start(request: Request, credentials: Credentials) -> None:
    request.session.clear()
    request.session.update({"user_id": credentials.user.user_id,
                            "fingerprint": fingerprint(credentials.password_hash)})


def end(request: Request) -> None:
    request.session.clear()


async def page_user(request: Request, context: ApiContext) -> User:
    """The logged-in user of a page request; raises NotLoggedIn."""
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        raise NotLoggedIn
    found = await context.query(credentials_by_id, user_id)
    if found is None or not hmac.compare_digest(
            fingerprint(found.password_hash), str(request.session.get("fingerprint", ""))):
        end(request)
        raise NotLoggedIn
    return found.user


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(f"session:{password_hash}".encode()).hexdigest()[:32]


PageHandler = Callable[[Request, ApiContext, User], Awaitable[Response]]


def page_endpoint(handler: PageHandler, context: ApiContext) -> Endpoint:
    """An endpoint for a page of a logged-in user; without a session the answer is the
    login page saying so (MOR's GUI sends the browser there)."""

    async def endpoint(request: Request) -> Response:
        try:
            user = await page_user(request, context)
        except NotLoggedIn:
            return xml_response(login_page(PLEASE_LOG_IN))
        return await handler(request, context, user)

    return mor_endpoint(endpoint)
