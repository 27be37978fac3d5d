from decimal import Decimal

import pytest

from rating.numbers import NumberPlan
from rating.tariff import Destination, Rate, Tariff, TariffBook


def rate(prefix: str, price: str = "1", **window: object) -> Rate:
    return Rate.wholesale(Destination(prefix, f"dest {prefix}"), Decimal(price), **window)


def tariff(version: int, effective_from_ms: int, *prefixes: str, **options: object) -> Tariff:
    return Tariff.of(1, version, "retail", "USD", effective_from_ms,
                     [rate(p, str(version)) for p in prefixes], **options)


def prefix_of(t: Tariff, number: str) -> str | None:
    found = t.match(number)
    return found[0].prefix if found else None


def test_longest_prefix_wins() -> None:
    t = tariff(1, 0, "3", "370", "3706", "37069")
    assert prefix_of(t, "37061234567") == "3706"
    assert prefix_of(t, "37069123456") == "37069"
    assert prefix_of(t, "37052000201") == "370"
    assert prefix_of(t, "3") == "3"
    assert prefix_of(t, "4420") is None
    assert prefix_of(t, "") is None


@pytest.mark.parametrize(("number", "expected"), [
    ("+370 612 34567", "37061234567"),
    ("0037061234567", "37061234567"),
    ("861234567", "37061234567"),  # Lithuanian national prefix 8
    ("37061234567", "37061234567"),
    ("(370) 612-34567", "37061234567"),
])
def test_numbers_are_normalised_before_matching(number: str, expected: str) -> None:
    plan = NumberPlan(country_code="370", national_prefix="8")
    assert plan.normalise(number) == expected
    t = tariff(1, 0, "3706", numbers=plan)
    assert prefix_of(t, number) == "3706"


def test_without_a_country_code_national_numbers_stay_as_they_are() -> None:
    assert NumberPlan().normalise("0612") == "0612"


def test_the_version_in_force_at_the_call_start_is_used() -> None:
    book = TariffBook()
    book.add(tariff(2, 2_000, "370"))
    book.add(tariff(1, 1_000, "370"))
    assert book.in_force(1, 999) is None
    assert book.in_force(1, 1_000).version == 1
    assert book.in_force(1, 1_999).version == 1
    assert book.in_force(1, 2_000).version == 2
    assert book.in_force(7, 2_000) is None


def test_a_version_with_an_end_date_is_not_in_force_after_it() -> None:
    book = TariffBook()
    book.add(tariff(1, 1_000, "370", effective_until_ms=5_000))
    assert book.in_force(1, 4_999).version == 1
    assert book.in_force(1, 5_000) is None


def test_republishing_a_version_replaces_it() -> None:
    book = TariffBook()
    book.add(tariff(1, 1_000, "370"))
    book.add(tariff(1, 1_000, "44"))
    assert len(book) == 1
    found = book.in_force(1, 5_000)
    assert found is not None and set(found.rates) == {"44"}


def test_overlapping_windows_of_one_prefix_are_refused() -> None:
    with pytest.raises(ValueError, match="rates for prefix 370 have overlapping work-day windows"):
        Tariff.of(1, 1, "t", "USD", 0, [
            rate("370", days="work", start_second=0, end_second=36_000),
            rate("370", days="work", start_second=28_800, end_second=86_400)])


@pytest.mark.parametrize(("window", "message"), [
    ({"days": "holiday"}, "days must be one of all, work, free"),
    ({"start_second": 10, "end_second": 10}, "a window needs"),
    ({"end_second": 90_000}, "a window needs"),
])
def test_bad_windows(window: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rate("370", **window)


def test_bad_tariff_options() -> None:
    with pytest.raises(ValueError, match="rounding must be one of"):
        tariff(1, 0, "370", rounding="bankers")
    with pytest.raises(ValueError, match="decimals must be 0 to 6"):
        tariff(1, 0, "370", decimals=8)
