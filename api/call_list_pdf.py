"""The call list PDF (`/stats/call_list_to_pdf/<user id>`): the CSV export's rows as a
paged table (api/pdf_table.py). The same calls, user, period and moment give the same
bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from api.pdf_table import table_pdf
from api.xml import escape, moment

TITLE = "Calls"
# (heading, width in mm) of the CSV's columns but the currency (said once above the table)
COLUMNS = (("Date", 34), ("Called from", 36), ("Called to", 36), ("Destination", 76),
           ("Duration", 20), ("Hangup cause", 26), ("Price", 24))
RIGHT = (4, 6)  # duration and price


def render_call_list_pdf(rows: Sequence[tuple[str, ...]], *, user_name: str, currency: str,
                         period: tuple[str, str], total: int, generated: datetime,
                         zone: tzinfo, compress: bool = True) -> bytes:
    """The PDF of these call rows (the CSV export's, currency last) for `user_name`;
    `total` is how many calls the period holds (more than the rows when the PDF was cut
    short). `compress=False` leaves the page streams readable (tests)."""
    zone_name = getattr(zone, "key", None) or str(zone)
    shown = f"{total} calls" if total == len(rows) else f"first {len(rows)} of {total} calls"
    return table_pdf(
        title=TITLE, user_name=user_name,
        lines=[f"Period: {escape(period[0])} - {escape(period[1])} ({escape(zone_name)}); "
               f"{shown}; prices in {escape(currency)}",
               f"Generated: {moment(generated, zone)}"],
        columns=COLUMNS, rows=(row[:len(COLUMNS)] for row in rows), right=RIGHT,
        compress=compress)
