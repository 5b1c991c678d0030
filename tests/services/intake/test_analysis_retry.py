"""The retry of analyses that failed, for a ticket opened by staff (intake's case is in
test_intake_writer.py)."""

from __future__ import annotations

from kefu.nlp.analysis import analyzer
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.intake.analysis_retry import retry_failed_analyses
from tests import factories


def _broken():
    raise RuntimeError("the model could not be loaded")


def test_a_staff_ticket_whose_analysis_fails_is_opened_and_analyzed_later(db):
    customer = factories.make_customer(db)
    ticket = tickets.do_create_ticket(
        db, SYSTEM, customer_id=customer.id, subject="电话", channel="phone",
        text="你们再不退款我就去12315投诉，还要找媒体曝光", analysis=_broken,
    )  # fmt: skip
    db.commit()
    [message] = ticket.messages
    assert ticket.priority == "P4" and message.analysis is None
    assert message.analysis_error == "RuntimeError: the model could not be loaded"

    report = retry_failed_analyses(db, analyzer, message.analysis_retry_at)
    db.commit()
    assert report.analyzed == 1 and message.analysis_retry_at is None
    assert (ticket.priority, ticket.risks) == ("P1", ["media", "regulator"])
