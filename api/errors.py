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
    BAD_LOGIN = "bad_login"
    FEATURE_DISABLED = "feature_disabled"
    DONT_BE_SO_SMART = "dont_be_so_smart"
    RATE_NOT_FOUND = "rate_not_found"
    NO_TARIFFS = "no_tariffs"
    NO_TARIFF = "no_tariff"
    NO_CURRENCY = "no_currency"
    PAYMENT_NOT_SAVED = "payment_not_saved"
    BALANCE_NOT_UPDATED = "balance_not_updated"
    CREDIT_NOTE_NOT_CREATED = "credit_note_not_created"
    NO_SUBSCRIPTIONS = "no_subscriptions"
    NO_INVOICES = "no_invoices"
    INVOICES_USER_NOT_FOUND = "invoices_user_not_found"
    PROVIDER_NOT_FOUND = "provider_not_found"
    TERMINATOR_NOT_FOUND = "terminator_not_found"
    USER_ID_EMPTY = "user_id_empty"
    DEVICE_TYPE_INVALID = "device_type_invalid"
    DEVICE_GROUP_INVALID = "device_group_invalid"
    PIN_USED = "pin_used"
    PIN_NOT_NUMERIC = "pin_not_numeric"
    DEVICE_NOT_CREATED = "device_not_created"
    CLI_NOT_NUMERIC = "cli_not_numeric"
    CLI_EXISTS = "cli_exists"
    IVR_NOT_FOUND = "ivr_not_found"
    DID_EXISTS = "did_exists"
    INVALID_DID = "invalid_did"
    NOT_AUTHORIZED_DIDS = "not_authorized_dids"
    NO_PHONEBOOKS = "no_phonebooks"
    PHONEBOOK_NOT_FOUND = "phonebook_not_found"
    USER_NOT_UPDATED = "user_not_updated"  # user_details_update (api/users.py)
    TARIFF_NOT_FOUND = "tariff_not_found"
    NO_EDIT_PERMISSION = "no_edit_permission"
    USERNAME_TAKEN = "username_taken"
    REGISTRATION_DISABLED = "registration_disabled"  # user_register (api/registration.py)
    PASSWORDS_DIFFER = "passwords_differ"
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
    # the methods of research/mor_api.md (issue 7), as MOR writes them
    ErrorKind.BAD_LOGIN: "Bad login",
    ErrorKind.FEATURE_DISABLED: "Feature disabled",
    ErrorKind.DONT_BE_SO_SMART: "Dont be so smart",
    ErrorKind.RATE_NOT_FOUND: "Rate was not found",
    ErrorKind.NO_TARIFFS: "No Tariffs found",
    ErrorKind.NO_TARIFF: "No tariff found",
    ErrorKind.NO_CURRENCY: "No currency",
    ErrorKind.PAYMENT_NOT_SAVED: "Payment was not saved",
    ErrorKind.BALANCE_NOT_UPDATED: "User balance not updated",
    ErrorKind.CREDIT_NOTE_NOT_CREATED: "Credit note was not created",
    ErrorKind.NO_SUBSCRIPTIONS: "No Subscriptions found",
    ErrorKind.NO_INVOICES: "No invoices found",
    ErrorKind.INVOICES_USER_NOT_FOUND: "user not found",  # invoices_get's, lower case
    ErrorKind.PROVIDER_NOT_FOUND: "Provider was not found",
    ErrorKind.TERMINATOR_NOT_FOUND: "Terminator was not found",
    ErrorKind.USER_ID_EMPTY: "user_id is empty",
    ErrorKind.DEVICE_TYPE_INVALID: "Device_type_invalid",
    ErrorKind.DEVICE_GROUP_INVALID: "Device_group_invalid",
    ErrorKind.PIN_USED: "Pin_is_already_used",
    ErrorKind.PIN_NOT_NUMERIC: "Pin_must_be_numeric",
    ErrorKind.DEVICE_NOT_CREATED: "Device was not created",
    ErrorKind.CLI_NOT_NUMERIC: "CLI must be numeric",
    ErrorKind.CLI_EXISTS: "CLI already exists",
    ErrorKind.IVR_NOT_FOUND: "IVR was not found",
    ErrorKind.DID_EXISTS: "DID already exists",
    ErrorKind.INVALID_DID: "Invalid DID",
    ErrorKind.NOT_AUTHORIZED_DIDS: "You are not authorized to manage DIDs",
    ErrorKind.NO_PHONEBOOKS: "No Phonebooks found",
    ErrorKind.PHONEBOOK_NOT_FOUND: "Phonebook was not found",
    ErrorKind.USER_NOT_UPDATED: "User was not updated",
    ErrorKind.TARIFF_NOT_FOUND: "Tariff not found",
    ErrorKind.NO_EDIT_PERMISSION: "You have no editing permission",
    ErrorKind.USERNAME_TAKEN: "Such username is already taken",
    ErrorKind.REGISTRATION_DISABLED: "Registration over API is disabled",
    ErrorKind.PASSWORDS_DIFFER: "Passwords do not match",  # cdrflow's (MOR documents none)
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
