"""The attachment scanner hook: kefu runs the operator's command on each file before storing it
(here tests/scanners/eicar_scanner.py, a real program that flags the EICAR test string)."""

from __future__ import annotations

import base64
import sys

import pytest

from kefu.errors import KefuError
from kefu.services.intake.attachments import AttachmentIn, decode_attachment
from kefu.services.intake.scanner import Scanner, scanner_from
from kefu.settings import Settings
from tests.scanners import eicar_scanner
from tests.scanners.eicar_scanner import BROKEN, EICAR, SLOW

COMMAND = (sys.executable, eicar_scanner.__file__)


def _item(data: bytes, name: str = "报告.txt") -> AttachmentIn:
    return AttachmentIn(name, "text/plain", base64.b64encode(data).decode())


def _refused(scanner: Scanner, data: bytes) -> KefuError:
    with pytest.raises(KefuError) as raised:
        decode_attachment(_item(data), max_bytes=1_000_000, scanner=scanner)
    return raised.value


def test_a_clean_file_passes_and_the_eicar_file_is_refused_as_infected():
    scanner = Scanner(COMMAND)
    data, meta = decode_attachment(_item(b"hello"), max_bytes=1_000, scanner=scanner)
    assert data == b"hello" and meta.size == 5
    infected = _refused(scanner, b"before " + EICAR + b" after")
    assert (infected.code, infected.status_code) == ("attachment_infected", 422)
    assert infected.details == {"filename": "报告.txt"}


@pytest.mark.parametrize(
    ("command", "data", "timeout"),
    [
        (COMMAND, BROKEN, 30.0),  # the scanner's own error (exit 2)
        (COMMAND, SLOW, 0.5),  # no answer in time
        (("/nonexistent/clamdscan", "-"), b"hello", 30.0),  # cannot start
    ],
    ids=["scanner-error", "timeout", "missing-command"],
)
def test_a_failed_scan_refuses_the_file_unless_failures_are_accepted(command, data, timeout):
    refused = _refused(Scanner(command, timeout_seconds=timeout), data)
    assert (refused.code, refused.status_code) == ("attachment_scan_failed", 503)
    accepting = Scanner(command, refuse_on_failure=False, timeout_seconds=timeout)
    assert decode_attachment(_item(data), max_bytes=1_000, scanner=accepting)[0] == data
    # Accepting failures does not let an infected file through.
    infected = _refused(Scanner(COMMAND, refuse_on_failure=False), EICAR)
    assert infected.code == "attachment_infected"


def test_the_scanner_comes_from_the_settings(tmp_path):
    assert scanner_from(Settings(data_dir=tmp_path)) is None
    configured = Settings(
        data_dir=tmp_path,
        attachment_scanner="clamdscan --no-summary -",
        attachment_scanner_failure="accept",
        attachment_scanner_timeout_seconds=5,
    )
    assert scanner_from(configured) == Scanner(
        ("clamdscan", "--no-summary", "-"), refuse_on_failure=False, timeout_seconds=5
    )
