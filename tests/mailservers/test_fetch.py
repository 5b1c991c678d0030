"""The fetcher against a real Dovecot on loopback: mail APPENDed with the standard library's
imaplib becomes tickets, threads, is refused or recorded, and nothing is imported twice."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kefu.db.engine import make_session_factory
from kefu.db.models import Attachment, Mailbox, MailRaw, Message, Notification, Ticket
from kefu.services.actors import SYSTEM
from kefu.services.mail import intake
from kefu.services.mail.fetch import Fetcher, IdleLoops
from kefu.services.mail.mailboxes import do_create_mailbox
from kefu.settings import Settings
from tests import mail_data
from tests.factories import make_user
from tests.mailservers.dovecot import PASSWORD, Dovecot

pytestmark = pytest.mark.mail_servers


class Stopped(Exception):
    """A fetcher killed after storing a mail and before processing it."""


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def inbox(dovecot: Dovecot, db: Session, settings: Settings) -> tuple[str, int]:
    """A fresh support address on the Dovecot and its kefu mailbox: (address, mailbox id)."""
    address = dovecot.add_user(f"support-{secrets.token_hex(4)}")
    mailbox = do_create_mailbox(
        db, SYSTEM, secret_key=settings.secret_key, name="客服邮箱", address=address,
        imap_host=dovecot.host, imap_port=dovecot.imap_port, imap_security="none",
        imap_username=address, imap_password=PASSWORD,
    )  # fmt: skip
    db.commit()
    return address, mailbox.id


def fetcher(sessions: sessionmaker[Session], settings: Settings, **kw: object) -> Fetcher:
    return Fetcher(sessions, settings, **kw)  # type: ignore[arg-type]


def rows(db: Session, mailbox_id: int) -> list[MailRaw]:
    db.rollback()  # a new read transaction: SQLite's snapshot is per transaction
    return list(
        db.scalars(select(MailRaw).where(MailRaw.mailbox_id == mailbox_id).order_by(MailRaw.id))
    )


def test_chinese_mails_become_tickets(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    dovecot.append(address, mail_data.plain(
        sender="li.lei@customer.test", to=address, subject="订单发货太慢了", charset="gb2312",
        body_charset="big5", body="我的訂單已經一週沒有發貨，請儘快處理。", message_id=mail_data.new_id(),
    ))  # fmt: skip
    dovecot.append(address, mail_data.plain(
        sender="han.mei@customer.test", to=address, subject="退款申请", charset="gbk",
        body="请帮我退款，订单号 8812，收件人王喆。", label="gb2312", message_id=mail_data.new_id(),
    ))  # fmt: skip
    dovecot.append(address, mail_data.with_attachments(
        sender="zhao.gang@customer.test", to=address, subject="发票问题", message_id=mail_data.new_id(),
        body="发票抬头开错了，附件是截图。", files=[("发票截图.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)],
    ))  # fmt: skip

    report = fetcher(sessions, settings).fetch_mailbox(mailbox_id)

    assert report.imported == 3, report
    db.rollback()  # a new read transaction: SQLite's snapshot is per transaction
    tickets = list(db.scalars(select(Ticket).order_by(Ticket.id)))
    assert [t.subject for t in tickets] == ["订单发货太慢了", "退款申请", "发票问题"]
    assert all(t.channel == "email" for t in tickets)
    messages = list(db.scalars(select(Message).order_by(Message.id)))
    assert "我的訂單已經一週沒有發貨" in messages[0].body_text
    assert "收件人王喆" in messages[1].body_text  # 喆 is GBK, not GB2312: the label was wrong
    [attachment] = db.scalars(select(Attachment))
    assert (attachment.filename, attachment.message_id) == ("发票截图.png", messages[2].id)
    senders = [r.from_address for r in rows(db, mailbox_id)]
    assert senders == ["li.lei@customer.test", "han.mei@customer.test", "zhao.gang@customer.test"]


def test_a_reply_threads_and_a_stranger_with_the_reference_opens_a_case_of_their_own(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    first = mail_data.new_id()
    dovecot.append(address, mail_data.plain(
        sender="li.lei@customer.test", to=address, subject="耳机没声音", body="右耳没有声音。",
        message_id=first,
    ))  # fmt: skip
    fetch = fetcher(sessions, settings)
    fetch.fetch_mailbox(mailbox_id)
    ticket_id = db.scalar(select(Ticket.id))
    dovecot.append(address, mail_data.plain(
        sender="li.lei@customer.test", to=address, subject="Re: 耳机没声音", body="换了线也不行。",
        message_id=mail_data.new_id(), extra={"In-Reply-To": f"<{first}>", "References": f"<{first}>"},
    ))  # fmt: skip
    dovecot.append(address, mail_data.plain(
        sender="stranger@elsewhere.test", to=address, subject=f"Re: 耳机没声音 [#{ticket_id}]",
        body="我不是这位顾客，但我也想说两句。", message_id=mail_data.new_id(),
        extra={"In-Reply-To": f"<{first}>"},
    ))  # fmt: skip

    report = fetch.fetch_mailbox(mailbox_id)

    assert report.imported == 2
    db.rollback()  # a new read transaction: SQLite's snapshot is per transaction
    on_ticket = list(
        db.scalars(
            select(Message.body_text).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
    )
    assert on_ticket == ["右耳没有声音。", "换了线也不行。"]
    other = db.scalar(select(Ticket).where(Ticket.id != ticket_id))
    assert other is not None and other.customer_id != db.get(Ticket, ticket_id).customer_id  # type: ignore[union-attr]


def test_an_auto_reply_opens_nothing(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    dovecot.append(address, mail_data.plain(
        sender="li.lei@customer.test", to=address, subject="自动回复：我正在休假", body="我将于下周一回来。",
        message_id=mail_data.new_id(), extra={"Auto-Submitted": "auto-replied"},
    ))  # fmt: skip
    dovecot.append(address, mail_data.plain(
        sender="MAILER-DAEMON@customer.test", to=address, subject="Undelivered Mail Returned to Sender",
        body="This is the mail system.", message_id=mail_data.new_id(),
    ))  # fmt: skip

    report = fetcher(sessions, settings).fetch_mailbox(mailbox_id)

    assert report.auto_replies == 2
    assert db.scalar(select(func.count(Ticket.id))) == 0
    assert [r.state for r in rows(db, mailbox_id)] == ["auto_reply", "auto_reply"]


def test_a_30_mb_mail_is_refused_with_its_reason_and_the_admins_are_told(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    admin = make_user(db, role="admin")
    big = mail_data.with_attachments(
        sender="li.lei@customer.test", to=address, subject="大附件", body="见附件。",
        message_id=mail_data.new_id(), files=[("录像.mp4", "video/mp4", b"\0" * (22 * 1024 * 1024))],
    )  # fmt: skip
    assert len(big) > 30 * 1_000_000
    dovecot.append(address, big)
    dovecot.append(address, mail_data.plain(
        sender="han.mei@customer.test", to=address, subject="小邮件", body="这封能收到。",
        message_id=mail_data.new_id(),
    ))  # fmt: skip

    report = fetcher(sessions, settings).fetch_mailbox(mailbox_id)

    assert (report.refused, report.imported) == (1, 1)
    refused, taken = rows(db, mailbox_id)
    assert refused.state == "refused_too_large" and refused.raw is None
    assert refused.error is not None and "KEFU_MAIL_MAX_BYTES" in refused.error
    assert (refused.from_address, refused.subject) == ("li.lei@customer.test", "大附件")
    assert db.scalar(select(func.count(Ticket.id))) == 1
    notice = db.scalar(select(Notification).where(Notification.user_id == admin.id))
    assert notice is not None and notice.kind == "mail.refused"


def test_a_malformed_part_loses_nothing_of_the_rest(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    dovecot.append(address, mail_data.with_attachments(
        sender="zhao.gang@customer.test", to=address, subject="合同", message_id=mail_data.new_id(),
        body="合同和报价单在附件里。", broken=True,
        files=[("报价单.txt", "text/plain", "报价：100 元".encode("gbk"))],
    ))  # fmt: skip

    report = fetcher(sessions, settings).fetch_mailbox(mailbox_id)

    assert report.imported == 1
    db.rollback()  # a new read transaction: SQLite's snapshot is per transaction
    message = db.scalar(select(Message))
    assert message is not None and "合同和报价单在附件里" in message.body_text
    names = sorted(db.scalars(select(Attachment.filename)))
    assert "报价单.txt" in names


def test_a_fetcher_killed_between_commit_and_processing_imports_nothing_twice(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    for n in range(3):
        dovecot.append(address, mail_data.plain(
            sender=f"c{n}@customer.test", to=address, subject=f"问题 {n}", body=f"第 {n} 封。",
            message_id=mail_data.new_id(),
        ))  # fmt: skip

    def killed(row_id: int) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        fetcher(sessions, settings, after_store=killed).fetch_mailbox(mailbox_id)
    assert [r.state for r in rows(db, mailbox_id)] == ["received"]  # stored, then killed
    db.rollback()  # a new read transaction: SQLite's snapshot is per transaction
    assert db.get(Mailbox, mailbox_id).lease_owner is None  # type: ignore[union-attr]

    fetch = fetcher(sessions, settings)
    fetch.fetch_mailbox(mailbox_id)
    fetch.fetch_mailbox(mailbox_id)

    assert [r.state for r in rows(db, mailbox_id)] == ["imported"] * 3
    assert db.scalar(select(func.count(Message.id))) == 3
    assert db.scalar(select(func.count(Ticket.id))) == 3


def test_read_mail_is_imported_and_a_new_uidvalidity_duplicates_nothing(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    raw = mail_data.plain(
        sender="li.lei@customer.test", to=address, subject="已读过的邮件", body="有人先在手机上看过了。",
        message_id=mail_data.new_id(),
    )  # fmt: skip
    client = dovecot.imap(address)
    client.append("INBOX", "(\\Seen)", None, raw)
    client.logout()
    fetch = fetcher(sessions, settings)
    assert fetch.fetch_mailbox(mailbox_id).imported == 1

    mailbox = db.get(Mailbox, mailbox_id)
    assert mailbox is not None
    mailbox.uidvalidity = (mailbox.uidvalidity or 0) + 1  # as after the folder was rebuilt
    db.commit()
    db.rollback()
    report = fetch.fetch_mailbox(mailbox_id)

    assert (report.imported, report.skipped) == (0, 1)
    assert db.scalar(select(func.count(Message.id))) == 1


def test_one_fetcher_per_mailbox(
    inbox: tuple[str, int], db: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _, mailbox_id = inbox
    holder = fetcher(sessions, settings, owner="other-process")
    with sessions() as session:
        from kefu.services.mail.fetch import take_lease

        assert take_lease(session, mailbox_id, holder.owner, holder.now(), 60)
    report = fetcher(sessions, settings).fetch_mailbox(mailbox_id)
    assert report.skipped == 1 and report.fetched == 0


def test_the_idle_loop_takes_mail_as_the_server_announces_it(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    address, mailbox_id = inbox
    quick = settings.model_copy(update={"mail_lease_seconds": 3.0})  # IDLE re-issued every second
    loops = IdleLoops(sessions, quick)
    loops.start()
    try:
        dovecot.append(address, mail_data.plain(
            sender="li.lei@customer.test", to=address, subject="在吗", body="有人在吗？",
            message_id=mail_data.new_id(),
        ))  # fmt: skip
        deadline = time.monotonic() + 30  # a broken set-up fails here, not a speed check
        while not [r for r in rows(db, mailbox_id) if r.state == "imported"]:
            assert time.monotonic() < deadline, "the IDLE loop took nothing"
            time.sleep(0.05)
        db.rollback()
        assert db.get(Mailbox, mailbox_id).supports_idle is True  # type: ignore[union-attr]
    finally:
        loops.stop()


def test_a_database_error_while_processing_leaves_the_mail_for_the_next_round(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database going away while a stored mail is taken in is not the mail's fault: it
    stays ``received`` for the next round (marked failed, it waited for an admin)."""
    address, mailbox_id = inbox
    dovecot.append(address, mail_data.plain(
        sender="li.lei@customer.test", to=address, subject="数据库断了", body="这封信不能丢。",
        message_id=mail_data.new_id(),
    ))  # fmt: skip
    real, refused = intake.process_stored, []

    def database_away(session: Session, row: MailRaw, **kw: Any) -> Any:
        if not refused:
            refused.append(row.id)
            raise OperationalError("INSERT", {}, ConnectionError("server closed the connection"))
        return real(session, row, **kw)

    monkeypatch.setattr(intake, "process_stored", database_away)
    fetch = fetcher(sessions, settings)
    with pytest.raises(OperationalError):
        fetch.fetch_mailbox(mailbox_id)
    assert [r.state for r in rows(db, mailbox_id)] == ["received"]
    assert db.scalar(select(func.count(Notification.id))) == 0  # nobody told of a failure

    assert fetch.fetch_mailbox(mailbox_id).imported == 1
    assert [r.state for r in rows(db, mailbox_id)] == ["imported"]
    assert db.scalar(select(func.count(Message.id))) == 1


class Outage:
    """A session factory whose database can be taken away: while ``down``, every session asked
    for is refused as a lost server refuses a connection (counted by the asking thread's name)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions, self.down = sessions, False
        self.refused: Counter[str] = Counter()

    def __call__(self) -> Session:
        if self.down:
            self.refused[threading.current_thread().name] += 1
            raise OperationalError("connect", {}, ConnectionRefusedError("database away"))
        return self.sessions()


def test_the_idle_loop_lives_through_a_database_outage(
    dovecot: Dovecot,
    inbox: tuple[str, int],
    db: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Regression: the loop's thread died of the database error raised while releasing its
    lease, and the loop started again in its place waited for that lease to expire (two
    minutes by default, 45 s here) before it took mail again."""
    address, mailbox_id = inbox
    outage = Outage(sessions)
    # A lease longer than the waits below (a loop waiting for it to expire fails them), and
    # IDLE re-issued every 15 s (lease / 3): mail that lands as IDLE starts is only announced
    # to the next IDLE (imapclient may have read it with IDLE's go-ahead).
    quick = settings.model_copy(update={"mail_poll_seconds": 0.2, "mail_lease_seconds": 45.0})
    loops = IdleLoops(outage, quick)

    def deliver(n: int) -> None:
        dovecot.append(address, mail_data.plain(
            sender=f"c{n}@customer.test", to=address, subject=f"问题 {n}", body=f"第 {n} 封。",
            message_id=mail_data.new_id(),
        ))  # fmt: skip

    def until(condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 30  # a broken loop fails here, not a speed check
        while not condition():
            assert time.monotonic() < deadline, what
            time.sleep(0.05)

    def imported() -> int:
        return len([r for r in rows(db, mailbox_id) if r.state == "imported"])

    loops.start()
    try:
        deliver(1)
        until(lambda: imported() == 1, "the first mail taken")
        thread = loops.threads[mailbox_id]
        outage.down = True
        deliver(2)  # IDLE wakes the loop, which finds the database away
        # Refused taking the mail, releasing its lease, and again after a pause (the old loop's
        # thread was dead after the second).
        until(lambda: outage.refused[thread.name] >= 3, "the loop trying the database again")
        outage.down = False
        deliver(3)
        until(lambda: imported() == 3, "the mails after the outage taken")
        assert loops.threads[mailbox_id] is thread and thread.is_alive()
    finally:
        loops.stop()
