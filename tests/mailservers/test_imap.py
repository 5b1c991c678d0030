"""channels/email/imap.py's folder against a real Dovecot: IDLE reports what arrived before it
started as well as after."""

from __future__ import annotations

import secrets
import time

import pytest

from kefu.channels.email.imap import ImapFolder, ImapSettings
from tests import mail_data
from tests.mailservers.dovecot import PASSWORD, Dovecot

pytestmark = pytest.mark.mail_servers


def _mail(to: str, subject: str) -> bytes:
    return mail_data.plain(sender="li.lei@customer.test", to=to, subject=subject, body="在吗？",
                           message_id=mail_data.new_id())  # fmt: skip


def test_idle_reports_a_mail_that_landed_between_the_last_look_and_its_start(
    dovecot: Dovecot,
) -> None:
    """The server announces such a mail as IDLE starts, often in the same packet as IDLE's
    go-ahead: the line is then already read from the socket into the client's buffer, where a
    wait on the socket alone does not see it, and the mail would wait for the next IDLE."""
    address = dovecot.add_user(f"support-{secrets.token_hex(4)}")
    settings = ImapSettings(dovecot.host, dovecot.imap_port, "none", address, PASSWORD)
    for attempt in range(3):
        with ImapFolder(settings) as folder:
            folder.open()
            assert len(folder.waiting_after(0)) == attempt  # the last look: the earlier ones
            dovecot.append(address, _mail(address, f"第 {attempt} 封"))  # after the last look
            started = time.monotonic()
            assert folder.wait_for_new(20.0), "IDLE ended without reporting the mail"
            assert time.monotonic() - started < 10, "the mail waited for IDLE's timeout"
    with ImapFolder(settings) as folder:
        folder.open()
        started = time.monotonic()
        assert not folder.wait_for_new(1.0)  # nothing new: IDLE runs to its end
        assert time.monotonic() - started >= 0.9
        assert folder.client is not None and folder.client.socket().gettimeout() == 30.0
