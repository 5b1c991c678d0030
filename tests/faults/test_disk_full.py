"""The disk fills while kefu writes an attachment: the attachment folder is a 2 MiB tmpfs
(``mount -t tmpfs``, as root; else the server runs under a file-size limit, RLIMIT_FSIZE, that
fails the write the same way). An upload larger than the room left is refused with 507
``storage_full``, leaves no part of the file and no row behind; a small upload afterwards works."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import Attachment, Message
from tests import factories
from tests.faults import traffic
from tests.faults.servers import Kefu, Postgres, kefu_environment

pytestmark = pytest.mark.faults

ROOM = 2 * 1024 * 1024
FILLER = ROOM - 600 * 1024  # what other files already take: about 600 KiB left
BIG = 1024 * 1024
SMALL = 20 * 1024


@pytest.fixture(scope="module")
def attachments(fault_dir: Path) -> Iterator[tuple[Path, bool]]:
    """The attachment folder, a small tmpfs when we may mount one (True), else a plain folder
    (False: the server gets a file-size limit instead)."""
    folder = fault_dir / "attachments"
    folder.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(  # noqa: S603 - a fixed command on our own folder
            ["mount", "-t", "tmpfs", "-o", f"size={ROOM}", "tmpfs", str(folder)],  # noqa: S607
            capture_output=True,
        ).returncode
        == 0
    )
    (folder / "filler.bin").write_bytes(b"\0" * FILLER if mounted else b"")
    yield folder, mounted
    if mounted:
        subprocess.run(["umount", str(folder)], check=False)  # noqa: S603,S607


@pytest.fixture(scope="module")
def server(postgres: Postgres, fault_dir: Path, attachments: tuple[Path, bool]) -> Iterator[Kefu]:
    env = kefu_environment(
        database_url=postgres.url, data_dir=fault_dir, redis_url=None, **traffic.FAST
    )
    _, mounted = attachments
    limit = None if mounted else ROOM - FILLER
    process = Kefu.serve(env, fault_dir / "serve.log", file_size_limit=limit)
    yield process
    process.kill()


def _upload(size: int, seed: str) -> dict[str, str]:
    data = hashlib.sha256(seed.encode()).digest() * (size // 32)
    return {"filename": f"{seed}.bin", "content_type": "application/octet-stream",
            "content_base64": base64.b64encode(data).decode()}  # fmt: skip


def _inbound(server: Kefu, token: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/inbound",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=traffic.TIMEOUT,
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_an_upload_larger_than_the_room_left_is_refused_and_leaves_nothing(
    server: Kefu, fault_db: Session, attachments: tuple[Path, bool]
) -> None:
    folder, _ = attachments
    db = fault_db
    admin = factories.make_user(db, role="admin")
    ticket = factories.make_ticket(db)
    token = factories.make_token(db, admin)
    with httpx.Client(
        base_url=server.url, timeout=traffic.TIMEOUT, headers={"Authorization": f"Bearer {token}"}
    ) as staff:
        url = f"/api/v1/tickets/{ticket.id}/messages"
        body = {"text": "您好，附件请查收。[too-big]", "norms_override_reason": "故障测试的标记"}
        refused = staff.post(url, json={**body, "attachments": [_upload(BIG, "big")]})
        assert refused.status_code == 507, refused.text
        assert refused.json()["error"]["code"] == "storage_full"
        assert _leftovers(folder) == ["filler.bin"]  # no half file, no temporary file
        assert traffic.count_stored(db, "too-big") == 0
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0

        small = {
            **body,
            "text": "您好，附件请查收。[small]",
            "attachments": [_upload(SMALL, "small")],
        }
        taken = staff.post(url, json=small)
        assert taken.status_code == 201, taken.text
        # A customer's message through intake (the batching writer) is refused the same way.
        integration = factories.make_integration(db)
        inbound = {"channel": "api", "sender": {"external_id": "buyer-1", "name": "王小明"}}
        refused = _inbound(server, integration, {
            **inbound, "external_id": "m-big", "text": "[inbound-big] 请看附件",
            "attachments": [_upload(BIG, "inbound-big")],
        })  # fmt: skip
        assert refused.status_code == 507, refused.text
        assert refused.json()["error"]["code"] == "storage_full"
        assert traffic.count_stored(db, "inbound-big") == 0
        taken = _inbound(server, integration, {
            **inbound, "external_id": "m-small", "text": "[inbound-small] 请看附件",
            "attachments": [_upload(SMALL, "inbound-small")],
        })  # fmt: skip
        assert taken.status_code == 201, taken.text
    assert not [name for name in _leftovers(folder) if name.endswith(".tmp")]
    assert traffic.count_stored(db, "inbound-small") == 1
    db.rollback()
    [message] = traffic.stored(db, "small")
    [row] = db.scalars(select(Attachment).where(Attachment.message_id == message.id)).all()
    stored_file = next(p for p in folder.rglob(row.sha256))
    assert stored_file.stat().st_size == row.size == SMALL
    assert db.scalar(select(func.count()).select_from(Message).where(Message.id == message.id))
