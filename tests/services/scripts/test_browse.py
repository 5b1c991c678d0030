"""The composer's script browser: published scripts by type, every search word matched, capped."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.models import ScriptScenario
from kefu.services.actors import SYSTEM
from kefu.services.scripts import browse, library


def test_every_word_must_match_in_the_title_the_text_or_the_scenario():
    assert browse.terms_of("  物流  Delay ") == ["物流", "delay"]
    assert browse.matches(["物流", "delay"], "物流延迟", "DELAY of a parcel")
    assert not browse.matches(["物流", "退款"], "物流延迟", "包裹晚到")
    assert browse.matches([], "anything")


def test_the_browser_shows_published_scripts_by_type_and_caps_the_answer(db, starter, monkeypatch):
    agent = SYSTEM  # sees drafts and proposals too: the browser still shows what can be sent
    scenario = db.scalar(select(ScriptScenario).where(ScriptScenario.type == "complaint"))
    library.create_script(
        db, SYSTEM, scenario=scenario, title="草稿", body="还没审", status="draft"
    )
    db.commit()
    everything = browse.browse(db, agent)
    assert list(everything.by_type) == ["inquiry", "complaint", "suggestion", "praise"]
    assert everything.count == sum(
        len(shelf.scripts) for shelves in everything.by_type.values() for shelf in shelves
    )
    shown = [s for shelves in everything.by_type.values() for sh in shelves for s in sh.scripts]
    assert shown and all(s.status == "published" for s in shown)
    assert "草稿" not in {s.title for s in shown}
    praise = browse.browse(db, agent, script_type="praise")
    assert praise.count and all(
        not shelves for t, shelves in praise.by_type.items() if t != "praise"
    )
    monkeypatch.setattr(browse, "MAX_SHOWN", 5)
    capped = browse.browse(db, agent)
    assert (capped.count, capped.more) == (5, True)
    assert browse.browse(db, agent, query="没有这种话术的词").count == 0
