from __future__ import annotations

import pytest

from api.hash import expected_hashes, hash_matches, mor_hash
from api.user_calls import HASHED

# design/TEST-VECTORS.md, from MOR's public documentation.
VECTORS = [
    pytest.param(["123"], "456789", "f7c3bc1d808e04732adf679965ccc34ca7ae3441", id="s_user"),
    pytest.param([], "456789", "df2983700ffecb52e6649f0cb3981b66537083a4", id="no-params"),
    pytest.param(
        ["123", "1252454580", "answered"],
        "Very Sercet Key",
        "b93c35d5c6183288322122561a3da7e09abb63b7",
        id="three-params",
    ),
]


@pytest.mark.parametrize(("values", "secret", "digest"), VECTORS)
def test_mor_hash_vectors(values: list[str], secret: str, digest: str) -> None:
    assert mor_hash(values, secret) == digest


def test_documented_order_vector_through_expected_hashes() -> None:
    params = {
        "u": "admin",
        "s_call_type": "answered",
        "period_start": "1252454580",
        "s_user": "123",
    }
    order = ("u", "s_call_type", "period_start", "s_user")
    candidates = expected_hashes(params, order, HASHED, "Very Sercet Key")
    assert candidates[0] == "b93c35d5c6183288322122561a3da7e09abb63b7"
    assert hash_matches("b93c35d5c6183288322122561a3da7e09abb63b7", candidates)


def test_request_order_is_accepted_too() -> None:
    params = {"s_call_type": "answered", "s_user": "123", "period_start": "1252454580"}
    order = ("s_call_type", "s_user", "period_start")
    candidates = expected_hashes(params, order, HASHED, "Very Sercet Key")
    assert hash_matches(mor_hash(["answered", "123", "1252454580"], "Very Sercet Key"), candidates)
    assert hash_matches("b93c35d5c6183288322122561a3da7e09abb63b7", candidates)
    assert not hash_matches(mor_hash(["123", "answered", "1252454580"], "x"), candidates)


def test_one_candidate_when_orders_agree() -> None:
    params = {"s_user": "123", "period_start": "1"}
    assert len(expected_hashes(params, ("s_user", "period_start"), HASHED, "k")) == 1


def test_username_password_and_hash_are_never_hashed() -> None:
    params = {"u": "admin", "p": "secret", "hash": "abc", "s_user": "123", "other": "x"}
    candidates = expected_hashes(params, tuple(params), (*HASHED, "u", "p", "hash"), "456789")
    assert candidates == ["f7c3bc1d808e04732adf679965ccc34ca7ae3441"]


def test_empty_value_counts_as_present_but_adds_nothing() -> None:
    params = {"s_user": "123", "s_device": ""}
    candidates = expected_hashes(params, ("s_device", "s_user"), HASHED, "456789")
    assert hash_matches("f7c3bc1d808e04732adf679965ccc34ca7ae3441", candidates)


@pytest.mark.parametrize(
    "given",
    [
        "F7C3BC1D808E04732ADF679965CCC34CA7AE3441",
        " f7c3bc1d808e04732adf679965ccc34ca7ae3441\n",
    ],
)
def test_hash_comparison_ignores_case_and_surrounding_space(given: str) -> None:
    assert hash_matches(given, ["f7c3bc1d808e04732adf679965ccc34ca7ae3441"])


@pytest.mark.parametrize("given", [None, "", "f7c3bc1d", "ą" * 40, "0" * 40])
def test_wrong_or_missing_hash_does_not_match(given: str | None) -> None:
    assert not hash_matches(given, ["f7c3bc1d808e04732adf679965ccc34ca7ae3441"])
