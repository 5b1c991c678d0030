"""Sink: the mail kefu sends — agents' replies on mail cases (the subject is the customer's, come
in by the intake API or as a real mail whose encoded headers carry line breaks), the
acknowledgement of a new mail case, and the alert mails to staff (a social-listening crisis, its
post made of every fixture). Each is
built as the relay builds it (its outbox row → ``EmailAdapter.compose``) and read back with the
stdlib email package:

- the header block is kefu's own: no injected header (a Bcc), no line a receiver could read as
  one; a subject's CR/LF folds into a space;
- an encoded-word typed as text decodes to that text (not to a line break or a script);
- the plain part carries the text as typed, the HTML part is inert.

Stalled jobs and mails kefu cannot read are told in the workspace only (notices, parsed here
and in tests/security/test_pages.py), survey and verification mails carry no text of a customer or an
agent (fixed words and a link)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.email.smtp import EmailAdapter, SmtpSettings
from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry
from kefu.services.actors import SYSTEM
from kefu.services.mail.mailboxes import do_create_mailbox
from kefu.services.outbound.relay import _deliveries
from kefu.settings import Settings
from tests import factories, mail_data
from tests.hostile import BY_NAME, FIXTURES, RUNS, assert_inert_html, folded, html_problems, joined
from tests.mail_data import take
from tests.security.cases import SUBJECT_LIMIT, fits, open_cases
from tests.services.social.helpers import post, send
from tests.web.conftest import SignIn

pytestmark = pytest.mark.usefixtures("held_outbox")  # the rows are read here, never sent

SETTINGS = SmtpSettings(host="127.0.0.1", port=1, from_address="kf@shop.test", from_name="客服")
KEFU_HEADERS = {"from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to",
                "references", "auto-submitted", "mime-version", "content-type",
                "content-transfer-encoding", "content-disposition"}  # fmt: skip
ZWSP = "\u200b"


def _composed(db: Session, entries: list[OutboxEntry]) -> dict[int, bytes]:
    """Each row's mail as the relay would hand it to SMTP, by outbox id."""
    adapter = EmailAdapter(lambda target: SETTINGS)
    return {
        outbox_id: adapter.compose(delivery, SETTINGS).as_bytes()
        for outbox_id, delivery in _deliveries(db, entries).items()
    }


def _check_headers(raw: bytes, where: str) -> EmailMessage:
    """Every line of the header block is a header of kefu's or the fold of one; read back."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        name = line.split(b":", 1)[0].decode().lower()
        assert name in KEFU_HEADERS, f"{where}: header {line[:60]!r}"
    assert b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b"")
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert "bcc" not in {k.lower() for k in parsed.keys()}, where
    assert len(parsed.get_all("To") or []) == 1, where
    subject = str(parsed["Subject"])
    assert "\r" not in subject and "\n" not in subject, (where, subject)
    return parsed


def _parts(parsed: EmailMessage) -> tuple[str, str]:
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    return (
        plain.get_content() if plain is not None else "",  # type: ignore[attr-defined]
        html.get_content() if html is not None else "",  # type: ignore[attr-defined]
    )


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_replies_carry_the_customers_subject_folded_and_the_text_as_typed(
    db: Session, integration: httpx.Client, api: httpx.Client
) -> None:
    do_create_mailbox(db, SYSTEM, secret_key="k", name="客服", address="kf@shop.test")
    db.commit()
    cases = open_cases(db, integration, api)
    db.rollback()
    entries = list(db.scalars(select(OutboxEntry).where(OutboxEntry.channel == "email")))
    by_message = {e.message_id: e for e in entries}
    built = _composed(db, entries)
    for name, case in cases.items():
        parsed = _check_headers(built[by_message[case.reply_id].id], name)
        subject = str(parsed["Subject"])
        if fits(case.fixture, SUBJECT_LIMIT):
            # "Re: <the customer's subject, white space folded> [#id]", an encoded-word of the
            # text kept as text (its =? broken by a zero-width space, shown the same).
            shown = subject.replace(ZWSP, "")
            assert folded(case.fixture.text) in shown, (name, subject)
            assert shown == f"Re: {folded(case.fixture.text)} [#{case.ticket_id}]", name
        plain, html = _parts(parsed)
        assert _lines(plain) == _lines(case.fixture.text), name
        assert not html_problems(html), (name, html_problems(html))
    word = cases["encoded_word_crlf"]
    subject = str(
        message_from_bytes(built[by_message[word.reply_id].id], policy=policy.default)["Subject"]
    )
    assert "Bcc" not in subject.replace("=" + ZWSP, "=").split("=?")[0], subject
    assert "退款" not in subject  # not decoded: the customer typed the encoded-word itself


def test_an_alert_mail_about_hostile_posts_is_kefus_own_text(db: Session) -> None:
    factories.make_user(db, role="supervisor", email="boss@shop.test")
    do_create_mailbox(db, SYSTEM, secret_key="k", name="客服", address="kf@shop.test")
    db.commit()
    now = utcnow()
    hostile = joined(f for f in FIXTURES if not f.has_nul and f.name != "very_long")
    for n, name in enumerate(("script", "crlf_bcc", "encoded_word_crlf", "formula_cmd")):
        at = now - timedelta(minutes=n)
        author = BY_NAME[name].text
        send(db, post(f"{hostile} 我要向12315投诉，还要找媒体曝光", at=at, handle=author), at=at)
    entries = list(db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice")))
    assert entries, "the crisis is told by mail"
    for raw in _composed(db, entries).values():
        parsed = _check_headers(raw, "alert")
        assert str(parsed["To"]) == "boss@shop.test"
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert parsed.get_body(("html",)) is None  # plain text: a post's snippet is only text
        plain, _ = _parts(parsed)
        # Every line is kefu's own (starts with its Chinese words); a post's CR/LF, quoted in a
        # reason's snippet, starts none (no "Bcc:" line, no formula line).
        assert all(re.match(r"[\u4e00-\u9fff]", line) for line in _lines(plain)), plain
        assert "舆情" in plain


def _word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def test_a_mail_whose_encoded_headers_carry_line_breaks_is_answered_with_clean_headers(
    db: Session, settings: Settings, api: httpx.Client, sign_in: SignIn
) -> None:
    """Mail intake itself: the sender's name and the subject are encoded-words that decode to a
    CR/LF and a Bcc line and a script; the body is every fixture. The acknowledgement and an
    agent's reply go out with kefu's headers only; the case's pages, and the notice of a mail
    kefu cannot read, show it all as text."""
    box = do_create_mailbox(db, SYSTEM, secret_key=settings.secret_key, name="客服",
                            address="kf@shop.test", send_acknowledgement=True)  # fmt: skip
    admin = factories.make_user(db, role="admin")
    db.commit()
    subject = f"退款\r\nBcc: evil@example.com <script>{RUNS}</script>"
    body = joined(f for f in FIXTURES if not f.has_nul)
    raw = "\r\n".join([
        f"From: {_word('顾客<b>' + chr(13) + chr(10) + 'Bcc: evil@example.com')} <m1@customer.test>",
        "To: <kf@shop.test>",
        f"Subject: {_word(subject)}",
        "Date: Mon, 07 Dec 2026 10:00:00 +0800",
        f"Message-ID: <{mail_data.new_id()}>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode()).decode(),
    ]).encode()  # fmt: skip
    row = take(db, settings, box, raw)
    assert row.state == "imported" and row.ticket_id is not None, row.error
    take(db, settings, box, b"\xff\xfe not a mail <script>window.__xss=1</script>")
    reply = api.post(f"/api/v1/tickets/{row.ticket_id}/messages",
                     json={"text": body, "norms_override_reason": "安全测试"})  # fmt: skip
    assert reply.status_code == 201, reply.text
    db.rollback()

    entries = list(db.scalars(select(OutboxEntry).where(OutboxEntry.ticket_id == row.ticket_id)))
    assert {e.kind for e in entries} == {"notice", "message"}  # the acknowledgement, the reply
    for raw_mail in _composed(db, entries).values():
        parsed = _check_headers(raw_mail, "mail intake")
        shown = str(parsed["Subject"])
        assert shown == f"Re: {folded(subject)} [#{row.ticket_id}]", shown
    browser = sign_in(admin).client
    for path in (f"/tickets/{row.ticket_id}", "/notifications", "/inbox"):
        page = browser.get(path)
        assert page.status_code == 200
        assert_inert_html(page.text, path)
