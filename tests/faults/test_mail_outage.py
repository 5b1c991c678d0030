"""The database stops (``pg_ctl stop``) while ``kefu worker`` takes mail from a private Dovecot
(tests/mailservers/dovecot.py) and mail keeps arriving: once the database is back, every mail
delivered is one message (one ticket) — none lost, none doubled — the mailbox's cursor stands on
the folder's last UID under its UIDVALIDITY, and the worker is the same process throughout, its
IDLE loop the same thread.

The worker runs its mail job as in production: an IDLE loop holds the mailbox (Dovecot speaks
IDLE) and the polling job stands by, taking the mailbox over whenever the loop lets its lease go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory
from kefu.db.models import Mailbox, MailRaw, Message
from kefu.services.actors import SYSTEM
from kefu.services.mail.fetch import bare_id
from kefu.services.mail.mailboxes import do_create_mailbox
from tests import mail_data
from tests.faults import traffic
from tests.faults.servers import Kefu, Postgres, kefu_environment, outage_seconds
from tests.mailservers.dovecot import PASSWORD, Dovecot

pytestmark = pytest.mark.faults

# The watcher and the polling job look every half second. The lease (45 s) outlasts the waits
# below, so a fetcher waiting for a lease to expire fails them; IDLE is re-issued every 15 s
# (lease / 3): mail landing just as IDLE starts is announced only to the next one.
MAIL = {"mail_poll_seconds": 0.5, "mail_lease_seconds": 45}
BEFORE, AFTER = 4, 4  # mails delivered before the outage and after it; more arrive during it


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def address(dovecot: Dovecot, private_engine: Engine) -> str:
    """The support address on the Dovecot, and its kefu mailbox (the only one)."""
    address = dovecot.add_user("support-faults")
    with make_session_factory(private_engine)() as db:
        do_create_mailbox(
            db, SYSTEM, secret_key=traffic.SECRET_KEY, name="客服邮箱", address=address,
            imap_host=dovecot.host, imap_port=dovecot.imap_port, imap_security="none",
            imap_username=address, imap_password=PASSWORD,
        )  # fmt: skip
        db.commit()
    return address


@pytest.fixture(scope="module")
def worker(postgres: Postgres, fault_dir: Path, address: str) -> Iterator[Kefu]:
    env = kefu_environment(
        database_url=postgres.url, data_dir=fault_dir, redis_url=None, **traffic.FAST, **MAIL
    )
    process = Kefu.worker(env, fault_dir / "worker.log", "--job", "mail")
    yield process
    process.kill()


@dataclass
class Sender:
    """Delivers mail to ``address`` by IMAP APPEND, each with its own Message-ID and tag."""

    dovecot: Dovecot
    address: str
    message_ids: dict[str, str] = field(default_factory=dict)  # tag -> bare Message-ID

    def deliver(self, tag: str) -> None:
        message_id = mail_data.new_id()
        self.dovecot.append(self.address, mail_data.plain(
            sender=f"{tag}@customer.test", to=self.address, subject=f"快递没到 {tag}",
            body=traffic.tagged(tag), message_id=f"<{message_id}>",
        ))  # fmt: skip
        self.message_ids[tag] = bare_id(f"<{message_id}>") or message_id

    def keep_delivering(self, prefix: str, stop: threading.Event) -> None:
        """One mail every 0.2 s until ``stop`` (run in a thread during the outage)."""
        n = 0
        while not stop.is_set():
            self.deliver(f"{prefix}-{n}")
            n += 1
            stop.wait(0.2)


def folder_state(dovecot: Dovecot, address: str) -> tuple[int, int]:
    """The INBOX's UIDVALIDITY and its highest UID, as Dovecot says."""
    client = dovecot.imap(address)
    try:
        client.select("INBOX", readonly=True)
        _, (validity,) = client.response("UIDVALIDITY")
        _, (uids,) = client.uid("SEARCH", "ALL")
    finally:
        client.logout()
    return int(validity), max(int(u) for u in uids.split())


def messages_by_id(db: Session, message_ids: list[str]) -> dict[str, int]:
    """How many e-mail messages are stored under each Message-ID (a fresh read, and no
    connection kept: the database may go away before the next)."""
    db.rollback()
    rows = db.execute(
        select(Message.external_id, func.count())
        .where(Message.channel == "email", Message.external_id.in_(message_ids))
        .group_by(Message.external_id)
    ).all()
    db.rollback()
    return {external_id: n for external_id, n in rows}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_mail_arriving_through_a_database_outage_becomes_one_message_each(
    mode: str,
    postgres: Postgres,
    dovecot: Dovecot,
    address: str,
    worker: Kefu,
    fault_db: Session,
) -> None:
    """``pg_ctl stop -m fast`` and ``-m immediate`` while mail is delivered before, during and
    after the outage."""
    db = fault_db
    worker_pid = worker.pid
    sender = Sender(dovecot, address)
    for n in range(BEFORE):
        sender.deliver(f"mail-{mode}-before-{n}")
    traffic.wait_for(
        lambda: len(messages_by_id(db, list(sender.message_ids.values()))) == BEFORE,
        30, f"the {BEFORE} mails before the outage taken in: {worker.tail()}",
    )  # fmt: skip

    stop = threading.Event()
    during = threading.Thread(target=sender.keep_delivering, args=(f"mail-{mode}-during", stop))
    during.start()
    time.sleep(0.3)  # the worker is taking a mail or two as the database goes
    postgres.stop(mode)
    time.sleep(outage_seconds())
    postgres.start()
    time.sleep(0.3)  # and mail keeps coming as it is back
    stop.set()
    during.join(10)
    for n in range(AFTER):
        sender.deliver(f"mail-{mode}-after-{n}")

    delivered = list(sender.message_ids.values())
    assert len(delivered) > BEFORE + AFTER + 3  # several arrived during the outage
    traffic.wait_for(
        lambda: len(messages_by_id(db, delivered)) == len(delivered),
        30, f"every delivered mail taken in: {worker.tail()}",
    )  # fmt: skip
    time.sleep(1.5)  # a few more rounds of the IDLE loop and the polling job: still once each
    assert messages_by_id(db, delivered) == {message_id: 1 for message_id in delivered}
    for tag in sender.message_ids:
        assert traffic.count_stored(db, tag) == 1, tag

    db.rollback()
    raws = db.execute(
        select(MailRaw.header_message_id, MailRaw.state, MailRaw.ticket_id).where(
            MailRaw.header_message_id.in_(delivered)
        )
    ).all()
    assert sorted(r.header_message_id for r in raws) == sorted(delivered)  # stored once each
    assert {r.state for r in raws} == {"imported"}, [r for r in raws if r.state != "imported"]
    assert len({r.ticket_id for r in raws}) == len(delivered)  # a ticket each (a sender each)

    mailbox = db.scalars(select(Mailbox)).one()
    assert (mailbox.uidvalidity, mailbox.last_uid) == folder_state(dovecot, address)
    assert mailbox.last_error is None
    assert worker.alive() and worker.pid == worker_pid, worker.tail()
    # and its IDLE loop the same thread: none died of an error it did not catch
    assert "Exception in thread kefu-mail-idle" not in worker.log.read_text(errors="replace")
