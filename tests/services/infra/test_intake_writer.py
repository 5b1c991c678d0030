"""The batching intake writer, driven directly on the test database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from kefu.api.database_gate import DatabaseAdmission
from kefu.db.base import utcnow
from kefu.db.engine import database_slots, make_session_factory, writer_bind
from kefu.db.models import InboundPayload, Message, Ticket
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM, Actor
from kefu.services.infra.intake_writer import IntakeWriter
from kefu.services.intake import integrations
from kefu.services.intake.inbound import (
    AttachmentLimits,
    Delivery,
    InboundMessage,
    InboundResult,
    Sender,
)
from tests import factories


def _writer(engine, tmp_path, **kwargs) -> IntakeWriter:
    admission = DatabaseAdmission(
        slots=database_slots(engine), serialize_writes=engine.dialect.name == "sqlite"
    )
    return IntakeWriter(
        make_session_factory(writer_bind(engine)),
        AttachmentLimits(tmp_path, 1_000_000),
        admit=admission.writer,
        **kwargs,
    )


def _delivery(
    external_id: str,
    sender: str = "s1",
    text: str = "你好，订单什么时候到？",
    *,
    actor: Actor = SYSTEM,
) -> Delivery:
    message = InboundMessage(
        channel="api", external_id=external_id, sender=Sender(sender, "顾客"), text=text
    )
    return Delivery(actor, message, raw=f'{{"external_id": "{external_id}"}}', received_at=utcnow())


async def _submit_all(writer: IntakeWriter, deliveries: list[Delivery]) -> list:
    try:
        return await asyncio.gather(*(writer.submit(d) for d in deliveries))
    finally:
        await writer.close()


def test_messages_waiting_together_are_written_in_few_transactions(engine, db, tmp_path):
    writer = _writer(engine, tmp_path)
    deliveries = [_delivery(f"m{i}", sender=f"s{i % 5}") for i in range(60)]
    outcomes = asyncio.run(_submit_all(writer, deliveries))

    assert all(isinstance(o, InboundResult) and not o.duplicate for o in outcomes)
    assert writer.batches < 10  # the first message goes alone, the rest wait together
    assert len({o.message_id for o in outcomes}) == 60
    by_sender = {}
    for d, o in zip(deliveries, outcomes, strict=True):
        by_sender.setdefault(d.message.sender.external_id, set()).add(o.ticket_id)
    assert all(len(tickets) == 1 for tickets in by_sender.values())  # one open ticket each
    assert db.scalar(select(func.count()).select_from(Ticket)) == 5
    assert db.scalar(select(func.count()).select_from(Message)) == 60


def test_redelivery_within_one_batch_is_a_duplicate(engine, db, tmp_path):
    writer = _writer(engine, tmp_path)
    first, again, other = asyncio.run(
        _submit_all(writer, [_delivery("x1"), _delivery("x1"), _delivery("x2")])
    )
    assert not first.duplicate and again.duplicate
    assert (again.ticket_id, again.message_id) == (first.ticket_id, first.message_id)
    assert other.message_id != first.message_id
    assert db.scalar(select(func.count()).select_from(Message)) == 2


def test_redelivery_by_another_integration_within_one_batch_learns_no_ids(engine, db, tmp_path):
    actors = []
    for name in ("网关甲", "网关乙"):
        _, row, _ = integrations.do_create_integration(
            db, SYSTEM, name=name, channels=["api"], secret_key=factories.SECRET_KEY
        )
        actors.append(integrations.actor_for(row))
    db.commit()
    writer = _writer(engine, tmp_path)
    first, same, other = asyncio.run(
        _submit_all(
            writer,
            [
                _delivery("y1", actor=actors[0]),
                _delivery("y1", actor=actors[0]),
                _delivery("y1", actor=actors[1]),
            ],
        )
    )
    assert same == InboundResult(first.ticket_id, first.message_id, first.customer_id, True)
    assert isinstance(other, KefuError) and other.code == "duplicate_delivery"
    assert str(first.ticket_id) not in f"{other.details} {other.params}"
    payload = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "y1"))
    assert payload.integration_id == actors[0].integration_id
    assert db.scalar(select(func.count()).select_from(Message)) == 1


def test_a_failing_message_does_not_fail_its_batch(engine, db, tmp_path):
    # A message of an agent already carries this external id: storing the inbound one
    # breaks the unique key, which rolls back the whole batch.
    ticket = factories.make_ticket(db, channel="api")
    ticket.messages[0].external_id = "taken"
    db.commit()
    writer = _writer(engine, tmp_path)
    deliveries = [_delivery("ok-1", "a"), _delivery("taken", "b"), _delivery("ok-2", "c")]
    outcomes = asyncio.run(_submit_all(writer, deliveries))

    assert isinstance(outcomes[0], InboundResult) and isinstance(outcomes[2], InboundResult)
    assert isinstance(outcomes[1], KefuError) and outcomes[1].code == "inbound_failed"
    db.rollback()
    kept = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "taken"))
    assert (
        kept is not None
        and kept.error
        and "IntegrityError" in kept.error
        and kept.message_id is None
    )
    assert kept.payload == deliveries[1].raw
    stored = db.scalars(
        select(Message.external_id).where(Message.external_id.in_(["ok-1", "ok-2"]))
    ).all()
    assert sorted(stored) == ["ok-1", "ok-2"]


def test_refused_delivery_keeps_its_payload_and_the_batch_goes_on(engine, db, tmp_path):
    other = factories.make_ticket(db, channel="api")
    writer = _writer(engine, tmp_path)
    wrong = _delivery("r1", "a")
    wrong = Delivery(
        wrong.actor,
        InboundMessage(**{**wrong.message.__dict__, "ticket_id": other.id}),
        wrong.raw,
        wrong.received_at,
    )
    outcomes = asyncio.run(_submit_all(writer, [_delivery("r0", "a"), wrong, _delivery("r2", "a")]))
    assert isinstance(outcomes[1], KefuError) and outcomes[1].code == "not_found"
    assert outcomes[0].ticket_id == outcomes[2].ticket_id != other.id
    assert writer.batches <= 2  # refused in the batch, not by a rollback and retry
    db.rollback()
    kept = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "r1"))
    assert kept.error and kept.error.startswith("not_found") and kept.processed_at is None


def test_full_queue_is_refused_with_503(engine, tmp_path):
    writer = _writer(engine, tmp_path, max_queue=3)

    async def flood():
        return await asyncio.gather(
            *(writer.submit(_delivery(f"q{i}", f"s{i}")) for i in range(6)), return_exceptions=True
        )

    async def run():
        try:
            return await flood()
        finally:
            await writer.close()

    outcomes = asyncio.run(run())
    busy = [o for o in outcomes if isinstance(o, KefuError)]
    assert busy and all(
        e.code == "intake_busy" and e.status_code == 503 and e.retry_after for e in busy
    )
    assert sum(isinstance(o, InboundResult) for o in outcomes) >= 3


@pytest.mark.parametrize("n", [1, 30])
def test_close_writes_what_is_queued(engine, db, tmp_path, n):
    writer = _writer(engine, tmp_path)

    async def run():
        tasks = [asyncio.create_task(writer.submit(_delivery(f"c{i}", f"s{i}"))) for i in range(n)]
        await asyncio.sleep(0)  # queued, not yet written
        await writer.close()
        return [t.result() for t in tasks]

    outcomes = asyncio.run(run())
    assert all(isinstance(o, InboundResult) for o in outcomes)
    assert db.scalar(select(func.count()).select_from(Message)) == n


def test_same_external_id_on_two_channels_in_one_batch(engine, db, tmp_path):
    writer = _writer(engine, tmp_path)
    api = _delivery("same", "a")
    email_message = InboundMessage(
        channel="email", external_id="same", sender=Sender("a@example.cn"), text="邮件"
    )
    email = Delivery(SYSTEM, email_message, raw="{}", received_at=utcnow())
    first, other, again = asyncio.run(_submit_all(writer, [api, email, _delivery("same", "a")]))
    assert not first.duplicate and not other.duplicate and again.duplicate
    assert first.message_id != other.message_id and first.customer_id != other.customer_id
    assert again.message_id == first.message_id


def test_two_writers_at_once_make_one_customer_and_one_ticket(engine, db, tmp_path):
    """Two processes taking the first messages of one new sender at the same moment."""
    import threading

    from kefu.services.intake.inbound import receive_batch

    factory = make_session_factory(writer_bind(engine))
    limits = AttachmentLimits(tmp_path, 1000)
    barrier = threading.Barrier(2)
    outcomes: dict[int, list] = {}

    def write(n: int) -> None:
        deliveries = [_delivery(f"w{n}-{i}", "newcomer") for i in range(5)]
        barrier.wait()
        with factory() as session:
            outcomes[n] = receive_batch(session, deliveries, limits)
            session.commit()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    results = outcomes[0] + outcomes[1]
    assert all(isinstance(o, InboundResult) for o in results)
    assert len({o.customer_id for o in results}) == 1
    assert len({o.ticket_id for o in results}) == 1
    assert db.scalar(select(func.count()).select_from(Message)) == 10


def test_crises_in_one_batch_leave_one_triage_event_with_every_reason(engine, db, tmp_path):
    from kefu.db.models import AuditEvent

    writer = _writer(engine, tmp_path)
    deliveries = [
        _delivery("t1", "a", "快递怎么还没到"),
        _delivery("t2", "a", "再不处理我就发抖音曝光你们"),
        _delivery("t3", "a", "我已经打了12315"),
    ]
    outcomes = asyncio.run(_submit_all(writer, deliveries))
    assert len({o.ticket_id for o in outcomes}) == 1
    db.rollback()
    ticket = db.get(Ticket, outcomes[0].ticket_id)
    assert (ticket.priority, ticket.risks) == ("P1", ["media", "regulator"])
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.triage")).all()
    assert len(events) == 1
    assert set(events[0].after["reasons"]) == {"media", "regulator", "priority"}
    assert events[0].before["risks"] == [] and events[0].before["priority"] != "P1"
    assert events[0].after["priority"] == "P1" and events[0].after["risks"] == [
        "media",
        "regulator",
    ]
    opened = db.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.create")).one()
    assert opened.after["risks"] == [] and opened.after["category"] == "logistics"


def test_the_writer_analyzes_with_the_analyzer_it_was_given(engine, db, tmp_path):
    from functools import partial

    from kefu.nlp.analysis import analyzer

    writer = _writer(engine, tmp_path, analysis=partial(analyzer, accurate=True))
    [outcome] = asyncio.run(
        _submit_all(writer, [_delivery("acc-1", text="充电宝冒烟了，差点着火！")])
    )
    message = db.get(Message, outcome.message_id)
    assert message.analysis["engine"].endswith("+e5") and message.analysis["risks"] == ["safety"]
    assert db.get(Ticket, outcome.ticket_id).priority == "P1"


def test_the_app_setting_picks_the_accurate_path(settings, engine):
    from kefu.app import create_app

    app = create_app(settings.model_copy(update={"nlp_accurate": True}), engine=engine)
    assert app.state.intake.analysis().accurate is not None
    assert create_app(settings, engine=engine).state.intake.analysis().accurate is None


POISON = "【坏】"  # a message with this text makes PoisonedAnalyzer raise


class PoisonedAnalyzer:
    """The shipped analyzer, except that it raises on any message containing ``POISON`` while
    ``broken``; ``entered`` and ``release`` let a test hold the first poisoned batch."""

    def __init__(self, hold: bool = False) -> None:
        import threading

        from kefu.nlp.analysis import analyzer

        self.real = analyzer()
        self.accurate = self.real.accurate
        self.broken = True
        self.hold = hold
        self.entered = threading.Event()
        self.release = threading.Event()

    def _check(self, texts) -> None:
        if self.broken and any(POISON in t for t in texts):
            if self.hold and not self.entered.is_set():
                self.entered.set()
                assert self.release.wait(30)
            raise RuntimeError("the analyzer broke on this message")

    def analyze(self, text, history=None):
        self._check([text])
        return self.real.analyze(text, history)

    def analyze_batch(self, texts):
        self._check(texts)
        return self.real.analyze_batch(texts)


THREAT = f"{POISON}你们再不退款我就去12315投诉，还要找媒体曝光"


def test_a_message_whose_analysis_raises_is_stored_flagged_and_retried(engine, db, tmp_path):
    from datetime import timedelta

    from kefu.db.models import AuditEvent

    poisoned = PoisonedAnalyzer(hold=True)
    writer = _writer(engine, tmp_path, analysis=lambda: poisoned)
    batch = [
        _delivery("calm", "a", "快递怎么还没到"),
        _delivery("bad", "b", THREAT),
        _delivery("loud", "c", "我已经打了12315"),
    ]

    async def run():
        first = [asyncio.create_task(writer.submit(d)) for d in batch]
        await asyncio.to_thread(poisoned.entered.wait, 30)  # the batch is being analyzed
        later = asyncio.create_task(writer.submit(_delivery("later", "d", "请问周末发货吗")))
        await asyncio.sleep(0)  # queued behind the batch, nobody posts after it
        poisoned.release.set()
        outcomes = await asyncio.gather(*first, return_exceptions=True)
        await writer.close()
        return outcomes, later

    outcomes, later = asyncio.run(run())
    assert all(isinstance(o, InboundResult) and not o.duplicate for o in outcomes), outcomes
    assert later.done() and isinstance(later.result(), InboundResult)
    db.rollback()
    calm, bad, loud = (db.get(Message, o.message_id) for o in outcomes)
    assert calm.analysis is not None and loud.analysis["risks"] == ["regulator"]
    assert calm.analysis_error is None and loud.analysis_error is None
    assert bad.analysis is None and "RuntimeError" in bad.analysis_error
    assert bad.analysis_attempts == 1 and bad.analysis_retry_at is not None
    payload = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "bad"))
    assert payload.processed_at is not None and payload.error is None
    ticket = db.get(Ticket, outcomes[1].ticket_id)
    assert (ticket.priority, ticket.risks) == ("P4", [])  # no triage from it yet
    assert db.get(Ticket, outcomes[2].ticket_id).risks == ["regulator"]

    # Still broken: it stays flagged and waits longer before the next try.
    from kefu.services.intake.analysis_retry import retry_failed_analyses

    due = bad.analysis_retry_at
    report = retry_failed_analyses(db, lambda: poisoned, due)
    db.commit()
    assert (report.analyzed, report.failed) == (0, 1)
    db.refresh(bad)
    assert bad.analysis_attempts == 2 and bad.analysis_retry_at - due > due - bad.created_at
    assert retry_failed_analyses(db, lambda: poisoned, due).failed == 0  # not in a tight loop

    poisoned.broken = False
    fixed_at = bad.analysis_retry_at
    report = retry_failed_analyses(db, lambda: poisoned, fixed_at)
    db.commit()
    assert (report.analyzed, report.failed) == (1, 0)
    db.refresh(bad)
    db.refresh(ticket)
    assert bad.analysis_error is None and bad.analysis_retry_at is None
    assert set(bad.analysis["risks"]) == {"media", "regulator"}
    assert (ticket.priority, ticket.risks) == ("P1", ["media", "regulator"])
    assert ticket.priority_reason and ticket.intent == "complaint"
    assert ticket.case_path == "complaint"  # the case follows its intent, as at intake
    assert ticket.sla_check_at == fixed_at  # the sweep re-plans its deadlines at once
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "ticket.triage", AuditEvent.ticket_id == ticket.id
        )
    ).one()
    assert event.before["priority"] == "P4" and event.after["priority"] == "P1"
    assert set(event.after["reasons"]) == {"media", "regulator", "priority"}
    assert retry_failed_analyses(db, lambda: poisoned, due + timedelta(days=30)).analyzed == 0


def test_a_failed_analysis_on_a_routed_case_routes_it_again_once_retried(engine, db, tmp_path):
    from kefu.services.intake.analysis_retry import retry_failed_analyses

    group = factories.make_group(db, name="售后组")
    customer = factories.make_customer(db, identities=[("api", "s9")])
    routed = factories.make_ticket(db, customer=customer, group=group, channel="api", text="你好")
    poisoned = PoisonedAnalyzer()
    writer = _writer(engine, tmp_path, analysis=lambda: poisoned)
    [outcome] = asyncio.run(_submit_all(writer, [_delivery("bad-2", "s9", THREAT)]))
    assert outcome.ticket_id == routed.id
    db.rollback()
    message = db.get(Message, outcome.message_id)
    poisoned.broken = False
    now = message.analysis_retry_at
    assert retry_failed_analyses(db, lambda: poisoned, now).analyzed == 1
    db.commit()
    db.refresh(routed)
    assert routed.route_again and routed.priority == "P1"
    assert routed.sla_check_at == now
