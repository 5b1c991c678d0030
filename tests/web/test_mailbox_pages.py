"""/admin/mailboxes: an admin adds a mailbox; its passwords are sealed and never shown back; a
blank password keeps the stored one; "测试连接" says why a login fails; a failed mail can be
processed again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Mailbox, MailRaw, User
from kefu.services.infra.sealed_columns import opened
from kefu.settings import Settings
from tests.web.conftest import SignIn

FORM = {
    "name": "售后邮箱",
    "address": "shouhou@shop.test",
    "imap_host": "127.0.0.1",
    "imap_port": "1",
    "imap_security": "none",
    "imap_username": "shouhou",
    "imap_password": "imap-secret-1",
    "imap_folder": "INBOX",
    "smtp_host": "127.0.0.1",
    "smtp_port": "1",
    "smtp_security": "none",
    "smtp_username": "",
    "smtp_password": "smtp-secret-1",
    "enabled": "on",
}


def test_an_admin_adds_a_mailbox_whose_passwords_are_never_shown_back(
    sign_in: SignIn, admin: User, db: Session, settings: Settings
) -> None:
    browser = sign_in(admin)
    made = browser.form("/admin/mailboxes", FORM)
    assert made.status_code == 303, made.text[:2000]
    db.rollback()
    mailbox = db.scalar(select(Mailbox))
    assert mailbox is not None
    assert opened(settings.secret_key, mailbox, Mailbox.imap_password_sealed) == "imap-secret-1"
    assert "imap-secret-1" not in mailbox.imap_password_sealed

    page = browser.client.get(f"/admin/mailboxes/{mailbox.id}")
    assert page.status_code == 200
    assert "imap-secret-1" not in page.text and "smtp-secret-1" not in page.text
    assert "已设置，留空则不变" in page.text
    listing = browser.client.get("/admin/mailboxes")
    assert "售后邮箱" in listing.text and "imap-secret-1" not in listing.text

    kept = browser.form(
        f"/admin/mailboxes/{mailbox.id}", {**FORM, "imap_password": "", "name": "售后"}
    )
    assert kept.status_code == 303
    db.rollback()
    db.refresh(mailbox)
    assert mailbox.name == "售后"
    assert opened(settings.secret_key, mailbox, Mailbox.imap_password_sealed) == "imap-secret-1"


def test_a_bad_address_is_refused_at_its_field(sign_in: SignIn, admin: User) -> None:
    answer = sign_in(admin).form("/admin/mailboxes", {**FORM, "address": "not an address"})
    assert answer.status_code == 422
    assert 'id="error-address"' in answer.text
    assert "imap-secret-1" not in answer.text  # a refused form does not echo the password


def test_the_connection_check_says_why_it_failed(sign_in: SignIn, admin: User, db: Session) -> None:
    browser = sign_in(admin)
    browser.form("/admin/mailboxes", FORM)
    db.rollback()
    mailbox_id = db.scalar(select(Mailbox.id))
    page = browser.form(f"/admin/mailboxes/{mailbox_id}/check")
    assert page.status_code == 200
    assert page.text.count("失败") >= 2  # nothing listens on port 1: IMAP and SMTP both fail


def test_a_failed_mail_is_listed_and_processed_again(
    sign_in: SignIn, admin: User, db: Session
) -> None:
    browser = sign_in(admin)
    browser.form("/admin/mailboxes", FORM)
    db.rollback()
    mailbox_id = db.scalar(select(Mailbox.id))
    assert mailbox_id is not None
    row = MailRaw(
        mailbox_id=mailbox_id, uidvalidity=1, uid=1, raw=b"garbage", sha256="0" * 64, size=7,
        state="failed", error="unparseable: no mail headers",
    )  # fmt: skip
    db.add(row)
    db.commit()
    page = browser.client.get(f"/admin/mailboxes/{mailbox_id}")
    assert "unparseable: no mail headers" in page.text and "重新处理" in page.text
    again = browser.form(f"/admin/mailboxes/{mailbox_id}/reprocess/{row.id}")
    assert again.status_code == 303
    db.rollback()
    db.refresh(row)
    assert row.state == "failed" and row.error is not None  # still not a mail, said again
