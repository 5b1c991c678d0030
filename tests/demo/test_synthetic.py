"""``kefu demo --tickets N``: synthetic history written in bulk (SQLite, or PostgreSQL with
KEFU_TEST_DATABASE_URL), read back through the models and the API.

The demo team is made directly (the full demo takes seconds to load); the generator adds its
history on top of whatever the database holds, as it does on top of ``load_demo``. One test
generates once and checks each aspect in its own helper.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, Customer, Identity, Message, Ticket, TicketLink, User
from kefu.demo.content import load_content
from kefu.demo.synthetic import budgets_of, ensure_tags, generate, read_team
from kefu.demo.synthetic.history import plan_history
from kefu.demo.synthetic.rows import ID_TABLES, Ids
from kefu.demo.synthetic.tickets import Team
from kefu.demo.team import DEMO_GROUPS, DEMO_USERS
from kefu.domain.case_loop import COMPLAINT_STAGES, SHORT_STAGES
from kefu.domain.roles import Role
from kefu.domain.tickets import Channel, Priority, TicketStatus
from kefu.domain.triage_labels import Category, Intent
from kefu.services.sla.clocks import Policies, default_calendar
from tests import factories

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
TICKETS = 200


def test_synthetic_history_on_top_of_existing_rows(
    db: Session, engine, demo_team, client_for
) -> None:
    factories.make_ticket(db, channel="email")  # rows of every kind before the history
    before = {
        "tickets": db.scalar(select(func.max(Ticket.id))) or 0,
        "messages": db.scalar(select(func.max(Message.id))) or 0,
    }
    db.commit()  # no read transaction left open: it would see the database as it was
    report = generate(engine, tickets=TICKETS, seed=7, now=NOW)
    assert report.rows["tickets"] == TICKETS and report.rows_per_second > 0
    assert report.rows["messages"] == db.scalar(select(func.count()).select_from(Message)) - 1

    _check_coverage(db, before)
    _check_messages(db, before)
    _check_case_and_clocks(db, before)
    _check_foreign_keys(db)
    _check_kefu_carries_on(db, before, client_for, demo_team)


def _generated(db: Session, before: dict[str, int]) -> list[Ticket]:
    return list(db.scalars(select(Ticket).where(Ticket.id > before["tickets"]).order_by(Ticket.id)))


def _check_coverage(db: Session, before: dict[str, int]) -> None:
    tickets = _generated(db, before)
    assert len(tickets) == TICKETS
    seen = {
        name: Counter(getattr(t, name) for t in tickets)
        for name in ("channel", "stage", "priority", "status", "waiting_on", "category", "intent")
    }
    assert set(seen["channel"]) == {c.value for c in Channel}
    assert set(seen["stage"]) == {s.value for s in (*COMPLAINT_STAGES, *SHORT_STAGES)}
    assert set(seen["priority"]) == {p.value for p in Priority}
    assert set(seen["status"]) == {s.value for s in TicketStatus}
    assert set(seen["waiting_on"]) == {None, "customer", "third_party"}
    assert set(seen["category"]) == {c.value for c in Category}
    assert set(seen["intent"]) >= {i.value for i in Intent} - {"other"}
    # Like a real team's: most cases done, a few open, the crises a minority.
    done = seen["status"]["resolved"] + seen["status"]["closed"]
    assert done > 0.8 * TICKETS
    assert seen["priority"]["P1"] < 0.1 * TICKETS
    assert {t.group_id for t in tickets if t.status != "new"} - {None}
    assert all(t.assignee_id for t in tickets if t.status in ("resolved", "closed"))
    customers = db.scalar(
        select(func.count(func.distinct(Ticket.customer_id))).where(Ticket.id > before["tickets"])
    )
    assert 0.15 * TICKETS < customers <= 0.3 * TICKETS


def _check_messages(db: Session, before: dict[str, int]) -> None:
    tickets = {t.id: t for t in _generated(db, before)}
    messages = list(
        db.scalars(select(Message).where(Message.id > before["messages"]).order_by(Message.id))
    )
    assert 8 * TICKETS <= len(messages) <= 12 * TICKETS
    # Ids follow time across tickets, as in real use.
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)
    by_ticket: dict[int, list[Message]] = {}
    for m in messages:
        by_ticket.setdefault(m.ticket_id, []).append(m)
    assert set(by_ticket) == set(tickets)
    for ticket_id, thread in by_ticket.items():
        ticket = tickets[ticket_id]
        first = thread[0]
        assert first.direction == "inbound" and first.created_at == ticket.created_at
        assert first.author_customer_id == ticket.customer_id
        assert all(m.channel == ticket.channel for m in thread)
        for m in thread:
            if m.direction == "inbound":
                assert m.author_customer_id == ticket.customer_id and m.analysis is not None
                assert m.analysis["engine"] == "kefu-demo-synthetic"
                assert m.analysis["category"] == ticket.category
            else:
                assert m.author_customer_id is None and m.analysis is None
        replies = [m for m in thread if m.direction == "outbound"]
        assert ticket.first_response_at == (replies[0].created_at if replies else None)
        assert ticket.updated_at >= thread[-1].created_at
        assert ticket.updated_at <= NOW
    texts = Counter(m.body_text for m in messages)
    assert len(texts) > 0.7 * len(messages)  # combined, not the same sentences over and over


def _check_case_and_clocks(db: Session, before: dict[str, int]) -> None:
    for t in _generated(db, before):
        if t.status in ("resolved", "closed"):
            assert t.resolved_at is not None and t.sla_check_at is None
            assert t.first_response_due_at is None and t.resolution_due_at is None
        elif t.status == "pending":  # waiting: the clocks are paused, nothing to look at
            assert t.resolved_at is None and t.resolution_due_at is None
        else:  # running clocks: a deadline, and a moment for the sweep to look again
            assert t.resolved_at is None and t.sla_check_at is not None
            assert t.resolution_due_at is not None
        assert (t.closed_at is not None) == (t.status == "closed")
        assert (t.waiting_on is not None) == (t.status == "pending")
        if t.stage == "archived":
            assert t.case_file["lesson"] and t.case_file["solution"] and t.case_file["facts"]
        if t.case_path == "complaint":
            assert t.intent == "complaint"
        if t.repeat_complaint:
            assert db.scalar(
                select(func.count()).select_from(TicketLink).where(TicketLink.ticket_id == t.id)
            )
    events = db.scalars(select(AuditEvent).where(AuditEvent.ticket_id > before["tickets"])).all()
    assert {"ticket.create", "ticket.inbound", "ticket.reply", "ticket.claim", "ticket.update",
            "case.step"} - {e.action for e in events} == set()  # fmt: skip
    messages = {m: t for m, t in db.execute(select(Message.id, Message.ticket_id))}
    for e in events:  # the trail names the messages it is about
        if e.object_type == "message":
            assert e.after["message_id"] == e.object_id and messages[e.object_id] == e.ticket_id
        elif e.after and "message_id" in e.after:
            assert messages[e.after["message_id"]] == e.ticket_id
    created = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "customer.create")
    )
    assert created == db.scalar(select(func.count()).select_from(Customer))


def _check_foreign_keys(db: Session) -> None:
    checks = {
        "messages without their ticket": "SELECT count(*) FROM messages m LEFT JOIN tickets t ON t.id = m.ticket_id WHERE t.id IS NULL",
        "tickets without their customer": "SELECT count(*) FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id WHERE c.id IS NULL",
        "identities without their customer": "SELECT count(*) FROM identities i LEFT JOIN customers c ON c.id = i.customer_id WHERE c.id IS NULL",
        "assignees who are not users": "SELECT count(*) FROM tickets t LEFT JOIN users u ON u.id = t.assignee_id WHERE t.assignee_id IS NOT NULL AND u.id IS NULL",
        "audit events of no ticket": "SELECT count(*) FROM audit_events a LEFT JOIN tickets t ON t.id = a.ticket_id WHERE a.ticket_id IS NOT NULL AND t.id IS NULL",
        "links to no ticket": "SELECT count(*) FROM ticket_links l LEFT JOIN tickets t ON t.id = l.linked_ticket_id WHERE t.id IS NULL",
    }  # fmt: skip
    for what, sql in checks.items():
        assert db.scalar(text(sql)) == 0, what
    if db.get_bind().dialect.name == "sqlite":
        assert db.execute(text("PRAGMA foreign_key_check")).all() == []
    identities = db.scalars(select(Identity)).all()
    assert len({(i.channel, i.external_id) for i in identities}) == len(identities)
    assert db.scalar(select(func.count()).select_from(Customer)) >= 0.25 * TICKETS


def _check_kefu_carries_on(
    db: Session, before: dict[str, int], client_for: Any, team: dict[str, User]
) -> None:
    """New rows get fresh ids (PostgreSQL's sequences moved past the generated ones), and the
    generated tickets are what the API lists and shows."""
    last_ticket = db.scalar(select(func.max(Ticket.id)))
    last_message = db.scalar(select(func.max(Message.id)))
    ticket = factories.make_ticket(db, channel="phone")
    reply = factories.make_reply(db, ticket)
    assert ticket.id == last_ticket + 1 and reply.id > last_message + 1

    agent = team["li.na@demo.kefu"]  # 售前组
    client = client_for(agent)
    page = client.get("/api/v1/tickets", params={"limit": 100})
    assert page.status_code == 200, page.text
    listed = [t["id"] for t in page.json()["items"]]
    assert ticket.id in listed and any(i > before["tickets"] for i in listed if i != ticket.id)
    generated = db.scalar(
        select(Ticket.id).where(Ticket.id > before["tickets"], Ticket.id < ticket.id,
                                Ticket.assignee_id == agent.id, Ticket.case_path == "short")
        .order_by(Ticket.id.desc()).limit(1)
    )  # fmt: skip
    assert generated is not None
    detail = client.get(f"/api/v1/tickets/{generated}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["messages"][0]["direction"] == "inbound"
    timeline = client.get(f"/api/v1/tickets/{generated}/timeline").json()
    assert [e["kind"] for e in timeline].count("message") == len(detail.json()["messages"])
    assert any(e["action"] == "ticket.create" for e in timeline)


def _planned_rows(seed: int, *, tickets: int = 60, workers: int = 0) -> list[tuple[object, ...]]:
    """The rows ``plan_history`` makes for a team with made-up ids, without a database."""
    content = load_content()
    team = Team(
        user_ids={e: i + 1 for i, (e, *_) in enumerate(DEMO_USERS)},
        roles={e: Role(r) for e, _, r, _ in DEMO_USERS},
        group_ids={n: i + 1 for i, (n, _) in enumerate(DEMO_GROUPS)},
        admin_id=1, webchat_channel_id=None, budgets=budgets_of(Policies()), calendars={},
        default_calendar=default_calendar(),
    )  # fmt: skip
    tags = sorted({t for s in content.scenarios for t in s.tags} | {"VIP", "老客户", "港澳台"})
    ids = Ids(dict.fromkeys(ID_TABLES, 100))
    batches = plan_history(random.Random(seed), NOW, content, team, ids,
                           {t: i for i, t in enumerate(tags)}, tickets=tickets,
                           batch_rows=1_000, workers=workers)  # fmt: skip
    return [row for batch in batches for table_rows in batch.rows.values() for row in table_rows]


def test_same_seed_same_history() -> None:
    """The plan is a function of the seed, the moment and the first free ids."""
    first = _planned_rows(11)
    assert first == _planned_rows(11)
    assert first != _planned_rows(12)


def test_worker_processes_make_the_same_history() -> None:
    assert _planned_rows(5, tickets=150, workers=1) == _planned_rows(5, tickets=150)


def test_the_team_must_be_complete(db: Session, engine) -> None:
    factories.make_group(db, name=DEMO_GROUPS[0][0])  # the demo is "there", its team is not
    with pytest.raises(RuntimeError, match="incomplete"):
        read_team(db)
    assert ensure_tags(db)["VIP"]


def test_analysis_has_the_shape_of_the_engines() -> None:
    """What the generator stores as a message's analysis reads like the engine's output."""
    from kefu.demo.synthetic.analysis import read_message
    from kefu.nlp.analysis import analyzer

    text = "你们的产品把我孩子烫伤了，我要找媒体曝光！订单SL2026123456"
    real = analyzer().analyze(text).to_json()
    crisis = next(s for s in load_content().scenarios if "safety" in s.labels.risks)
    reading = read_message(random.Random(1), crisis.labels, crisis.flags, text,
                           first=True, thanks=False, traditional=False)  # fmt: skip
    made = reading.analysis
    assert set(made) == set(real)
    assert set(made["cues"]) == set(real["cues"])
    assert set(made["confidence"]) == set(real["confidence"])
    for ours in made["explanations"]:
        assert set(ours) <= set(real["explanations"][0]) | {"source"}
        if ours["span"]:
            assert text[ours["start"] : ours["end"]] == ours["span"]
    assert made["priority"] == "P1" and "safety" in made["risks"]
    assert reading.triage.priority == "P1" and reading.triage.priority_reason.startswith("P1：")
    assert reading.explanations["risks.safety"].startswith("人身安全")


def test_fillers_use_the_scenarios_slots_in_both_scripts() -> None:
    from kefu.demo.content import SLOTS, render
    from kefu.demo.synthetic.fillers import fillers

    slots = dict.fromkeys(SLOTS, "X")
    rng = random.Random(5)
    for script in ("hans", "hant"):
        writer = fillers(script)
        lines = [
            render(turn.variants[0], slots)
            for category in [c.value for c in Category]
            for _ in range(20)
            for turn in writer.exchange(rng, category, "angry")
        ]
        assert all("{" not in line and line.strip() for line in lines)
    assert "物流现在到哪了？" in fillers("hans").f.customer["logistics"]
    assert "物流現在到哪了？" in fillers("hant").f.customer["logistics"]
