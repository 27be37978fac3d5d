"""The call list PDF (`/stats/call_list_to_pdf/<user id>`): the CSV export's rows as a
paged table (reportlab's platypus, as api/rates_pdf.py).

A pure function of its inputs: reportlab's `invariant` mode fixes the creation date and
the document id, so the same calls, user, period and moment give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from api.rates_pdf import BOLD, FONT, FONT_SIZE, LEADING, MARGIN, PADDING, ROW_HEIGHT, _fit
from api.xml import escape, moment

TITLE = "Calls"
# (heading, width in mm) of the CSV's columns but the currency (said once above the table)
COLUMNS = (("Date", 34), ("Called from", 36), ("Called to", 36), ("Destination", 76),
           ("Duration", 20), ("Hangup cause", 26), ("Price", 24))


def render_call_list_pdf(rows: Sequence[tuple[str, ...]], *, user_name: str, currency: str,
                         period: tuple[str, str], total: int, generated: datetime,
                         zone: tzinfo, compress: bool = True) -> bytes:
    """The PDF of these call rows (the CSV export's, currency last) for `user_name`;
    `total` is how many calls the period holds (more than the rows when the PDF was cut
    short). `compress=False` leaves the page streams readable (tests)."""
    styles = getSampleStyleSheet()
    zone_name = getattr(zone, "key", None) or str(zone)
    shown = f"{total} calls" if total == len(rows) else f"first {len(rows)} of {total} calls"
    story: list[object] = [
        Paragraph(TITLE, styles["Title"]),
        Paragraph(f"User: {escape(user_name)}", styles["Normal"]),
        Paragraph(f"Period: {escape(period[0])} - {escape(period[1])} ({escape(zone_name)}); "
                  f"{shown}; prices in {escape(currency)}", styles["Normal"]),
        Paragraph(f"Generated: {moment(generated, zone)}", styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    widths = [size * mm for _, size in COLUMNS]
    table: list[list[str]] = [[heading for heading, _ in COLUMNS]]
    heights = [ROW_HEIGHT]
    for row in rows:
        cells = [_fit(value, width - 2 * PADDING)
                 for value, width in zip(row[:len(COLUMNS)], widths, strict=True)]
        table.append(cells)
        heights.append(ROW_HEIGHT + LEADING * max(cell.count("\n") for cell in cells))
    grid = LongTable(table, colWidths=widths, rowHeights=heights, repeatRows=1)
    grid.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), BOLD, FONT_SIZE, LEADING),
        ("FONT", (0, 1), (-1, -1), FONT, FONT_SIZE, LEADING),
        ("TOPPADDING", (0, 0), (-1, -1), PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PADDING),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ALIGN", (4, 0), (4, -1), "RIGHT"),
        ("ALIGN", (6, 0), (6, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.whitesmoke]),
    ]))
    story.append(grid)

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=landscape(A4), leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=MARGIN, bottomMargin=MARGIN, title=TITLE, author="cdrflow",
        subject=f"{TITLE} of {user_name}", creator="cdrflow", invariant=1,
        pageCompression=1 if compress else 0,
    )

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawRightString(landscape(A4)[0] - MARGIN, MARGIN / 2, f"Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return out.getvalue()
