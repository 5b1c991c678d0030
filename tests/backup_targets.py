"""What the backup tests share: a fresh, empty database and data folder of the kind the suite
runs on (SQLite: a new file; PostgreSQL: a new database on the test server, dropped after), data
with an attachment, and a fingerprint of every table's rows to compare two databases."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from kefu.db.engine import make_engine
from kefu.db.models import Base, Ticket
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.intake.attachments import AttachmentIn
from kefu.settings import Settings
from tests import factories

# A small PNG: the attachment kept under its SHA-256 in the data folder.
PICTURE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@contextmanager
def fresh_target(settings: Settings, folder: Path) -> Iterator[Settings]:
    """Settings naming a new empty database and data folder under ``folder``."""
    data_dir = folder / "restored-data"
    if settings.is_sqlite:
        yield settings.model_copy(
            update={"data_dir": data_dir, "database_url": f"sqlite:///{data_dir / 'kefu.db'}"}
        )
        return
    url = make_url(settings.resolved_database_url)
    name = f"kefu_restore_{secrets.token_hex(4)}"
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            target = url.set(database=name).render_as_string(hide_password=False)
            yield settings.model_copy(update={"data_dir": data_dir, "database_url": target})
        finally:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def make_cases_with_attachment(db: Session, settings: Settings) -> tuple[list[Ticket], str]:
    """Three tickets with messages (a reply, a note carrying a picture); the picture's SHA-256."""
    made = [factories.make_ticket(db, text=f"第{n}个订单还没到，麻烦看看") for n in range(3)]
    factories.make_reply(db, made[0])
    locked = tickets.access_ticket(db, SYSTEM, made[1].id, for_update=True)
    picture = AttachmentIn("收货照片.png", "image/png", base64.b64encode(PICTURE).decode())
    tickets.do_add_message(
        db,
        SYSTEM,
        locked,
        text="顾客发来的照片",
        internal=True,
        attachments=[picture],
        attachments_root=settings.attachments_dir,
        max_attachment_bytes=1_000_000,
    )
    db.commit()
    return made, hashlib.sha256(PICTURE).hexdigest()


def fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every kefu table: its rows and a SHA-256 of their values in primary-key order."""
    result = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            rows = 0
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                rows += 1
            result[table.name] = (rows, digest.hexdigest())
    return result


def files_under(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
