"""Import and export: a round trip keeps the library; a bad file imports nothing and names lines."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kefu.db.models import AuditEvent, Script, ScriptScenario, ScriptVersion
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM
from kefu.services.scripts import yaml_io

TEAM = """\
version: 1
scenarios:
  - type: complaint
    name: 物流延迟致歉
    industry: retail
    scripts:
      - key: team.delay.1
        title: 我们自己的物流致歉
        when: {intents: [complaint], categories: [logistics]}
        body: 订单[单号]晚到了，我们已经催件。
      - title: 没有 key 的话术
        role: closing
        when: {stages: [resolved]}
        body: 还有其他需要随时找我。
"""


def test_export_then_import_into_an_empty_library_gives_the_same_file(db, starter):
    exported = yaml_io.export(db)
    count = db.scalar(select(func.count()).select_from(Script))
    db.execute(Script.__table__.delete())
    db.execute(ScriptScenario.__table__.delete())
    db.commit()
    report = yaml_io.do_import(db, SYSTEM, exported)
    db.commit()
    assert report.created == count
    assert yaml_io.export(db) == exported


def test_importing_again_updates_by_key_as_a_new_version(db):
    yaml_io.do_import(db, SYSTEM, TEAM)
    db.commit()
    again = yaml_io.do_import(db, SYSTEM, TEAM.replace("我们已经催件", "我们已经加急催件"))
    db.commit()
    assert (again.updated, again.unchanged, again.created) == (1, 0, 1)  # the keyless one is new
    script = db.scalar(select(Script).where(Script.key == "team.delay.1"))
    assert script.current_version == 2 and "加急催件" in script.body
    bodies = db.scalars(
        select(ScriptVersion.body)
        .where(ScriptVersion.script_id == script.id)
        .order_by(ScriptVersion.number)
    ).all()
    assert bodies == ["订单[单号]晚到了，我们已经催件。", "订单[单号]晚到了，我们已经加急催件。"]
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "script.update", AuditEvent.object_id == script.id)) == 1  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "path"),
    [
        (TEAM.replace("role: closing", "role: ending"), 12, "scenarios.0.scripts.1.role"),
        (TEAM.replace("categories: [logistics]", "categories: [shipping]"), 9,
         "scenarios.0.scripts.0.when.categories.0"),
        (TEAM.replace("    industry: retail\n", "    industry: retail\n    colour: red\n"), 6,
         "scenarios.0.colour"),
        (TEAM.replace("        body: 还有", "        body: 还有\n       : ["), 15, "(file)"),
        (TEAM.replace("      - title: 没有", "      - key: team.delay.1\n        title: 没有"), 11,
         "scenarios.0.scripts.1.key"),
        (TEAM.replace("        title: 我们自己的物流致歉\n", ""), 7, "scenarios.0.scripts.0.title"),
    ],
)  # fmt: skip
def test_a_bad_file_names_its_lines_and_imports_nothing(db, text, line, path):
    with pytest.raises(KefuError) as raised:
        yaml_io.do_import(db, SYSTEM, text)
    db.rollback()
    assert raised.value.code == "invalid_library" and raised.value.status_code == 422
    errors = raised.value.details["errors"]
    assert {"line": line, "path": path} in [{"line": e["line"], "path": e["path"]} for e in errors]
    assert db.scalar(select(func.count()).select_from(Script)) == 0


def test_a_file_that_is_not_a_library_is_refused():
    for text in ("", "- a\n- b\n", "scenarios: 3\n"):
        with pytest.raises(KefuError) as raised:
            yaml_io.parse(text)
        assert raised.value.details["errors"][0]["line"] >= 1


def test_control_characters_and_alias_bombs_are_errors_not_crashes():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdefg", "bcdefgh", strict=True)
    )
    for text in ("\x1f", bomb, "a: &a [*a]\n"):
        with pytest.raises(KefuError) as raised:
            yaml_io.parse(text)
        assert raised.value.code == "invalid_library"
