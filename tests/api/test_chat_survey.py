"""A web chat visitor answers the survey asked in the conversation with one tap: the same
service as the link, and only for the visitor's own case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import Message, Survey, Ticket
from kefu.domain import case_loop as cw
from kefu.domain.tickets import TicketStatus
from kefu.services.cases import loop
from kefu.services.surveys.send import Links, send_due
from kefu.settings import Settings
from tests import factories
from tests.visitors import Widget, bearer, start

pytestmark = pytest.mark.usefixtures("held_outbox")


def _asked(
    db: Session, engine: Engine, settings: Settings, server: str, key: str, token: str
) -> str:
    widget = Widget(server, key, token)
    try:
        widget.hello()
        widget.send(type="message", client_id="m1", text="请问怎么开发票？")
        widget.until(lambda f: f["type"] == "accepted")
    finally:
        widget.close()
    db.rollback()
    # The server may still be writing after "accepted" (analysis, routing): on SQLite a session
    # that read first and writes later would fail at once, so the writes take the lock at BEGIN.
    with make_session_factory(writer_bind(engine))() as writer:
        ticket = writer.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        assert ticket is not None and ticket.channel == "webchat"
        loop.do_status_change(ticket, TicketStatus.RESOLVED, datetime.now(UTC), cw.Policy())
        writer.commit()
        links = Links(settings.secret_key, server)
        assert send_due(writer, datetime.now(UTC) + timedelta(minutes=1), links)["sent"] == 1
        writer.commit()
        ticket_id = ticket.id
    survey = db.scalar(select(Survey).where(Survey.ticket_id == ticket_id))
    assert survey is not None and survey.message_id is not None
    message = db.get(Message, survey.message_id)
    assert message is not None and message.bot_payload is not None
    return str(message.bot_payload["survey"]["token"])


def test_a_visitor_rates_the_conversation_inline(
    db: Session, engine: Engine, settings: Settings, server: str, anon: httpx.Client
) -> None:
    channel = factories.make_webchat_channel(db)
    token = start(anon, channel.key)["visitor_token"]
    survey_token = _asked(db, engine, settings, server, channel.key, token)
    someone_else = start(anon, channel.key)["visitor_token"]
    body = {"token": survey_token, "scores": {"csat": 5}}
    refused = anon.post(f"/chat/api/{channel.key}/survey", json=body, headers=bearer(someone_else))
    assert refused.status_code == 404
    done = anon.post(f"/chat/api/{channel.key}/survey", json=body, headers=bearer(token))
    assert done.status_code == 200, done.text
    db.rollback()
    survey = db.scalars(select(Survey)).one()
    assert (survey.csat, survey.answered_via) == (5, "inline")
    again = anon.post(f"/chat/api/{channel.key}/survey", json=body, headers=bearer(token))
    assert again.status_code == 410
