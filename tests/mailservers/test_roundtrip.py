"""Real mail both ways: a customer's mail sent with smtplib through a private Postfix lands in
the Maildir a private Dovecot serves, kefu's fetcher makes it a ticket; an agent's reply leaves
through the outbox and the EmailAdapter, through Postfix, and reaches the customer's mailbox
with the thread's headers; the customer's answer to it threads back onto the ticket."""

from __future__ import annotations

import email
import smtplib
import tempfile
from collections.abc import Iterator
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from kefu.channels.adapters import process_adapters
from kefu.db.engine import make_session_factory
from kefu.db.models import MailRaw, Message, OutboxEntry, Ticket
from kefu.services.actors import SYSTEM
from kefu.services.mail.fetch import Fetcher
from kefu.services.mail.mailboxes import do_create_mailbox
from kefu.services.outbound.service import relay_for
from kefu.settings import Settings
from tests import mail_data
from tests.factories import make_reply
from tests.mailservers.dovecot import PASSWORD, Dovecot
from tests.mailservers.postfix import PostfixServer, running_postfix

SUPPORT = "support@shop.test"
# The live server's relay would send this test's mail (and hold SQLite's lock meanwhile).
pytestmark = [pytest.mark.mail_servers, pytest.mark.usefixtures("quiet_relays")]
CUSTOMER = "li.lei@customer.test"


@pytest.fixture(scope="module")
def postfix(dovecot: Dovecot) -> Iterator[PostfixServer]:
    with running_postfix(Path(tempfile.gettempdir())) as server:  # it makes its own dir
        dovecot.share_maildir(SUPPORT, server.maildir)
        yield server


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def send(server: PostfixServer, raw: bytes, to: str) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.sendmail(CUSTOMER, [to], raw)


def test_a_mail_round_trip_through_postfix_and_dovecot(
    postfix: PostfixServer,
    dovecot: Dovecot,
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    mailbox = do_create_mailbox(
        db, SYSTEM, secret_key=settings.secret_key, name="客服", address=SUPPORT,
        imap_host=dovecot.host, imap_port=dovecot.imap_port, imap_security="none",
        imap_username=SUPPORT, imap_password=PASSWORD,
        smtp_host=postfix.host, smtp_port=postfix.port, smtp_security="none", is_default=True,
    )  # fmt: skip
    db.commit()
    first = mail_data.new_id()
    send(postfix, mail_data.plain(
        sender=CUSTOMER, to=SUPPORT, subject="快递丢了", charset="gb2312", body="快递显示签收但我没收到。",
        message_id=first,
    ), SUPPORT)  # fmt: skip
    postfix.wait_for(SUPPORT)
    fetch = Fetcher(sessions, settings)
    assert fetch.fetch_mailbox(mailbox.id).imported == 1
    db.rollback()
    ticket = db.scalar(select(Ticket))
    assert ticket is not None and ticket.subject == "快递丢了"

    reply = make_reply(db, ticket, "您好，已联系快递公司核实，今天给您答复。")
    entry = db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == reply.id))
    assert entry is not None and entry.target["in_reply_to"] == first
    adapters = process_adapters(settings, sessions)
    relay = relay_for(sessions, adapters, settings)
    try:
        relay.run_until_idle()
    finally:
        relay.close()

    [answer] = postfix.wait_for(CUSTOMER)
    parsed = email.message_from_bytes(answer, policy=default_policy)
    assert parsed["In-Reply-To"] == f"<{first}>"
    assert f"<{first}>" in parsed["References"]
    assert parsed["Subject"] == f"Re: 快递丢了 [#{ticket.id}]"
    body = parsed.get_body(("plain",))
    assert body is not None and "已联系快递公司核实" in body.get_content()
    kefu_id = parsed["Message-ID"].strip("<>")

    send(postfix, mail_data.plain(
        sender=CUSTOMER, to=SUPPORT, subject=f"Re: 快递丢了 [#{ticket.id}]", body="好的，等您消息。",
        message_id=mail_data.new_id(), extra={"In-Reply-To": f"<{kefu_id}>", "References": f"<{first}> <{kefu_id}>"},
    ), SUPPORT)  # fmt: skip
    postfix.wait_for(SUPPORT, count=2)
    fetch.fetch_mailbox(mailbox.id)

    db.rollback()
    texts = list(
        db.scalars(
            select(Message.body_text).where(Message.ticket_id == ticket.id).order_by(Message.id)
        )
    )
    assert texts == [
        "快递显示签收但我没收到。",
        "您好，已联系快递公司核实，今天给您答复。",
        "好的，等您消息。",
    ]
    assert db.scalar(select(Ticket.id).where(Ticket.id != ticket.id)) is None
    # Postfix's catch-all also holds kefu's own reply: read back, it is recorded, never a ticket.
    states = list(db.scalars(select(MailRaw.state).order_by(MailRaw.id)))
    assert states == ["imported", "auto_reply", "imported"]
