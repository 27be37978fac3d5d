"""MOR API methods declared once: name, pre-X4 aliases, hashed parameters, who may call,
and the envelope their errors come in.

A method's handler is given a `MethodCall` once the rules of `api.access.api_caller`
passed (API allowed, client IP, the caller `u`, the hash in documented or request order,
the permission group) and the caller's role is one the method admits. It returns the XML
document (a str) or a Response. Every `ApiError` it raises is answered HTTP 200 in the
method's own envelope (`Envelope`), as MOR does per method (docs/api.md, "Envelopes").

    METHODS = [MorMethod("tariffs_get", tariffs_get, hashed=(), aliases=()), ...]

`routes(context, METHODS)` gives a Route for `/billing/api/<name>` and for each alias.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import api_caller
from api.context import ApiContext
from api.errors import ApiError, ErrorKind, xml_response
from api.params import Params, id_param, read_params, seconds_param
from api.xml import DECLARATION, escape
from projections.queries import User

log = logging.getLogger(__name__)

ROLES = frozenset({"admin", "reseller", "accountant", "user"})
MANAGERS = frozenset({"admin", "reseller"})  # who may change other users' data
_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,12})?")


class Envelope(Enum):
    """How a method's errors are wrapped (the research notes' four shapes)."""

    BARE = "<error>{}</error>\n"
    PAGE = "<page>\n  <error>{}</error>\n</page>\n"
    STATUS = "<status>\n  <error>{}</error>\n</status>\n"
    PAGE_STATUS = "<page>\n  <status>\n    <error>{}</error>\n  </status>\n</page>\n"
    CAPITALISED = "<Error>{}</Error>\n"  # invoices_get's legacy shape

    def document(self, message: str) -> str:
        return DECLARATION + self.value.format(escape(message))


@dataclass(frozen=True)
class MethodCall:
    """One call of a method: what the handler needs, and the parameter readers every
    method shares (each raises ApiError naming the parameter)."""

    context: ApiContext
    request: Request
    params: Params
    caller: User
    method: MorMethod

    def now(self) -> datetime:
        return self.context.clock()

    def text(self, name: str, default: str = "") -> str:
        return self.params.get(name) or default

    def identifier(self, name: str, error: ErrorKind | None = None) -> int | None:
        """An id (ASCII digits, UInt64) or None when absent; else `error` (default
        `Invalid parameter: NAME`)."""
        return id_param(self.params, name, error or ErrorKind.INVALID_PARAMETER)

    def required_id(self, name: str, error: ErrorKind | None = None) -> int:
        found = self.identifier(name, error)
        if found is None:
            raise ApiError(error or ErrorKind.INVALID_PARAMETER, name)
        return found

    def seconds(self, name: str) -> int | None:
        """Unix seconds (digits up to 9999-12-30) or None when absent."""
        return seconds_param(self.params, name)

    def flag(self, name: str, default: bool = False) -> bool:
        """`0`/`1` (absent: `default`)."""
        value = self.params.get(name)
        if value is None:
            return default
        if value not in ("0", "1"):
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        return value == "1"

    def amount(self, name: str) -> Decimal | None:
        """A plain decimal number (`-12.5`, at most 15 integer and 12 fraction digits;
        no exponent, no thousands separator) or None when absent."""
        value = self.params.get(name)
        if value is None:
            return None
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise ApiError(ErrorKind.INVALID_PARAMETER, name) from None


Handler = Callable[[MethodCall], Awaitable[str | Response]]
ExtraHashes = Callable[[Params, User, str], Sequence[str]]


@dataclass(frozen=True)
class MorMethod:
    """One MOR API method.

    `hashed`: the hashed parameters in documented order (`()`: hash = SHA1(secret)).
    `roles`: the caller roles admitted; any other is refused with `refused`.
    `unknown_caller`: the refusal of a missing or unknown `u` (MOR: mostly `Access Denied`).
    `write`: the call changes data (permission groups grant read and write apart).
    `extra_hashes(params, caller, secret)`: more hashes accepted besides the rule's.
    `uniform_error`: the one error every failure is answered with (system_version_get).
    `authenticated=False`: the handler authenticates itself (`MethodCall.caller` is then
    a placeholder with user_id -1; used by the device-credential balance methods).
    """

    name: str
    handler: Handler
    hashed: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    roles: frozenset[str] = ROLES
    refused: ErrorKind = ErrorKind.NOT_AUTHORIZED
    unknown_caller: ErrorKind = ErrorKind.ACCESS_DENIED  # `u` missing or unknown
    write: bool = False
    envelope: Envelope = Envelope.BARE
    extra_hashes: ExtraHashes | None = None
    authenticated: bool = True
    uniform_error: ErrorKind | None = None  # one text for every failure (system_version_get)
    path_suffix: str = ""  # e.g. "/{username}" for credentials carried in the path
    names: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", (self.name, *self.aliases))


NOBODY = User(user_id=-1, username="", first_name="", last_name="", role="", owner_id=-1,
              currency="", timezone="")


async def answer(method: MorMethod, context: ApiContext, request: Request) -> Response:
    """Run one method: the shared rules, the role, then the handler; errors in the
    method's envelope."""
    try:
        params = await read_params(request, allow_get=context.settings.allow_get_api)
        caller = NOBODY
        if method.authenticated:
            client_ip = request.client.host if request.client else None
            more, secret = method.extra_hashes, context.settings.api_secret

            def extra(user: User) -> Sequence[str]:
                return more(params, user, secret) if more is not None else ()

            caller = await api_caller(context, params, method.name, method.hashed,
                                      write=method.write, client_ip=client_ip,
                                      extra_hashes=extra, unknown=method.unknown_caller)
            if caller.role not in method.roles:
                raise ApiError(method.refused)
        result = await method.handler(MethodCall(context, request, params, caller, method))
    except ApiError as exc:
        shown = ApiError(method.uniform_error) if method.uniform_error else exc
        return xml_response(method.envelope.document(shown.message))
    except HTTPException:
        raise
    except Exception:
        log.exception("api: %s %s failed", request.method, request.url.path)
        return xml_response(method.envelope.document(ApiError(ErrorKind.INTERNAL).message))
    return xml_response(result) if isinstance(result, str) else result


def routes(context: ApiContext, methods: Iterable[MorMethod]) -> list[Route]:
    """`/billing/api/<name>` for each method's name and aliases."""
    found = []
    for method in methods:
        endpoint = _endpoint(method, context)
        for name in method.names:
            found.append(Route(f"/billing/api/{name}{method.path_suffix}", endpoint,
                               methods=["GET", "POST"]))
    return found


def _endpoint(method: MorMethod, context: ApiContext) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await answer(method, context, request)

    return endpoint
