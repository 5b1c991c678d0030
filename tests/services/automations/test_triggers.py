"""Admins' triggers on the test database: an event trigger setting priority and tagging, a time
trigger firing once, a script sent through the outbox, the complaint loop's guard, no loops."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import AuditEvent, AutomationEvent, AutomationFiring, Message, OutboxEntry
from kefu.domain import automations as auto
from kefu.domain.case_loop import CasePath
from kefu.services.actors import SYSTEM
from kefu.services.automations import lifecycle, triggers
from kefu.services.scripts import library
from tests import factories
from tests.services.automations.conftest import sweep

URGENT_VIP = {
    "on": "created",
    "conditions": [{"field": "channel", "op": "is", "values": ["webchat"]}],
    "actions": [
        {"type": "set_field", "field": "priority", "value": "P1"},
        {"type": "tag", "tag": "加急"},
    ],
}


def _save(db, name, definition):
    row = triggers.do_save_trigger(db, SYSTEM, name=name, definition=definition)
    db.commit()
    return row


def _firings(db, ticket_id):
    query = select(AutomationFiring).where(AutomationFiring.ticket_id == ticket_id)
    return list(db.scalars(query.order_by(AutomationFiring.id)))


def test_an_event_trigger_sets_the_priority_and_tags_the_ticket(engine, db):
    _save(db, "网聊加急", URGENT_VIP)
    chat = factories.make_ticket(db, channel="webchat")
    mail = factories.make_ticket(db, channel="email")
    report = sweep(engine, utcnow(), db)
    assert report.triggers_fired == 1
    db.refresh(chat)
    db.refresh(mail)
    assert chat.priority == "P1" and [t.name for t in chat.tags] == ["加急"]
    assert mail.priority != "P1" and mail.tags == []
    (firing,) = _firings(db, chat.id)
    assert firing.event == "created" and firing.refused == [] and len(firing.done) == 2
    changes = db.scalars(select(AuditEvent).where(AuditEvent.ticket_id == chat.id, AuditEvent.action.in_(["ticket.update", "automation.fired"])))  # fmt: skip
    assert {e.actor_type for e in changes} == {"system"}
    # the trigger's own changes (a status or priority change) queue no further events
    assert db.scalar(select(AutomationEvent.id)) is None
    assert sweep(engine, utcnow(), db).triggers_fired == 0


def test_a_time_trigger_fires_once_per_ticket(engine, db):
    _save(db, "一天未结", {
        "on": "time", "after": {"since": "created_at", "hours": 24},
        "actions": [{"type": "tag", "tag": "超一天"}, {"type": "notify", "who": "supervisors", "message": "工单超过一天未结"}],
    })  # fmt: skip
    ticket = factories.make_ticket(db, channel="web")
    assert sweep(engine, ticket.created_at + timedelta(hours=23), db).triggers_fired == 0
    assert sweep(engine, ticket.created_at + timedelta(hours=25), db).triggers_fired == 1
    assert sweep(engine, ticket.created_at + timedelta(hours=50), db).triggers_fired == 0
    db.refresh(ticket)
    assert [t.name for t in ticket.tags] == ["超一天"]
    assert len(_firings(db, ticket.id)) == 1


def test_a_send_script_action_goes_out_through_the_normal_reply_path(engine, db):
    scenario = library.do_create_scenario(db, SYSTEM, type="inquiry", name="催单", industry="电商")
    library.create_script(db, SYSTEM, scenario=scenario, title="已催促", key="auto.hurry",
                          body="您好，已为您联系仓库加急处理，请您耐心等待，感谢您的理解。")  # fmt: skip
    db.commit()
    _save(db, "催单回复", {
        "on": "customer_message", "conditions": [{"field": "channel", "op": "is", "values": ["webchat"]}],
        "actions": [{"type": "send_script", "script_key": "auto.hurry"}],
    })  # fmt: skip
    ticket = factories.make_ticket(db, channel="webchat")
    assert sweep(engine, utcnow(), db).triggers_fired == 1
    reply = db.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.direction == "outbound")).one()  # fmt: skip
    assert reply.body_text.startswith("您好，已为您联系仓库") and reply.author_type == "system"
    assert db.scalar(select(OutboxEntry.id).where(OutboxEntry.message_id == reply.id))
    assert reply.norm_score is not None  # the norms checker saw it


def test_the_loop_guard_refuses_a_trigger_skipping_a_complaint_step(engine, db):
    ticket = factories.make_ticket(db, text="快递员态度恶劣，我要投诉", intent="complaint")
    assert ticket.case_path == CasePath.COMPLAINT
    # stored before saves were checked: the guard still refuses it when it runs
    unchecked = auto.Trigger(
        "一律关闭", auto.Event.STATUS_CHANGED,
        actions=(auto.SetField("status", "closed"), auto.AddTag("已处理")),
    )  # fmt: skip
    fired = triggers.fire(db, ticket, auto.Event.STATUS_CHANGED, utcnow(), [unchecked])
    db.commit()
    db.refresh(ticket)
    assert fired == ["一律关闭"] and ticket.status != "closed"
    (firing,) = _firings(db, ticket.id)
    assert firing.refused == [{"type": "set_field", "field": "status", "value": "closed",
                               "refused": "steps_required"}]  # fmt: skip
    assert firing.done == [{"type": "tag", "tag": "已处理"}]


def test_tickets_a_time_trigger_skips_do_not_starve_later_ones(engine, db):
    _save(db, "高优先级超时", {
        "on": "time", "after": {"since": "created_at", "hours": 1},
        "conditions": [{"field": "priority", "op": "is", "values": ["P1"]}],
        "actions": [{"type": "tag", "tag": "高优超时"}],
    })  # fmt: skip
    skipped = [factories.make_ticket(db, channel="web", priority="P4") for _ in range(3)]
    urgent = factories.make_ticket(db, channel="web", priority="P1")
    db.rollback()
    with db.begin():
        fired = lifecycle.run_time_triggers(db, urgent.created_at + timedelta(hours=2), batch=2)
    assert fired == 1
    assert [f.trigger_name for f in _firings(db, urgent.id)] == ["高优先级超时"]
    assert all(_firings(db, t.id) == [] for t in skipped)
