"""The personal rates PDF (`/tariffs/generate_personal_rates_pdf/<user id>`): the CSV's
rows a person reads, as a paged table (api/pdf_table.py; see docs/rates.md). The same
rates, user and moment give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo

from api.pdf_table import table_pdf
from api.xml import escape, moment

TITLE = "Personal rates"
# (CSV column, heading, width in mm): the columns that matter to a person, in CSV order
COLUMNS = (
    ("prefix", "Prefix", 22),
    ("destination", "Destination", 78),
    ("daytype", "Day type", 16),
    ("start_time", "From", 18),
    ("end_time", "Till", 18),
    ("rate", "Rate", 26),
    ("rate_with_vat", "Rate with VAT", 28),
    ("connection_fee", "Connection fee", 28),
    ("increment", "Increment", 18),
    ("min_time", "Minimal time", 20),
)
NO_TARIFF = "no tariff"
RIGHT = (5, 6, 7, 8, 9)  # the numbers: rates, fee, increment, minimal time


def render_rates_pdf(rows: Iterable[Mapping[str, object]], *, user_name: str,
                     tariff_currency: str | None, currency: str, generated: datetime,
                     zone: tzinfo, compress: bool = True) -> bytes:
    """The PDF of these rate rows (CSV column name -> value, written as the CSV writes
    it) for `user_name`; `generated` is shown in `zone`. `compress=False` leaves the
    page streams readable (tests)."""
    zone_name = getattr(zone, "key", None) or str(zone)
    return table_pdf(
        title=TITLE, user_name=user_name,
        lines=[f"Tariff currency: {escape(tariff_currency or NO_TARIFF)}; "
               f"prices shown in {escape(currency)}",
               f"Generated: {moment(generated, zone)} ({escape(zone_name)})"],
        columns=[(heading, size) for _, heading, size in COLUMNS],
        rows=([str(row[name]) for name, _, _ in COLUMNS] for row in rows),
        right=RIGHT, compress=compress)
