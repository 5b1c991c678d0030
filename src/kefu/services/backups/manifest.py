"""What a backup archive holds, written into it as ``manifest.json`` so a restore can check it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = "kefu-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_PREFIX = "database/"
ATTACHMENTS_PREFIX = "attachments/"

# Exit codes of ``kefu backup`` and ``kefu restore`` (typer's own usage errors are 2).
EXIT_FAILED = 1
EXIT_NOT_EMPTY = 3
EXIT_BAD_ARCHIVE = 4
EXIT_WRONG_KIND = 5


class BackupError(Exception):
    """A backup or restore that cannot go on: ``str(e)`` says why (in Chinese, for the CLI)."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class FileEntry:
    """One file of the archive: its name inside it, its size and SHA-256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    kefu_version: str
    created_at: str  # ISO 8601, UTC
    database_kind: str  # "sqlite" or "postgresql"
    revision: str | None  # Alembic's
    tables: dict[str, int]  # rows per table at the moment of the snapshot
    database: FileEntry  # the SQLite file or the pg_dump (custom format)
    attachments: list[FileEntry] = field(default_factory=list)

    @property
    def files(self) -> list[FileEntry]:
        return [self.database, *self.attachments]

    def to_json(self) -> bytes:
        body = {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw)
            if body.get("format") != FORMAT:
                raise ValueError("not a kefu backup")
            if body.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format version {body.get('format_version')}")
            return cls(
                kefu_version=str(body["kefu_version"]),
                created_at=str(body["created_at"]),
                database_kind=str(body["database_kind"]),
                revision=body["revision"],
                tables={str(k): int(v) for k, v in body["tables"].items()},
                database=_entry(body["database"]),
                attachments=[_entry(item) for item in body["attachments"]],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise BackupError(f"备份清单无法读取：{e}", exit_code=EXIT_BAD_ARCHIVE) from e


def _entry(item: Any) -> FileEntry:
    return FileEntry(name=str(item["name"]), size=int(item["size"]), sha256=str(item["sha256"]))
