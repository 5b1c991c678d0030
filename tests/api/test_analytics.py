"""/api/v1/analytics: the hand-worked day of tests/services/analytics/scenario.py as JSON, CSV
(formula injection neutralised) and XLSX (read back); targets; who may call what."""

from __future__ import annotations

import csv
import io

import openpyxl

from kefu.db.models import Tag
from kefu.db.models.tickets import ticket_tags
from tests import factories
from tests.factories import _writes
from tests.services.analytics import scenario

DAY = {"from": "2026-12-01", "to": "2026-12-01"}


def _metric(slice_, name):
    return next(m for m in slice_["metrics"] if m["metric"] == name)


@_writes
def _evil_line(db, ticket_id):
    """A business line a spreadsheet would run as a formula."""
    tag = Tag(name='line:=HYPERLINK("http://evil")')
    db.add(tag)
    db.flush()
    db.execute(ticket_tags.delete().where(ticket_tags.c.ticket_id == ticket_id))
    db.execute(ticket_tags.insert().values(ticket_id=ticket_id, tag_id=tag.id))
    db.commit()


def test_supervisors_read_the_days_figures_against_their_targets(db, client_for):
    s = scenario.build(db)
    boss = client_for(factories.make_user(db, role="supervisor"))
    got = boss.get("/api/v1/analytics/kpis", params=DAY)
    assert got.status_code == 200, got.text
    [whole] = got.json()["slices"]
    assert _metric(whole, "resolution_rate") == {
        "metric": "resolution_rate", "value": 80.0, "numerator": 4.0, "denominator": 5,
        "unit": "percent", "target": 95.0, "direction": "higher", "verdict": "off_target",
    }  # fmt: skip
    assert _metric(whole, "average_response")["value"] == 675.0

    got = boss.get(
        "/api/v1/analytics/kpis",
        params=DAY | {"by": "agent,group", "period": "week", "group_id": s.group_id},
    )
    slices = got.json()["slices"]
    assert [(x["period"], x["values"]) for x in slices] == [
        ("2026-W49", {"agent": s.agent_a, "group": s.group_id}),
        ("2026-W49", {"agent": s.agent_b, "group": s.group_id}),
    ]
    assert _metric(slices[1], "transfers_per_case")["value"] == 0.5


def test_csv_neutralises_formulas_and_xlsx_reads_back(db, client_for):
    s = scenario.build(db)
    _evil_line(db, s.tickets["T1"])
    boss = client_for(factories.make_user(db, role="supervisor"))
    got = boss.get("/api/v1/analytics/kpis", params=DAY | {"by": "business_line", "format": "csv"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == [
        "business_line", "metric", "value", "numerator", "denominator", "unit", "target", "verdict"
    ]  # fmt: skip
    lines = {r[0] for r in rows[1:]}
    assert lines == {"", '\'=HYPERLINK("http://evil")', "外卖"}
    assert len(rows) == 1 + 3 * 17

    got = boss.get("/api/v1/analytics/kpis", params=DAY | {"by": "channel", "format": "xlsx"})
    assert got.status_code == 200, got.text
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:3] == ("channel", "metric", "value")
    email = {r[1]: r for r in table[1:] if r[0] == "email"}
    assert email["reopen_rate"][2:5] == (100, 1, 1)
    assert email["csat"][2] is None


def test_admins_set_targets_and_the_figures_follow(db, client_for, api):
    scenario.build(db)
    boss = client_for(factories.make_user(db, role="supervisor"))
    assert (
        boss.put("/api/v1/analytics/targets", json={"thresholds": {"csat": 80}}).status_code == 403
    )
    got = api.put("/api/v1/analytics/targets", json={"thresholds": {"resolution_rate": 80}})
    assert got.status_code == 200, got.text
    row = next(t for t in got.json() if t["metric"] == "resolution_rate")
    assert (row["threshold"], row["default"], row["direction"]) == (80.0, 95.0, "higher")
    whole = boss.get("/api/v1/analytics/kpis", params=DAY).json()["slices"][0]
    assert _metric(whole, "resolution_rate")["verdict"] == "on_target"
    bad = api.put("/api/v1/analytics/targets", json={"thresholds": {"speed": 1}})
    assert bad.status_code == 422 and bad.json()["error"]["details"] == {
        "unknown_metrics": ["speed"]
    }


def test_agents_get_403_and_bad_parameters_422(db, client_for):
    agent = client_for(factories.make_user(db, role="agent"))
    assert agent.get("/api/v1/analytics/kpis", params=DAY).status_code == 403
    assert agent.get("/api/v1/analytics/targets").status_code == 403
    assert agent.get("/api/v1/analytics/script-effectiveness", params=DAY).status_code == 403
    boss = client_for(factories.make_user(db, role="supervisor"))
    assert boss.get("/api/v1/analytics/kpis", params=DAY | {"by": "mood"}).status_code == 422
    wrong_way = {"from": "2026-12-02", "to": "2026-12-01"}
    assert boss.get("/api/v1/analytics/kpis", params=wrong_way).status_code == 422
    ancient = {"from": "0001-01-01", "to": "2000-01-01"}  # no 500 at the calendar's edge
    for path in ("/api/v1/analytics/kpis", "/api/v1/analytics/script-effectiveness"):
        assert boss.get(path, params=ancient).status_code == 422
        assert boss.get(path, params={"from": "2026-01-01", "to": "9999-12-31"}).status_code == 422


def test_script_effectiveness_lists_the_scripts_used_in_the_period(db, client_for):
    boss = client_for(factories.make_user(db, role="supervisor"))
    got = boss.get("/api/v1/analytics/script-effectiveness", params=DAY)
    assert got.status_code == 200, got.text
    assert got.json()["scripts"] == []
    got = boss.get("/api/v1/analytics/script-effectiveness", params=DAY | {"format": "csv"})
    assert got.text.startswith("script_id,title,uses,tickets,score,weak,resolution_rate")
