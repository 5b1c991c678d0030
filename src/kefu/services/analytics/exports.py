"""Tables out as CSV (spreadsheet formula injection neutralised), XLSX and Markdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import xlsxwriter

from kefu.sanitize import markdown_literal

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: object) -> object:
    """A text cell a spreadsheet would read as a formula gets a leading quote; others as they are."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def _text(cell: object) -> str:
    return "" if cell is None else str(cell)


def to_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralised(h) for h in header])
    for row in rows:
        writer.writerow([_text(neutralised(c)) for c in row])
    return out.getvalue()


def to_xlsx(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, sheet: str = "kpi"
) -> bytes:
    """One sheet: text is written as text (never as a formula) and quoted like the CSV, so a
    sheet saved again as CSV stays harmless; numbers as numbers."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    page = book.add_worksheet(sheet)
    bold = book.add_format({"bold": True})
    for col, name in enumerate(header):
        page.write_string(0, col, name, bold)
    for r, row in enumerate(rows, start=1):
        for col, cell in enumerate(row):
            if cell is None:
                continue
            if isinstance(cell, bool):
                page.write_boolean(r, col, cell)
            elif isinstance(cell, int | float):
                page.write_number(r, col, cell)
            else:
                page.write_string(r, col, str(neutralised(str(cell))))
    book.close()
    return out.getvalue()


def to_markdown(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: a cell's line breaks as spaces, its bars and markup escaped, so a text of
    a customer or an agent stays one cell of plain text in any viewer."""

    def cell(value: object) -> str:
        return markdown_literal(" ".join(_text(value).splitlines())).replace("|", "\\|")

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(cell(c) for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(r) for r in rows)]) + "\n"
