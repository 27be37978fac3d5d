"""The personal rates PDF as a pure function: valid, deterministic, the CSV's figures."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from api.rates import CSV_HEADER, Prices, rate_rows, rates_csv, rates_pdf
from api.rates_pdf import render_rates_pdf
from projections.queries import User
from rating.tariff import Destination, Rate, Tariff, Tier

D = Decimal
GENERATED = datetime(2024, 3, 5, 22, 30, 0, tzinfo=UTC)
TARIFF = Tariff.of(1, 2, "Retail", "USD", 0, [
    Rate.wholesale(Destination("370", "Lithuania", "Lithuania", "fixed"), D("0.05")),
    Rate.wholesale(Destination("3706", "Lithuania MOB", "Lithuania", "mobile"), D("0.12"),
                   days="work", start_second=28800, end_second=64800),
    Rate(Destination("900", "Premium (x) & co", "Lithuania", "special"),
         (Tier(0, None, D("0.5"), 1, "event"), Tier(0, 60, D("1.0"), 60),
          Tier(60, None, D("0.5"), 1))),
])
USER = User(2, "john", "John", "Smith", "user", 0, "USD", "Europe/Vilnius",
            tax_percent=D("21"))


def shown_text(pdf: bytes) -> list[str]:
    """The strings the page streams draw (`(...) Tj`), unescaped: enough for reportlab's
    uncompressed output with the standard fonts."""
    found = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf)
    return [re.sub(rb"\\(.)", rb"\1", s).decode("latin-1") for s in found]


def render(rows: Sequence[Mapping[str, object]], tariff_currency: str | None = "USD",
           currency: str = "EUR", zone: str = "Europe/Vilnius", compress: bool = False
           ) -> bytes:
    return render_rates_pdf(rows, user_name="John Smith", tariff_currency=tariff_currency,
                            currency=currency, generated=GENERATED, zone=ZoneInfo(zone),
                            compress=compress)


def test_the_pdf_shows_the_csv_figures_with_title_user_currencies_and_local_time() -> None:
    pdf = rates_pdf(TARIFF, Prices(D("0.5"), D(21)), "EUR", USER, GENERATED)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = shown_text(render([dict(zip(CSV_HEADER, row, strict=True))
                              for row in rate_rows(TARIFF, Prices(D("0.5"), D(21)), "EUR")]))
    assert text[:5] == ["Page 1", "Personal rates", "User: John Smith",
                        "Tariff currency: USD; prices shown in EUR",
                        "Generated: 2024-03-06 00:30:00 (Europe/Vilnius)"]
    assert text[5:15] == ["Prefix", "Destination", "Day type", "From", "Till", "Rate",
                          "Rate with VAT", "Connection fee", "Increment", "Minimal time"]
    assert text[15:] == [
        "370", "Lithuania", "00:00:00", "23:59:59", "0.025", "0.03025", "0.0", "1", "0",
        "3706", "Lithuania MOB", "WD", "08:00:00", "17:59:59", "0.06", "0.0726", "0.0", "1",
        "0",
        "900", "Premium (x) & co", "00:00:00", "23:59:59", "0.5", "0.605", "0.25", "60", "0",
    ]
    # the same figures as the CSV writes
    csv_lines = rates_csv(TARIFF, Prices(D("0.5"), D(21)), "EUR").splitlines()
    assert csv_lines[1].split(",")[8:11] == ["0.025", "0.03025", "0.0"]


def test_the_pdf_is_deterministic() -> None:
    first = rates_pdf(TARIFF, Prices(D(1), D(0)), "USD", USER, GENERATED)
    assert first == rates_pdf(TARIFF, Prices(D(1), D(0)), "USD", USER, GENERATED)
    assert first != rates_pdf(TARIFF, Prices(D(1), D(0)), "USD", USER,
                              GENERATED.replace(minute=31))


def test_no_tariff_gives_an_empty_table() -> None:
    text = shown_text(render([], tariff_currency=None, currency="USD", zone="UTC"))
    assert text[1:5] == ["Personal rates", "User: John Smith",
                         "Tariff currency: no tariff; prices shown in USD",
                         "Generated: 2024-03-05 22:30:00 (UTC)"]
    assert text[-1] == "Minimal time"


def test_thousands_of_rates_are_paged_with_the_heading_on_every_page() -> None:
    row = dict.fromkeys(CSV_HEADER, "0")
    rows = [{**row, "prefix": str(100000 + i), "destination": f"Place {i}"}
            for i in range(3000)]
    rows[7]["destination"] = "A very long destination name " * 6 + "x" * 120
    pdf = render(rows)
    text = shown_text(pdf)
    pages = sum(1 for s in text if s.startswith("Page "))
    assert pages > 50 and text.count("Prefix") == pages  # heading repeated on each page
    assert text.count("100000") == 1 and text.count("102999") == 1
    at = text.index("100007") + 1  # wrapped in the column: at spaces, a long word anywhere
    assert text[at:at + 6] == ["A very long destination name A very long destination name"] * 3 + [
        "x" * 53, "x" * 53, "x" * 14]
    assert render(rows, compress=True).startswith(b"%PDF-")
