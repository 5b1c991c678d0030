"""The starter library: every scenario of the issue and the industries, loaded once, never over a
team's edits."""

from __future__ import annotations

from sqlalchemy import func, select

from kefu.db.models import Script, ScriptScenario
from kefu.domain.scripts.placeholders import find, names
from kefu.domain.scripts.ranking import Conditions
from kefu.norms import ReplyContext, check
from kefu.services.actors import SYSTEM
from kefu.services.scripts import library
from kefu.services.scripts.starter import ensure_starter_library

ISSUE_SCENARIOS = {"售前问候", "产品推荐", "价格疑虑", "促成下单", "订单确认", "发货查询", "物流延迟致歉",
                   "退换货", "质量问题", "投诉安抚", "危机安抚", "结束语"}  # fmt: skip
KNOWN = {"客户称呼", "客服名", "工号", "工单号", "时间", "处理时限", "解决方案", "补偿金额", "单号",
         "商品名称", "快递单号", "物流状态"}  # fmt: skip


def test_every_scenario_industry_type_and_opener_is_there(db, starter):
    scenarios = db.scalars(select(ScriptScenario)).all()
    assert ISSUE_SCENARIOS <= {s.name for s in scenarios}
    assert set(library.INDUSTRIES) == {s.industry for s in scenarios}
    assert set(library.TYPES) == {s.type for s in scenarios}
    scripts = db.scalars(select(Script)).all()
    assert all(db.get(ScriptScenario, s.scenario_id).id for s in scripts)
    assert {s.id for sc in scenarios for s in scripts if s.scenario_id == sc.id} == {
        s.id for s in scripts
    }
    openers = [Conditions.of(s.conditions) for s in scripts if s.role == "opener"]
    for emotion in ("angry", "anxious", "disappointed", "satisfied"):
        assert any(emotion in c.emotions for c in openers), emotion
    assert any(c.first_reply for c in openers)
    closings = [Conditions.of(s.conditions) for s in scripts if s.role == "closing"]
    for stage in ("registered", "analyzing", "resolving", "following_up", "archived", "open",
                  "resolved", "closed"):  # fmt: skip
        assert any(stage in c.stages for c in closings), stage
    for script in scripts:  # only placeholders kefu (or the order lookup) knows how to fill
        assert set(names(script.body)) <= KNOWN, script.key


def test_loading_again_changes_nothing_and_keeps_a_teams_edit(db, starter):
    assert starter.created > 40
    script = db.scalar(select(Script).where(Script.key == "kefu.retail.logistics-delay.1"))
    library.do_update_script(db, SYSTEM, script, {"body": "我们自己的说法。", "status": "retired"})
    db.commit()
    count = db.scalar(select(func.count()).select_from(Script))
    again = ensure_starter_library(db)
    db.commit()
    assert again.created == 0 and again.kept == starter.created
    assert db.scalar(select(func.count()).select_from(Script)) == count
    db.refresh(script)
    assert (script.body, script.status, script.current_version) == (
        "我们自己的说法。",
        "retired",
        2,
    )


def test_a_starter_script_a_team_lacks_is_added_back(db, starter):
    db.execute(Script.__table__.delete().where(Script.key == "kefu.general.opener.angry.1"))
    db.commit()
    again = ensure_starter_library(db)
    db.commit()
    assert again.created == 1
    assert db.scalar(select(Script).where(Script.key == "kefu.general.opener.angry.1")) is not None


KEPT_IN_EVERY_SCRIPT = {
    "vague_commitment", "over_promise", "jargon", "negative_refusal", "blame_shifting",
    "dismissive", "impolite", "privacy_exposure",
}  # fmt: skip


def test_the_starter_library_keeps_the_norms_it_teaches(db, starter):
    """A script is an example to agents: no rule on what it says is broken (placeholders and
    the greeting or closing, which the composition adds, aside)."""
    for script in db.scalars(select(Script)):
        spans = [(p.start, p.end) for p in find(script.body)]
        broken = [
            (f.rule, script.body[f.start : f.end])
            for f in check(script.body, ReplyContext(channel="email"))
            if f.rule in KEPT_IN_EVERY_SCRIPT
            and not any(start <= f.start and f.end <= end for start, end in spans)
        ]
        assert not broken, (script.title, broken)
