"""Sink: files kefu writes for people to open — the dashboard's CSV and XLSX (the drill-down's
tickets, the agents' scorecards), the KPI report (``kefu report``: the same writers) and a
customer's personal-data report (Markdown).

A spreadsheet must read every hostile text as text: a cell that starts with a formula prefix
(= + - @ tab CR) is written with a leading ' (CSV and XLSX alike), and openpyxl reads no cell as
a formula. Bidi controls are kept as data, exactly as typed (an export is a faithful record, the
controls act inside their own cell only, and the same text round-trips through the API);
Markdown escapes what a viewer would make markup of."""

from __future__ import annotations

import csv
import io

import httpx
import openpyxl
from markdown_it import MarkdownIt
from sqlalchemy.orm import Session

from kefu.services.analytics.exports import to_csv, to_markdown, to_xlsx
from tests import factories
from tests.hostile import BY_NAME, FIXTURES, FORMULA_PREFIXES, html_problems, visible_text
from tests.security.cases import open_cases
from tests.web.conftest import SignIn


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _xlsx_cells(data: bytes) -> list[object]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells), "a cell read as a formula"
    # xlsxwriter writes a CR as Excel's escape _x000D_, which Excel reads back as CR (openpyxl
    # leaves it as it is).
    return [
        c.value.replace("_x000D_", "\r") if isinstance(c.value, str) else c.value for c in cells
    ]


def _spreadsheet_safe(cells: list[object], where: str) -> None:
    for cell in cells:
        if isinstance(cell, str):
            assert not cell.startswith(FORMULA_PREFIXES), f"{where}: {cell[:40]!r}"


def _kept(text: str, cells: list[object]) -> bool:
    """The text is a cell, as typed or quoted when it starts with a formula prefix."""
    quoted = "'" + text if text.startswith(FORMULA_PREFIXES) else text
    return quoted in cells


def test_dashboard_exports_quote_formulas_and_the_data_report_is_plain_markdown(
    db: Session, integration: httpx.Client, api: httpx.Client, sign_in: SignIn
) -> None:
    cases = open_cases(db, integration, api)
    browser = sign_in(factories.make_user(db, role="supervisor"))
    for path in ("/dashboard/tickets?format={}", "/dashboard/export/scorecards?format={}"):
        csv_answer = browser.client.get(path.format("csv"))
        assert csv_answer.status_code == 200, csv_answer.text
        xlsx_answer = browser.client.get(path.format("xlsx"))
        assert xlsx_answer.status_code == 200
        csv_cells, xlsx_cells = _csv_cells(csv_answer.text), _xlsx_cells(xlsx_answer.content)
        _spreadsheet_safe(csv_cells, path)
        _spreadsheet_safe(xlsx_cells, path)
        if "tickets" in path:  # the subjects
            for name, case in cases.items():
                if len(case.fixture.text) <= 300:
                    assert _kept(case.fixture.text, csv_cells), name
                    assert _kept(case.fixture.text, xlsx_cells), name
        else:  # the agents' names
            for name in ("formula_cmd", "formula_hyperlink", "rtl_override", "bidi_controls"):
                text = BY_NAME[name].text
                assert _kept(text, csv_cells) and _kept(text, xlsx_cells), name
    # A customer's personal-data report (Markdown): their messages and name as plain text.
    for name in ("script", "md_javascript_link", "md_data_link", "crlf_bcc", "chinese_emoji"):
        case = cases[name]
        answer = api.get(
            f"/api/v1/customers/{case.customer_id}/export", params={"format": "report"}
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/markdown")
        html = _viewer().render(answer.text)
        assert not html_problems(html), (name, html_problems(html))
        assert "<a " not in html and "<script" not in html and "<img" not in html, name
        shown = visible_text(html)
        assert " ".join(case.fixture.text.split()) in " ".join(shown.split()), name


def test_the_kpi_report_writers_take_every_fixture_as_text() -> None:
    """``kefu report`` writes through exports.to_csv / to_xlsx / to_markdown: every fixture as a
    slice's label comes out as text."""
    header = ["agent", "metric", "value"]
    rows = [[f.text, "frt", 1.5] for f in FIXTURES if not f.has_nul]
    csv_cells = _csv_cells(to_csv(header, rows))
    xlsx_cells = _xlsx_cells(to_xlsx(header, rows))
    for cells in (csv_cells, xlsx_cells):
        _spreadsheet_safe(cells, "report")
        for row in rows:
            assert _kept(str(row[0]), cells), row[0]
    html = _viewer().render(to_markdown(header, rows))
    assert not html_problems(html), html_problems(html)
    assert "<script>window.__xss=1</script>" in visible_text(html)


def _viewer() -> MarkdownIt:
    """A Markdown viewer at its most trusting: raw HTML passed through, every link followed."""
    viewer = MarkdownIt("commonmark", {"html": True, "linkify": False})
    viewer.validateLink = lambda url: True  # type: ignore[method-assign]
    return viewer.enable("table")
