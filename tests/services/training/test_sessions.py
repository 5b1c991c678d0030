"""Training sessions stored turn by turn: a trainee plays a scenario to its end and gets the score
card (the quality review's criteria, the goals, the costly turns with a better reply); a
supervisor assigns one and sees the results; others cannot read or play it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, TrainingTurn
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services.actors import Actor
from kefu.services.scripts.starter import ensure_starter_library
from kefu.services.training import sessions
from tests import factories

GOOD = [
    "您好，非常抱歉让您等了这么久，您着急的心情我完全理解。请您告诉我订单号，我马上帮您查。",
    "谢谢您，给您添麻烦了。包裹在中转站耽误了，我已为您申请加急补发，今天下午5点前发出，明天送到。",
    "好的，补发单号出来我马上发给您。请问还有其他需要帮您的吗？祝您生活愉快！",
]
BAD = [
    "这是快递公司的问题，跟我们没关系。",
    "您别激动，物流慢很正常的。",
    "规定就是这样，您自己去问快递吧。",
    "我们也没办法，您等通知吧。",
]


def _actor(user) -> Actor:
    return Actor(user_id=user.id, role=user.role, via="test", name=user.name)


def _play(db, actor: Actor, replies: list[str]):
    row = sessions.do_start(db, actor, "retail-parcel-late")
    for reply in replies:
        if row.status != "active":
            break
        sessions.do_reply(db, actor, row, reply)
    db.commit()
    return row


def test_the_empathetic_path_ends_resolved_with_a_high_score_and_every_goal(db):
    me = _actor(factories.make_user(db))
    row = _play(db, me, GOOD)
    assert row.status == "resolved" and row.ended_at is not None
    turns = sessions.turns_of(db, row)
    assert [t.role for t in turns] == ["customer", "trainee"] * 3 + ["customer"]
    assert [t.reaction for t in turns if t.role == "trainee"] == ["question", "solution", "closing"]
    assert [t.emotion for t in turns if t.role == "customer"] == [
        "anxious", "neutral", "satisfied", "satisfied",
    ]  # fmt: skip
    card = row.report
    verdicts = {r["criterion"]: r["verdict"] for r in card["results"]}
    assert verdicts["greeting"] == "pass" and verdicts["courtesy"] == "pass"
    assert verdicts["emotion_trend"] == "pass"
    assert verdicts["response_time"] == verdicts["survey"] == "na"  # no facts in a simulation
    assert card["goals"] == {"calm": True, "facts": True, "solution": True, "close": True}
    assert card["coaching"] == [] and row.score == 100.0


def test_the_blaming_path_escalates_and_the_card_shows_what_cost_points(db):
    ensure_starter_library(db)  # the script library a fresh install has
    db.commit()
    me = _actor(factories.make_user(db))
    row = _play(db, me, BAD)
    assert row.status == "escalated"
    card = row.report
    verdicts = {r["criterion"]: r["verdict"] for r in card["results"]}
    assert verdicts["courtesy"] == "fail" and card["failed_critical"] == ["courtesy"]
    assert verdicts["emotion_trend"] == "fail"
    assert card["goals"]["calm"] is False and card["goals"]["solution"] is False
    costly = card["coaching"]
    assert [c["reaction"] for c in costly][:2] == ["blame", "blame"]
    assert all(c["better"] for c in costly)  # the scenario's model reply at that point
    assert all(c["library"] and c["library"]["text"] for c in costly)  # and the library's
    assert row.score is not None and row.score < 60
    with pytest.raises(Conflict):
        sessions.do_reply(db, me, row, "还在吗？")  # ended


def test_assigned_by_a_supervisor_played_by_the_trainee_only(db):
    trainee_user = factories.make_user(db)
    trainee, boss = _actor(trainee_user), _actor(factories.make_user(db, role="supervisor"))
    other = _actor(factories.make_user(db))
    row = sessions.do_assign(db, boss, trainee_user.id, "crisis-media-12315")
    db.commit()
    assert row.status == "assigned" and db.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "training.assign")
    )
    with pytest.raises(PermissionDenied):
        sessions.do_assign(db, trainee, trainee_user.id, "crisis-media-12315")
    with pytest.raises(NotFound):
        sessions.load_training(db, other, row.id)
    with pytest.raises(PermissionDenied):
        sessions.do_begin(db, other, row)
    sessions.do_begin(db, trainee, row)
    assert row.status == "active"
    opening = db.scalar(select(TrainingTurn).where(TrainingTurn.session_id == row.id))
    assert opening.role == "customer" and opening.text
    with pytest.raises(KefuError) as empty:
        sessions.do_reply(db, trainee, row, "   ")
    assert empty.value.status_code == 422
    with pytest.raises(PermissionDenied):
        sessions.do_reply(db, boss, row, "我替他回答")
    with pytest.raises(NotFound):
        sessions.do_start(db, trainee, "no-such-scenario")
    assert sessions.load_training(db, boss, row.id) is row
    _play(db, trainee, GOOD)
    results = sessions.team_results(db, boss)
    assert [(u.id, n) for u, n, _ in results] == [(trainee_user.id, 1)]
    with pytest.raises(PermissionDenied):
        sessions.team_results(db, trainee)
