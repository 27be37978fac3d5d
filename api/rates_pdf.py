"""The personal rates PDF (`/tariffs/generate_personal_rates_pdf/<user id>`): the CSV's
rows a person reads, as a paged table (reportlab's platypus; see docs/rates.md).

A pure function of its inputs: reportlab's `invariant` mode fixes the creation date and
the document id, so the same rates, user and moment give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

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
MARGIN = 12 * mm
FONT, BOLD, FONT_SIZE, LEADING, PADDING = "Helvetica", "Helvetica-Bold", 8, 9.6, 3
ROW_HEIGHT = LEADING + 2 * PADDING  # one line; fixed heights spare reportlab measuring rows
NO_TARIFF = "no tariff"


def _fit(text: str, width: float) -> str:
    """The text in lines no wider than `width`, broken at spaces, a longer word anywhere:
    plain strings draw much faster than Paragraphs, so thousands of rows stay quick."""
    if stringWidth(text, FONT, FONT_SIZE) <= width:
        return text
    lines: list[str] = []
    for line in simpleSplit(text, FONT, FONT_SIZE, width):
        while stringWidth(line, FONT, FONT_SIZE) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and stringWidth(line[:cut], FONT, FONT_SIZE) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return "\n".join(lines)


def render_rates_pdf(rows: Iterable[Mapping[str, object]], *, user_name: str,
                     tariff_currency: str | None, currency: str, generated: datetime,
                     zone: tzinfo, compress: bool = True) -> bytes:
    """The PDF of these rate rows (CSV column name -> value, written as the CSV writes
    it) for `user_name`; `generated` is shown in `zone`. `compress=False` leaves the
    page streams readable (tests)."""
    styles = getSampleStyleSheet()
    zone_name = getattr(zone, "key", None) or str(zone)
    story: list[object] = [
        Paragraph(TITLE, styles["Title"]),
        Paragraph(f"User: {escape(user_name)}", styles["Normal"]),
        Paragraph(f"Tariff currency: {escape(tariff_currency or NO_TARIFF)}; "
                  f"prices shown in {escape(currency)}", styles["Normal"]),
        Paragraph(f"Generated: {moment(generated, zone)} ({escape(zone_name)})",
                  styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    width = {name: size * mm for name, _, size in COLUMNS}
    table: list[list[str]] = [[heading for _, heading, _ in COLUMNS]]
    heights = [ROW_HEIGHT]
    for row in rows:
        cells = [_fit(str(row[name]), width[name] - 2 * PADDING) for name, _, _ in COLUMNS]
        table.append(cells)
        heights.append(ROW_HEIGHT + LEADING * max(cell.count("\n") for cell in cells))
    grid = LongTable(table, colWidths=list(width.values()), rowHeights=heights, repeatRows=1)
    grid.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), BOLD, FONT_SIZE, LEADING),
        ("FONT", (0, 1), (-1, -1), FONT, FONT_SIZE, LEADING),
        ("TOPPADDING", (0, 0), (-1, -1), PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PADDING),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ALIGN", (5, 0), (-1, -1), "RIGHT"),
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
