"""Property: after any sequence of changes — new cases, customer messages, replies, resolve,
reopen, close, reassignment, SLA breaches, surveys sent and answered late, merges, categories and
business lines — the KPI table read from the pre-aggregated tables equals the figures computed
from the raw rows (``period_facts`` + ``slices.compute``), for random slicings and periods:
every metric, value, numerator and denominator. Checked twice per example: with the changes
pending (folded into the read) and after the rollup job caught up (read from the rollup alone).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kefu.db.models import AuditEvent, Message, SlaEvent, Survey, Tag, Ticket
from kefu.domain.kpi.slices import Dimension, Period, compute
from kefu.domain.roles import Role
from kefu.domain.tickets import AuthorType, Direction
from kefu.services.actors import Actor
from kefu.services.analytics import kpis, rollup, rollup_read
from kefu.services.analytics.facts import Filters, period_facts
from tests import factories

ADMIN = Actor(user_id=None, role=Role.ADMIN, via="test", name="test")
BASE = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday, 08:00 in Shanghai
CHANNELS = ("web", "email", "webchat")
CATEGORIES = (None, "物流", "退款")
LINES = (None, "外卖", "酒店")

T = st.integers(0, 30)  # which case (modulo the cases there are)
MINUTE = st.integers(0, 40 * 24 * 60)  # within 40 days of BASE
OPS = st.one_of(
    st.tuples(st.just("new"), st.sampled_from(CHANNELS), st.sampled_from(("P2", "P3")), MINUTE,
              st.booleans()),
    st.tuples(st.just("customer"), T, st.integers(1, 600)),
    st.tuples(st.just("reply"), T, st.integers(1, 600), st.booleans()),
    st.tuples(st.just("resolve"), T, st.integers(1, 3000)),
    st.tuples(st.just("reopen"), T),
    st.tuples(st.just("close"), T),
    st.tuples(st.just("reassign"), T, st.integers(0, 2)),
    st.tuples(st.just("breach"), T, st.sampled_from(("first_response", "resolution"))),
    st.tuples(st.just("survey"), T, st.sampled_from((("csat",), ("csat", "nps"), ("ces",)))),
    st.tuples(st.just("answer"), T, st.integers(1, 5), st.integers(0, 10), st.integers(1, 7)),
    st.tuples(st.just("merge"), T, T),
    st.tuples(st.just("category"), T, st.sampled_from(CATEGORIES)),
    st.tuples(st.just("line"), T, st.sampled_from(LINES)),
    st.tuples(st.just("escalate"), T),
)  # fmt: skip
SLICING = st.tuples(
    st.lists(st.sampled_from(list(Dimension)), max_size=2, unique=True),
    st.sampled_from([None, Period.DAY, Period.WEEK, Period.MONTH]),
    st.integers(-2 * 24 * 60, 20 * 24 * 60),  # start, minutes from BASE (often not midnight)
    st.integers(60, 45 * 24 * 60),  # length in minutes
    st.sampled_from(["none", "group", "channel", "agent"]),
)


class World:
    """The cases made so far, and the staff they are handed between."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.group = factories.make_group(db, "统计组")
        self.agents = [
            factories.make_user(db, role="agent", groups=[self.group], name=f"员{i}")
            for i in range(3)
        ]
        self.customer = factories.make_customer(db)
        self.tickets: list[int] = []

    def ticket(self, index: int) -> Ticket | None:
        if not self.tickets:
            return None
        ticket = self.db.get(Ticket, self.tickets[index % len(self.tickets)])
        return None if ticket is None or ticket.merged_into_id is not None else ticket


def _message(t: Ticket, at: datetime, *, customer: bool, bot: bool = False) -> Message:
    author = AuthorType.CUSTOMER if customer else AuthorType.BOT if bot else AuthorType.USER
    return Message(
        ticket_id=t.id, channel=t.channel, body_text="…", created_at=at,
        direction=(Direction.INBOUND if customer else Direction.OUTBOUND).value,
        author_type=author.value,
    )  # fmt: skip


def _last(db: Any, t: Ticket) -> datetime:
    latest = db.scalar(select(Message.created_at).where(Message.ticket_id == t.id)
                       .order_by(Message.created_at.desc()).limit(1))  # fmt: skip
    return max(latest or t.created_at, t.created_at)


def apply(w: World, op: tuple[Any, ...]) -> None:  # noqa: C901, PLR0912 - one branch per change
    db, kind = w.db, op[0]
    if kind == "new":
        _, channel, priority, minute, complaint = op
        created = BASE + timedelta(minutes=minute)
        t = Ticket(
            subject="问题", status="open", channel=channel, priority=priority,
            customer_id=w.customer.id, created_at=created, updated_at=created,
            case_path="complaint" if complaint else "short",
            stage="registered" if complaint else "open", group_id=w.group.id,
        )  # fmt: skip
        db.add(t)
        db.flush()
        db.add(_message(t, created, customer=True))
        w.tickets.append(t.id)
        return
    t = w.ticket(op[1])
    if t is None:
        return
    if kind == "customer":
        db.add(_message(t, _last(db, t) + timedelta(minutes=op[2]), customer=True))
    elif kind == "reply":
        at = _last(db, t) + timedelta(minutes=op[2])
        db.add(_message(t, at, customer=False, bot=op[3]))
        t.first_response_at = t.first_response_at or at
    elif kind == "resolve" and t.status not in ("resolved", "closed"):
        t.status, t.resolved_at = "resolved", _last(db, t) + timedelta(minutes=op[2])
        t.stage = "archived" if t.case_path == "complaint" else "resolved"
    elif kind == "reopen" and t.status in ("resolved", "closed"):
        t.status, t.reopen_count, t.closed_at = "open", t.reopen_count + 1, None
        t.stage = "handling" if t.case_path == "complaint" else "open"
    elif kind == "close" and t.status == "resolved":
        t.status, t.closed_at = "closed", (t.resolved_at or t.created_at) + timedelta(hours=1)
    elif kind == "reassign":
        new = w.agents[op[2]].id
        if new != t.assignee_id:
            db.add(AuditEvent(actor_type="system", via="test", action="ticket.update",
                              object_type="ticket", object_id=t.id, ticket_id=t.id,
                              before={"assignee_id": t.assignee_id}, after={"assignee_id": new}))  # fmt: skip
            t.assignee_id = new
    elif kind == "breach":
        due = t.created_at + timedelta(minutes=30)
        if op[2] == "first_response":
            t.first_response_due_at = t.first_response_due_at or due
        else:
            t.resolution_due_at = t.resolution_due_at or due
        exists = db.scalar(select(SlaEvent.id).where(SlaEvent.ticket_id == t.id,
                                                     SlaEvent.key == f"{op[2]}:breach"))  # fmt: skip
        if exists is None:
            db.add(SlaEvent(ticket_id=t.id, key=f"{op[2]}:breach", target=op[2], kind="breach",
                            due_at=due, fired_at=due))  # fmt: skip
    elif kind == "survey":
        if db.scalar(select(Survey.id).where(Survey.ticket_id == t.id)) is None:
            sent = _last(db, t)
            db.add(Survey(ticket_id=t.id, customer_id=t.customer_id, channel=t.channel,
                          kinds=list(op[2]), sent_at=sent, created_at=sent, comment=""))  # fmt: skip
    elif kind == "answer":
        survey = db.scalar(select(Survey).where(Survey.ticket_id == t.id))
        if survey is not None and survey.answered_at is None:
            scores = {"csat": op[2], "nps": op[3], "ces": op[4]}
            for k in survey.kinds:
                setattr(survey, k, scores[k])
            survey.answered_at = (survey.sent_at or t.created_at) + timedelta(days=9)  # late
    elif kind == "merge":
        into = w.ticket(op[2])
        if into is not None and into.id != t.id:
            for m in db.scalars(select(Message).where(Message.ticket_id == t.id)):
                m.ticket_id = into.id
            t.merged_into_id, t.status = into.id, "closed"
    elif kind == "category":
        t.category = op[2]
    elif kind == "line":
        t.tags = [tag for tag in t.tags if not tag.name.startswith("line:")]
        if op[2] is not None:
            name = f"line:{op[2]}"
            tag = db.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name)
            t.tags.append(tag)
    elif kind == "escalate":
        t.escalations += 1
    db.flush()


def _window(slicing: tuple[Any, ...], w: World) -> dict[str, Any]:
    by, period, start_minute, length, which = slicing
    start = BASE + timedelta(minutes=start_minute)
    filters = {
        "none": Filters(),
        "group": Filters(group_id=w.group.id),
        "channel": Filters(channel="email"),
        "agent": Filters(agent_id=w.agents[0].id),
    }[which]
    return {"start": start, "end": start + timedelta(minutes=length), "by": by,
            "period": period, "filters": filters}  # fmt: skip


def _assert_equal_to_raw(db: Any, window: dict[str, Any]) -> None:
    facts = period_facts(db, start=window["start"], end=window["end"], filters=window["filters"])
    expected = compute(facts.cases, facts.replies, facts.surveys, by=window["by"],
                       period=window["period"])  # fmt: skip
    got, _ = rollup_read.figures(db, **window)
    assert list(got) == list(expected)
    for key, by_metric in expected.items():
        for metric, want in by_metric.items():
            have = got[key][metric]
            assert have.denominator == want.denominator, (key, metric)
            assert have.unit == want.unit
            if want.numerator is None:
                assert have.numerator is None
            else:
                assert have.numerator == pytest.approx(want.numerator, abs=1e-6), (key, metric)
            if want.value is None:
                assert have.value is None, (key, metric)
            else:
                assert have.value == pytest.approx(want.value, abs=1e-6), (key, metric)


@pytest.fixture
def world(db):
    return World(db)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(
    ops=st.lists(OPS, min_size=3, max_size=25), slicings=st.lists(SLICING, min_size=1, max_size=3)
)
def test_rolled_up_figures_equal_the_figures_of_the_raw_rows(world, ops, slicings):
    db = world.db
    for op in [("new", "web", "P3", 600, False), *ops]:
        apply(world, op)
    db.commit()
    sessions = lambda: db  # noqa: E731 - the job's rounds in the test's session
    for slicing in slicings:
        _assert_equal_to_raw(db, _window(slicing, world))  # pending changes folded in
    rollup.refresh_until_done(sessions, limit=7)
    assert rollup_read.freshness(db).pending == 0
    for slicing in slicings:
        _assert_equal_to_raw(db, _window(slicing, world))  # the rollup alone
    rows = kpis.kpi_table(db, ADMIN, start=BASE, end=BASE + timedelta(days=40))
    assert rows[0].cells[0].figure.denominator >= 0
