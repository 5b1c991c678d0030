"""The benchmark's generated mails are parsed as they were meant (so the benchmark times real
work, not error paths)."""

from __future__ import annotations

from kefu.channels.email.parse import parse_mail
from tests.channels.email.samples import make_mails


def test_generated_mails_parse_cleanly() -> None:
    mails = [parse_mail(raw) for raw in make_mails(300)]
    for mail in mails:
        assert mail.from_address and mail.subject and mail.text.strip()
        assert "\ufffd" not in mail.text + mail.subject
    automatic = [m for m in mails if m.auto_reply]
    assert 0 < len(automatic) < 30
    assert {m.auto_reply_reason for m in automatic} <= {"auto-submitted", "bounce", "mailer-daemon"}
    assert any(a.inline for m in mails for a in m.attachments)
    assert sum(1 for m in mails if not m.defects) > 200
    assert all("原始邮件" not in m.text and "wrote:" not in m.text for m in mails)


def test_generation_is_repeatable() -> None:
    assert make_mails(20, seed=3) == make_mails(20, seed=3)
