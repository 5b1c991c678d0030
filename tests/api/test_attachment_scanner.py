"""KEFU_ATTACHMENT_SCANNER on the HTTP paths: a file the scanner calls infected is refused (422
attachment_infected) and nothing of its message is stored. The scanner is a real program
(tests/scanners/eicar_scanner.py), run by the live server as an operator's clamdscan would be."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Iterator
from hashlib import sha256

import pytest
from sqlalchemy import func, select

from kefu.db.models import Attachment, InboundPayload, Message
from kefu.services.intake.attachments import blob_path
from kefu.settings import get_settings
from tests import factories
from tests.api.test_inbound import _payload as inbound_payload
from tests.checks import api_error as _error
from tests.scanners.eicar_scanner import EICAR
from tests.services.intake.test_scanner import COMMAND


@pytest.fixture
def scanning(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KEFU_ATTACHMENT_SCANNER", shlex.join(COMMAND))
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("KEFU_ATTACHMENT_SCANNER")
    get_settings.cache_clear()


def _file(name: str, data: bytes) -> dict[str, str]:
    return {
        "filename": name,
        "content_type": "text/plain",
        "content_base64": base64.b64encode(data).decode(),
    }


def _counts(db) -> tuple[int, int]:
    db.rollback()  # end the read snapshot to see what the server committed
    return db.scalar(select(func.count(Message.id))), db.scalar(select(func.count(Attachment.id)))


def test_an_infected_file_in_an_agents_reply_refuses_the_reply(scanning, db, api, settings):
    ticket = factories.make_ticket(db)
    before = _counts(db)
    clean = b"the quotation, version 7 of the scanner test"
    response = api.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={
            "text": "请查收附件",
            "attachments": [_file("报价单.txt", clean), _file("发票.txt", EICAR)],
        },
    )
    error = _error(response, 422, "attachment_infected")
    assert error["details"] == {"filename": "发票.txt"}
    assert _counts(db) == before
    # The clean file of the refused reply was not written either.
    assert not blob_path(settings.attachments_dir, sha256(clean).hexdigest()).exists()
    sent = api.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"text": "请查收附件", "attachments": [_file("报价单.txt", clean)]},
    )
    assert sent.status_code == 201, sent.text


def test_an_infected_file_from_an_integration_is_refused_and_its_message_not_stored(
    scanning, db, integration
):
    before = _counts(db)
    body = inbound_payload("scan-1", text="请看附件", attachments=[_file("invoice.txt", EICAR)])
    response = integration.post("/api/v1/inbound", json=body)
    _error(response, 422, "attachment_infected")
    assert _counts(db) == before
    payload = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "scan-1"))
    assert "attachment_infected" in payload.error
