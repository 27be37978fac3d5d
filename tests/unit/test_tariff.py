from decimal import Decimal

from rating.tariff import Rate, Tariff, TariffBook


def tariff(version: int, effective_from_ms: int, *prefixes: str) -> Tariff:
    return Tariff.of(1, version, "retail", "USD", effective_from_ms,
                     [Rate(p, f"dest {p}", Decimal(version)) for p in prefixes])


def test_longest_prefix_wins() -> None:
    t = tariff(1, 0, "3", "370", "3706", "37069")
    assert t.match("37061234567") is not None
    assert t.match("37061234567").prefix == "3706"
    assert t.match("37069123456").prefix == "37069"
    assert t.match("37052000201").prefix == "370"
    assert t.match("3").prefix == "3"
    assert t.match("4420") is None
    assert t.match("") is None


def test_the_version_in_force_at_the_call_start_is_used() -> None:
    book = TariffBook()
    book.add(tariff(2, 2_000, "370"))
    book.add(tariff(1, 1_000, "370"))
    assert book.in_force(1, 999) is None
    assert book.in_force(1, 1_000).version == 1
    assert book.in_force(1, 1_999).version == 1
    assert book.in_force(1, 2_000).version == 2
    assert book.in_force(7, 2_000) is None


def test_republishing_a_version_replaces_it() -> None:
    book = TariffBook()
    book.add(tariff(1, 1_000, "370"))
    book.add(tariff(1, 1_000, "44"))
    assert len(book) == 1
    found = book.in_force(1, 5_000)
    assert found is not None and set(found.rates) == {"44"}
