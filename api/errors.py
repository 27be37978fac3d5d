"""Every error the API can answer, and the one place that turns exceptions into MOR XML.

API errors are answered with HTTP 200 and `<error>TEXT</error>`, as MOR does. No
stack trace ever reaches a body: unexpected exceptions are logged and answered
with `<error>Internal error</error>`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import Enum

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from api.xml import error_document

log = logging.getLogger(__name__)

MEDIA_TYPE = "text/xml"


class ErrorKind(Enum):
    API_DISABLED = "api_disabled"
    GET_DISABLED = "get_disabled"
    ACCESS_DENIED = "access_denied"
    INCORRECT_HASH = "incorrect_hash"
    NOT_AUTHORIZED = "not_authorized"
    USER_NOT_FOUND = "user_not_found"
    DEVICE_NOT_FOUND = "device_not_found"
    CALLFLOW_NOT_AUTHORISED = "callflow_not_authorised"
    CALLFLOW_STATE_NOT_FOUND = "callflow_state_not_found"
    CALLFLOW_ACTION_NOT_FOUND = "callflow_action_not_found"
    MISSING_FORWARD = "missing_forward"
    LOCAL_DEVICE_NOT_FOUND = "local_device_not_found"
    EXTERNAL_NUMBER_NOT_FOUND = "external_number_not_found"
    FAX_DEVICE_NOT_FOUND = "fax_device_not_found"
    DID_NOT_FOUND = "did_not_found"
    INVALID_PARAMETER = "invalid_parameter"
    INTERNAL = "internal"


# MOR's own texts first; the last two are cdrflow's (MOR documents none).
MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.API_DISABLED: "API Requests are disabled",
    ErrorKind.GET_DISABLED: "GET Requests are disabled",
    ErrorKind.ACCESS_DENIED: "Access Denied",
    ErrorKind.INCORRECT_HASH: "Incorrect hash",
    ErrorKind.NOT_AUTHORIZED: "You are not authorized to use this functionality",
    ErrorKind.USER_NOT_FOUND: "User was not found",
    ErrorKind.DEVICE_NOT_FOUND: "Device was not found",
    # device_callflow_update spells it "authorised" (NOT_AUTHORIZED: the API overview's)
    ErrorKind.CALLFLOW_NOT_AUTHORISED: "You are not authorised to use this functionality",
    ErrorKind.CALLFLOW_STATE_NOT_FOUND: "Callflow state was not found",
    ErrorKind.CALLFLOW_ACTION_NOT_FOUND: "Callflow action was not found",
    ErrorKind.MISSING_FORWARD: "Missing forward parameters",
    ErrorKind.LOCAL_DEVICE_NOT_FOUND: "Local device was not found",
    ErrorKind.EXTERNAL_NUMBER_NOT_FOUND: "External number was not found",
    ErrorKind.FAX_DEVICE_NOT_FOUND: "FAX device was not found",
    ErrorKind.DID_NOT_FOUND: "DID was not found",
    ErrorKind.INVALID_PARAMETER: "Invalid parameter: {name}",
    ErrorKind.INTERNAL: "Internal error",
}


class ApiError(Exception):
    """A refusal the client should see as `<error>…</error>`."""

    def __init__(self, kind: ErrorKind, name: str = "") -> None:
        self.kind = kind
        self.name = name
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return MESSAGES[self.kind].format(name=self.name)


def xml_response(document: str, status_code: int = 200) -> Response:
    """A MOR XML document; Starlette adds `; charset=utf-8` to text/* types."""
    return Response(document.encode("utf-8"), status_code=status_code, media_type=MEDIA_TYPE)


def error_response(kind: ErrorKind, name: str = "", status_code: int = 200) -> Response:
    return xml_response(error_document(ApiError(kind, name).message), status_code)


Endpoint = Callable[[Request], Awaitable[Response]]


def mor_endpoint(handler: Endpoint) -> Endpoint:
    """Wrap an endpoint so every failure becomes a MOR error answer with HTTP 200.

    HTTP-level errors (413 from the body limit) pass through to `http_error`.
    """

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return xml_response(error_document(exc.message))
        except HTTPException:
            raise
        except Exception:
            log.exception("api: %s %s failed", request.method, request.url.path)
            return error_response(ErrorKind.INTERNAL)

    return endpoint


async def http_error(request: Request, exc: Exception) -> Response:
    """404, 405, 413 and the like: the MOR error envelope, the HTTP status kept."""
    if not isinstance(exc, HTTPException):  # pragma: no cover - Starlette passes HTTPException
        return await unexpected_error(request, exc)
    headers = exc.headers or {}
    response = xml_response(error_document(exc.detail), exc.status_code)
    response.headers.update(headers)
    return response


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Backstop for exceptions raised outside endpoints (middleware, routing)."""
    log.error("api: %s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(ErrorKind.INTERNAL)
