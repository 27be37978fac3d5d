"""The method catalogue's shared rules (api.methods), shown on system_version_get: the
canonical path and the alias, the hash over nothing, GET refused, one error text for
every failure, the error envelope, and the parameter readers."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from api.app import create_app
from api.catalogue import METHODS
from api.errors import ApiError, ErrorKind
from api.hash import mor_hash
from api.methods import Envelope, MethodCall, MorMethod
from api.params import Params
from cdrflow.settings import Settings
from projections.queries import User
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
ADMIN = User(0, "admin", "", "", "admin", 0, "EUR", "UTC")
VERSION = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           "<page>\n  <version>cdrflow 0.1.0</version>\n</page>\n")
DENIED = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          "<page>\n  <error>Access Denied</error>\n</page>\n")


def client(**settings: Any) -> TestClient:
    app = create_app(Settings(api_secret=SECRET).with_(**settings),
                     reader=UsersReader({0: ADMIN}))  # type: ignore[arg-type]
    return TestClient(app)


@pytest.mark.parametrize("name", ["system_version_get", "get_version"])
def test_version_by_name_and_alias(name: str) -> None:
    answer = client().post(f"/billing/api/{name}", data={"u": "admin",
                                                          "hash": mor_hash([], SECRET)})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    assert answer.text == VERSION


@pytest.mark.parametrize(("data", "settings", "method"), [
    ({"u": "admin", "hash": "0" * 40}, {}, "POST"),  # wrong hash
    ({"u": "nobody", "hash": mor_hash([], SECRET)}, {}, "POST"),  # unknown user
    ({"u": "admin", "hash": mor_hash([], SECRET)}, {"allow_api": False}, "POST"),
    ({"u": "admin", "hash": mor_hash([], SECRET)}, {}, "GET"),  # GET not allowed
])
def test_every_failure_is_access_denied(data: dict[str, str], settings: dict[str, Any],
                                        method: str) -> None:
    http = client(**settings)
    answer = (http.post("/billing/api/system_version_get", data=data) if method == "POST"
              else http.get("/billing/api/system_version_get", params=data))
    assert answer.status_code == 200
    assert answer.text == DENIED


def test_get_allowed() -> None:
    answer = client(allow_get_api=True).get(
        "/billing/api/get_version", params={"u": "admin", "hash": mor_hash([], SECRET)})
    assert answer.text == VERSION


@pytest.mark.parametrize(("envelope", "text"), [
    (Envelope.BARE, "<error>A &amp; B</error>\n"),
    (Envelope.PAGE, "<page>\n  <error>A &amp; B</error>\n</page>\n"),
    (Envelope.STATUS, "<status>\n  <error>A &amp; B</error>\n</status>\n"),
    (Envelope.PAGE_STATUS,
     "<page>\n  <status>\n    <error>A &amp; B</error>\n  </status>\n</page>\n"),
])
def test_envelopes(envelope: Envelope, text: str) -> None:
    assert envelope.document("A & B") == '<?xml version="1.0" encoding="UTF-8"?>\n' + text


def call(**values: str) -> MethodCall:
    context = SimpleNamespace(clock=lambda: datetime(2026, 11, 29, tzinfo=UTC))
    return MethodCall(context, None, Params(values, tuple(values)), ADMIN,  # type: ignore[arg-type]
                      None)  # type: ignore[arg-type]


def test_readers_accept() -> None:
    found = call(user_id="12", from_="1700000000", on="1", amount="-12.50")
    assert found.identifier("user_id") == 12
    assert found.identifier("absent") is None
    assert found.seconds("from_") == 1_700_000_000
    assert found.flag("on") is True and found.flag("absent", default=True) is True
    assert found.amount("amount") == Decimal("-12.50")
    assert found.amount("absent") is None


@pytest.mark.parametrize(("reader", "value"), [
    ("identifier", "-1"), ("identifier", "1.0"), ("identifier", str(2**64)),
    ("identifier", "١٢"), ("seconds", "253402128001"), ("seconds", "1e9"),
    ("flag", "2"), ("flag", "yes"), ("amount", "1e3"), ("amount", "1,5"),
    ("amount", "NaN"), ("amount", "1" * 16),
])
def test_readers_refuse(reader: str, value: str) -> None:
    with pytest.raises(ApiError) as refused:
        getattr(call(x=value), reader)("x")
    assert refused.value.kind is ErrorKind.INVALID_PARAMETER
    assert refused.value.message == "Invalid parameter: x"


def test_required_id_names_its_error() -> None:
    with pytest.raises(ApiError) as refused:
        call().required_id("user_id", ErrorKind.USER_NOT_FOUND)
    assert refused.value.message == "User was not found"


CATALOGUE = [(name, method) for method in METHODS for name in method.names]


@pytest.mark.parametrize(("name", "method"), CATALOGUE, ids=[n for n, _ in CATALOGUE])
def test_every_method_refuses_get_and_a_disabled_api_in_its_envelope(
        name: str, method: MorMethod) -> None:
    suffix = "/x" if method.path_suffix else ""
    refused_get = client().get(f"/billing/api/{name}{suffix}", params={"u": "admin"})
    disabled = client(allow_api=False).post(f"/billing/api/{name}{suffix}", data={"u": "admin"})
    if method.uniform_error is not None:
        get_text = api_text = ApiError(method.uniform_error).message
    else:
        get_text, api_text = "GET Requests are disabled", "API Requests are disabled"
    assert (refused_get.status_code, refused_get.text) == (
        200, method.envelope.document(get_text))
    assert (disabled.status_code, disabled.text) == (200, method.envelope.document(api_text))
