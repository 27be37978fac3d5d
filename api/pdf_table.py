"""A paged PDF table for the exports a person reads (reportlab's platypus): a title, a few
lines about the data, then the rows under a heading repeated on every page.

A pure function of its inputs: reportlab's `invariant` mode fixes the creation date and
the document id, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from api.xml import escape

MARGIN = 12 * mm
FONT, BOLD, FONT_SIZE, LEADING, PADDING = "Helvetica", "Helvetica-Bold", 8, 9.6, 3
ROW_HEIGHT = LEADING + 2 * PADDING  # one line; fixed heights spare reportlab measuring rows


def fit(text: str, width: float) -> str:
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


def table_pdf(*, title: str, user_name: str, lines: Sequence[str],
              columns: Sequence[tuple[str, float]], rows: Iterable[Sequence[str]],
              right: Sequence[int], compress: bool = True) -> bytes:
    """The PDF: `title`, `User: <user_name>`, then `lines` (markup: escape what they
    quote), then a table of `columns` (heading, width in mm) holding `rows`, the columns
    numbered in `right` aligned right. `compress=False` leaves the page streams readable
    (tests)."""
    styles = getSampleStyleSheet()
    story: list[object] = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(f"User: {escape(user_name)}", styles["Normal"]),
        *(Paragraph(line, styles["Normal"]) for line in lines),
        Spacer(1, 4 * mm),
    ]
    widths = [size * mm for _, size in columns]
    table: list[list[str]] = [[heading for heading, _ in columns]]
    heights = [ROW_HEIGHT]
    for row in rows:
        cells = [fit(value, width - 2 * PADDING) for value, width in zip(row, widths, strict=True)]
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
        *(("ALIGN", (column, 0), (column, -1), "RIGHT") for column in right),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.whitesmoke]),
    ]))
    story.append(grid)

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=landscape(A4), leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=MARGIN, bottomMargin=MARGIN, title=title, author="cdrflow",
        subject=f"{title} of {user_name}", creator="cdrflow", invariant=1,
        pageCompression=1 if compress else 0,
    )

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawRightString(landscape(A4)[0] - MARGIN, MARGIN / 2, f"Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return out.getvalue()
