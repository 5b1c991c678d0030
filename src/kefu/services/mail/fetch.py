"""The IMAP fetcher: one round over a mailbox (``fetch_mailbox``), all mailboxes
(``fetch_all``), IDLE loops (``idle_loop``) and ``reprocess``.

Per mailbox, one fetcher at a time: it takes the mailbox's lease with a conditional UPDATE
(free, expired, or already its own) and renews it with every mail. The cursor is the folder's
UIDVALIDITY and the last UID taken; a changed UIDVALIDITY starts again from the folder's
beginning, and a mail already stored (same bytes, same mailbox) is not stored again.

Store first: each mail's raw bytes are written together with the cursor's move, and committed,
before the mail is parsed. Then it is processed (services/mail/intake.py) in a transaction of
its own. A fetcher killed between the two leaves a row ``received``; the next round processes
it — nothing is fetched or imported twice. Reading sets no ``\\Seen`` flag, and a message
someone read elsewhere is imported all the same. A mail over ``settings.mail_max_bytes`` is not
downloaded: its header is kept with the reason (``refused_too_large``) and the admins are told.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from kefu.channels.email.headers import message_ids
from kefu.channels.email.imap import FolderState, ImapFailed, ImapFolder, ImapSettings
from kefu.db.base import utcnow
from kefu.db.models import Mailbox, MailRaw
from kefu.services.infra.secret_box import SecretUnreadable
from kefu.services.mail import intake
from kefu.services.mail.intake import MailState
from kefu.services.mail.mailboxes import imap_settings_of
from kefu.settings import Settings

log = logging.getLogger(__name__)

Sessions = Callable[[], Session]
# What a lost or refused database connection raises (and SQLite's "database is locked").
DATABASE_AWAY = (OperationalError, InterfaceError)
FolderFactory = Callable[[ImapSettings], ImapFolder]


def fetcher_name(role: str | None = None) -> str:
    """Who holds a mailbox's lease: this process and ``role`` (default: the calling thread).
    A fetcher that lost its connection to the database before it could release its lease takes
    the lease back at once under the same name; under another name it waits for it to expire."""
    return f"{socket.gethostname()}:{os.getpid()}:{role or threading.get_ident()}"[:64]


@dataclass
class FetchReport:
    fetched: int = 0
    imported: int = 0
    auto_replies: int = 0
    failed: int = 0
    refused: int = 0
    skipped: int = 0  # already stored (a UIDVALIDITY change) or leased by another fetcher
    errors: list[str] = field(default_factory=list)

    def count(self, state: str) -> None:
        if state == MailState.IMPORTED:
            self.imported += 1
        elif state == MailState.AUTO_REPLY:
            self.auto_replies += 1
        elif state == MailState.FAILED:
            self.failed += 1
        elif state == MailState.REFUSED_TOO_LARGE:
            self.refused += 1

    def counts(self) -> dict[str, int]:
        return {
            "fetched": self.fetched, "imported": self.imported, "auto_replies": self.auto_replies,
            "failed": self.failed, "refused": self.refused, "skipped": self.skipped,
            "errors": len(self.errors),
        }  # fmt: skip


# --- the lease ---------------------------------------------------------------------------


def take_lease(
    session: Session, mailbox_id: int, owner: str, now: datetime, seconds: float
) -> bool:
    """Take or renew the mailbox's lease; False while another fetcher holds it. Commits."""
    taken = session.execute(
        update(Mailbox)
        .where(
            Mailbox.id == mailbox_id,
            Mailbox.enabled.is_(True),
            or_(
                Mailbox.lease_owner.is_(None),
                Mailbox.lease_owner == owner,
                Mailbox.lease_until < now,
            ),
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def release_lease(session: Session, mailbox_id: int, owner: str) -> None:
    session.execute(
        update(Mailbox)
        .where(Mailbox.id == mailbox_id, Mailbox.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


# --- one round -------------------------------------------------------------------------------


@dataclass
class Fetcher:
    """Fetches mail for this process: ``sessions`` give one transaction each."""

    sessions: Sessions
    settings: Settings
    now: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=fetcher_name)
    folder_factory: FolderFactory = ImapFolder
    # Tests stop a round here, after a mail's raw bytes were committed and before it was
    # processed, as a fetcher killed at that moment would.
    after_store: Callable[[int], None] | None = None

    def fetch_all(self) -> FetchReport:
        report = FetchReport()
        with self.sessions() as session:
            ids = list(
                session.scalars(
                    select(Mailbox.id).where(Mailbox.enabled.is_(True)).order_by(Mailbox.id)
                )
            )
        for mailbox_id in ids:
            self.fetch_mailbox(mailbox_id, report)
        return report

    def fetch_mailbox(self, mailbox_id: int, report: FetchReport | None = None) -> FetchReport:
        """One round: process what an earlier round left ``received``, then take what is new."""
        report = report or FetchReport()
        with self.sessions() as session:
            if not take_lease(session, mailbox_id, self.owner, self.now(), self._lease()):
                report.skipped += 1
                return report
        try:
            self.process_pending(mailbox_id, report)
            opened = self._open(mailbox_id, report)
            if opened is not None:
                with opened[0] as folder:
                    self.take_new(mailbox_id, folder, report)
        finally:
            self._release(mailbox_id)
        return report

    def _release(self, mailbox_id: int) -> None:
        """Release the lease; with the database away, keep it (this fetcher takes it back, any
        other once it expires) and let the error that stopped the round be the one raised."""
        try:
            with self.sessions() as session:
                release_lease(session, mailbox_id, self.owner)
        except DATABASE_AWAY as e:
            log.warning("mailbox %s: lease not released (%s)", mailbox_id, type(e).__name__)

    def _lease(self) -> float:
        return self.settings.mail_lease_seconds

    def _open(self, mailbox_id: int, report: FetchReport) -> tuple[ImapFolder, FolderState] | None:
        """The mailbox's folder, open, with the cursor reset if UIDVALIDITY changed."""
        with self.sessions() as session:
            mailbox = session.get(Mailbox, mailbox_id)
            if mailbox is None:
                return None
            try:
                imap = imap_settings_of(mailbox, self.settings.secret_key)
                folder = self.folder_factory(imap)
                state = folder.open()
            except (ImapFailed, SecretUnreadable) as e:
                reason = str(e) or type(e).__name__
                mailbox.last_error, mailbox.last_polled_at = reason[:2000], self.now()
                session.commit()
                report.errors.append(f"mailbox {mailbox_id}: {reason}")
                log.warning("mailbox %s: %s", mailbox_id, reason)
                return None
            if mailbox.uidvalidity != state.uidvalidity:
                if mailbox.uidvalidity is not None:
                    log.warning("mailbox %s: UIDVALIDITY changed; reading again", mailbox_id)
                mailbox.uidvalidity, mailbox.last_uid = state.uidvalidity, 0
            mailbox.supports_idle = state.supports_idle
            mailbox.last_error = None
            session.commit()
        return folder, state

    def idle(self, mailbox_id: int, stop: threading.Event) -> None:
        """Keep a mailbox's folder open and take each mail as the server announces it (IMAP
        IDLE), holding the mailbox's lease meanwhile, until ``stop`` is set. Returns at once for
        a server without IDLE: the polling job reads that mailbox."""
        lease = self._lease()
        while not stop.is_set():
            held = False
            try:
                with self.sessions() as session:
                    held = take_lease(session, mailbox_id, self.owner, self.now(), lease)
                if not held:
                    stop.wait(lease / 2)  # another fetcher has it; take over if it stops
                    continue
                if not self._idle_while_held(mailbox_id, stop):
                    return
            except ImapFailed as e:
                log.warning("mailbox %s: IDLE stopped (%s); again shortly", mailbox_id, e)
                stop.wait(min(self.settings.mail_poll_seconds, 30.0))
            except Exception:  # the database away, a bug: this thread goes on, the lease kept
                log.exception("mailbox %s: IDLE loop failed; again shortly", mailbox_id)
                stop.wait(min(self.settings.mail_poll_seconds, 30.0))
            finally:
                if held:
                    self._release(mailbox_id)

    def _idle_while_held(self, mailbox_id: int, stop: threading.Event) -> bool:
        """Take mail as the server announces it while this fetcher keeps the lease; False for a
        server without IDLE."""
        report, lease = FetchReport(), self._lease()
        self.process_pending(mailbox_id, report)
        opened = self._open(mailbox_id, report)
        if opened is None:
            stop.wait(self.settings.mail_poll_seconds)
            return True
        folder, state = opened
        with folder:
            if not state.supports_idle:
                return False
            while not stop.is_set():
                took = self.take_new(mailbox_id, folder, report)
                with self.sessions() as session:
                    if not take_lease(session, mailbox_id, self.owner, self.now(), lease):
                        return True
                # IDLE announces only what arrives after it starts: mail that came while these
                # were taken is looked for first, else it would wait for IDLE's timeout.
                if not took:
                    folder.wait_for_new(min(lease / 3, 300.0))
        return True

    def take_new(self, mailbox_id: int, folder: ImapFolder, report: FetchReport) -> int:
        """Take the mails above the cursor; how many there were."""
        with self.sessions() as session:
            mailbox = session.get(Mailbox, mailbox_id)
            assert mailbox is not None
            waiting = folder.waiting_after(mailbox.last_uid)
        for item in waiting:
            row_id = self._store(mailbox_id, folder, item.uid, item.size, report)
            if row_id is None:
                continue
            if self.after_store is not None:
                self.after_store(row_id)
            self._process(row_id, report)
        with self.sessions() as session:
            mailbox = session.get(Mailbox, mailbox_id)
            if mailbox is not None:
                mailbox.last_polled_at = self.now()
                session.commit()
        return len(waiting)

    def _store(
        self, mailbox_id: int, folder: ImapFolder, uid: int, size: int, report: FetchReport
    ) -> int | None:
        """Store one mail's raw bytes and move the cursor past it, in one commit. The id of the
        row to process, or None (gone, already stored, refused)."""
        too_large = size > self.settings.mail_max_bytes
        raw = folder.fetch_header(uid) if too_large else folder.fetch(uid)
        with self.sessions() as session:
            mailbox = session.get(Mailbox, mailbox_id, with_for_update=True)
            if mailbox is None or mailbox.lease_owner != self.owner:
                raise ImapFailed("the mailbox's lease was lost")
            mailbox.last_uid = max(mailbox.last_uid, uid)
            mailbox.lease_until = self.now() + timedelta(seconds=self._lease())
            uidvalidity = mailbox.uidvalidity or 0
            if raw is None:  # expunged since the listing
                session.commit()
                return None
            digest = hashlib.sha256(raw).hexdigest()
            if not too_large and self._stored_before(session, mailbox_id, digest):
                session.commit()
                report.skipped += 1
                return None
            row = MailRaw(
                mailbox_id=mailbox_id, uidvalidity=uidvalidity, uid=uid, size=size,
                sha256=digest, received_at=self.now(), state=MailState.RECEIVED,
                raw=None if too_large else raw,
            )  # fmt: skip
            _read_headers(row, raw)
            session.add(row)
            report.fetched += 1
            if too_large:
                limit = self.settings.mail_max_bytes
                row.state = MailState.REFUSED_TOO_LARGE
                row.error = (
                    f"too large: {size} bytes, over the limit of {limit} (KEFU_MAIL_MAX_BYTES)"
                )
                session.flush()
                intake.alert_admins(
                    session, "mail.refused",
                    f"邮件 #{row.id}（{row.from_address or '?'}）过大未导入：{size} 字节，上限 {limit}",
                )  # fmt: skip
                report.refused += 1
                session.commit()
                return None
            session.commit()
            return row.id

    @staticmethod
    def _stored_before(session: Session, mailbox_id: int, digest: str) -> bool:
        return (
            session.scalar(
                select(MailRaw.id)
                .where(MailRaw.mailbox_id == mailbox_id, MailRaw.sha256 == digest)
                .limit(1)
            )
            is not None
        )

    def _process(self, row_id: int, report: FetchReport) -> None:
        with self.sessions() as session:
            row = session.get(MailRaw, row_id, with_for_update=True)
            if row is None or row.state not in (MailState.RECEIVED, MailState.FAILED):
                return
            try:
                outcome = intake.process_stored(session, row, settings=self.settings)
                session.commit()
            except DATABASE_AWAY:
                # The database went away: the mail stays ``received``, taken in by the next
                # round (marked failed, it would wait for an admin's reprocess).
                session.rollback()
                raise
            except Exception as e:
                # Not the mail's fault alone (the database, a bug): keep it, say so, go on.
                session.rollback()
                log.exception("mail %s could not be processed", row_id)
                row = session.get(MailRaw, row_id)
                if row is None:
                    return
                row.state, row.error = MailState.FAILED, f"{type(e).__name__}: {e}"[:2000]
                intake.alert_admins(
                    session, "mail.failed", f"邮件 #{row_id} 导入出错：{row.error[:200]}"
                )
                session.commit()
                report.failed += 1
                return
        report.count(outcome.state)

    def process_pending(
        self, mailbox_id: int | None = None, report: FetchReport | None = None
    ) -> FetchReport:
        """Process the mails stored but not processed (a fetcher stopped in between)."""
        report = report or FetchReport()
        with self.sessions() as session:
            query = select(MailRaw.id).where(MailRaw.state == MailState.RECEIVED)
            if mailbox_id is not None:
                query = query.where(MailRaw.mailbox_id == mailbox_id)
            ids = list(session.scalars(query.order_by(MailRaw.id)))
        for row_id in ids:
            self._process(row_id, report)
        return report

    def reprocess(self, ids: list[int] | None = None) -> FetchReport:
        """Process failed (and unprocessed) mails again: these ids, or all of them."""
        report = FetchReport()
        with self.sessions() as session:
            query = select(MailRaw.id).where(
                MailRaw.state.in_((MailState.FAILED, MailState.RECEIVED))
            )
            if ids is not None:
                query = query.where(MailRaw.id.in_(ids))
            todo = list(session.scalars(query.order_by(MailRaw.id)))
        for row_id in todo:
            self._process(row_id, report)
        return report


def _read_headers(row: MailRaw, raw: bytes) -> None:
    """The Message-ID, sender and subject, read leniently before any parsing (a mail the parser
    refuses is still findable by them)."""
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        message_id = str(headers.get("Message-ID", "") or "").strip()
        sender = headers.get("From")
        subject = str(headers.get("Subject", "") or "")
    except Exception:  # noqa: BLE001 - broken headers: the parser reports them later
        return
    row.header_message_id = bare_id(message_id)
    addresses = getattr(sender, "addresses", ()) if sender is not None else ()
    if addresses:
        row.from_address = (addresses[0].addr_spec or "").lower()[:320] or None
    row.subject = subject[:998] or None


def bare_id(value: str | None) -> str | None:
    """A Message-ID as threading compares them: without its angle brackets (as the parser)."""
    ids = message_ids(value)
    return ids[0] if ids else None


class IdleLoops:
    """One thread per enabled mailbox, each running ``Fetcher.idle`` (``kefu serve`` and
    ``kefu worker``). A watcher thread looks for mailboxes added (or loops ended) every
    ``mail_poll_seconds`` and starts their loops."""

    def __init__(self, sessions: Sessions, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.stop_event = threading.Event()
        self.threads: dict[int, threading.Thread] = {}
        self.watcher: threading.Thread | None = None

    def start(self) -> None:
        self.refresh()
        self.watcher = threading.Thread(
            target=self._watch, name="kefu-mail-idle-watch", daemon=True
        )
        self.watcher.start()

    def _watch(self) -> None:
        while not self.stop_event.wait(self.settings.mail_poll_seconds):
            try:
                self.refresh()
            except Exception:
                log.exception("mail IDLE loops: looking for new mailboxes failed")

    def refresh(self) -> None:
        if self.stop_event.is_set():
            return
        with self.sessions() as session:
            ids = list(
                session.scalars(
                    select(Mailbox.id).where(
                        Mailbox.enabled.is_(True), Mailbox.supports_idle.is_not(False)
                    )
                )
            )
        for mailbox_id in ids:
            thread = self.threads.get(mailbox_id)
            if thread is not None and thread.is_alive():
                continue
            # One name per mailbox: a loop started again takes back the lease its predecessor
            # could not release (the database away), instead of waiting for it to expire.
            fetcher = Fetcher(
                self.sessions, self.settings, owner=fetcher_name(f"idle-{mailbox_id}")
            )
            thread = threading.Thread(
                target=fetcher.idle,
                args=(mailbox_id, self.stop_event),
                name=f"kefu-mail-idle-{mailbox_id}",
                daemon=True,
            )
            self.threads[mailbox_id] = thread
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for thread in self.threads.values():
            thread.join(timeout)
