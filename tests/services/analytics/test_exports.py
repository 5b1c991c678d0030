"""Exports: a cell a spreadsheet would run as a formula is quoted, in CSV and in XLSX."""

from __future__ import annotations

import csv
import io

import openpyxl

from kefu.services.analytics.exports import neutralised, to_csv, to_markdown, to_xlsx

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"]


def test_every_formula_start_is_quoted_and_plain_values_are_kept():
    assert [neutralised(c) for c in DANGEROUS] == ["'" + c for c in DANGEROUS]
    assert [neutralised(c) for c in ("外卖", "a=b", -2.5, None)] == ["外卖", "a=b", -2.5, None]


def test_csv_and_xlsx_carry_the_quoted_text():
    header = ["name", "value"]
    rows = [[c, -1.5] for c in DANGEROUS] + [["外卖", None]]
    read = list(csv.reader(io.StringIO(to_csv(header, rows), newline="")))
    assert [r[0] for r in read[1:]] == ["'" + c for c in DANGEROUS] + ["外卖"]
    assert read[1][1] == "-1.5" and read[-1][1] == ""
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(header, rows))).active
    cells = list(sheet.iter_rows(min_row=2, values_only=True))
    assert all(isinstance(name, str) and not name.startswith("=") for name, _ in cells)
    assert cells[0][1] == -1.5


def test_markdown_escapes_pipes():
    assert to_markdown(["a"], [["x|y"]]) == "| a |\n| --- |\n| x\\|y |\n"


def test_markdown_cells_are_one_line_of_plain_text():
    """A cell's line breaks fold and its markup is escaped: no viewer makes HTML or a link."""
    row = ["<b>x</b>\r\n| [点我](javascript:alert(1)) &amp; \\"]
    assert to_markdown(["a"], [row]).splitlines()[2] == (
        "| \\<b\\>x\\</b\\> \\| \\[点我\\](javascript:alert(1)) \\&amp; \\\\ |"
    )
