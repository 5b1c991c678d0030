"""The archive: a .tar.gz of the database file, the attachments and, last, the manifest (each
file's SHA-256 is taken as it is written). Reading it checks every file against the manifest
before anything is restored; a member the manifest does not list, a path out of the archive or
a link is refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from kefu.services.backups.manifest import (
    ATTACHMENTS_PREFIX,
    DATABASE_PREFIX,
    EXIT_BAD_ARCHIVE,
    MANIFEST_NAME,
    BackupError,
    FileEntry,
    Manifest,
)

CHUNK = 1 << 20


class _Hashing(io.RawIOBase):
    """A file read through: counts and hashes what tarfile copies."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


class ArchiveWriter:
    """Writes ``path`` through a hidden file beside it, renamed into place by ``commit``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._partial = path.with_name(f".{path.name}.partial")
        self._tar = tarfile.open(self._partial, "w:gz", compresslevel=6)  # noqa: SIM115

    def add_file(self, source: Path, name: str) -> FileEntry:
        info = self._tar.gettarinfo(str(source), arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        with source.open("rb") as raw:
            reader = _Hashing(raw)
            self._tar.addfile(info, reader)
        if reader.size != info.size:
            raise BackupError(f"文件在备份时被改动：{source}")
        return FileEntry(name=name, size=reader.size, sha256=reader.digest.hexdigest())

    def commit(self, manifest: Manifest) -> None:
        body = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST_NAME)
        info.size = len(body)
        info.mode = 0o644
        info.mtime = int(os.path.getmtime(self._partial))
        self._tar.addfile(info, io.BytesIO(body))
        self._tar.close()
        with self._partial.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(self._partial, self.path)

    def abandon(self) -> None:
        self._tar.close()
        self._partial.unlink(missing_ok=True)


def read_archive(path: Path, staging: Path) -> Manifest:
    """Unpack ``path`` into ``staging`` and check every file against the manifest; the
    manifest, or ``BackupError`` (exit code ``EXIT_BAD_ARCHIVE``) naming what is wrong."""
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    found: dict[str, FileEntry] = {}
    raw_manifest: bytes | None = None
    try:
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                name = _checked_name(member)
                if name is None:
                    continue
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - regular files always have one
                    raise _damaged(f"无法读取 {name}")
                if name == MANIFEST_NAME:
                    raw_manifest = source.read()
                    continue
                found[name] = _unpack(source, staging / name, name)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as e:
        if isinstance(e, OSError) and not isinstance(e, gzip.BadGzipFile) and e.filename:
            raise BackupError(f"无法读写 {e.filename}：{e.strerror}") from e
        raise _damaged(f"不是完整的备份归档（{e}）") from e
    if raw_manifest is None:
        raise _damaged("缺少 manifest.json")
    manifest = Manifest.from_json(raw_manifest)
    _compare(manifest, found)
    return manifest


def staged_attachments(manifest: Manifest, staging: Path) -> Iterator[tuple[Path, str]]:
    """Each attachment's unpacked file and its path under the attachments folder."""
    for entry in manifest.attachments:
        yield staging / entry.name, entry.name.removeprefix(ATTACHMENTS_PREFIX)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _checked_name(member: tarfile.TarInfo) -> str | None:
    """The member's name if it is a file kefu writes; None for a folder; refuses the rest."""
    if member.isdir():
        return None
    name = member.name
    parts = PurePosixPath(name).parts
    safe = (
        member.isreg()
        and not name.startswith("/")
        and ".." not in parts
        and (name == MANIFEST_NAME or name.startswith((DATABASE_PREFIX, ATTACHMENTS_PREFIX)))
    )
    if not safe:
        raise _damaged(f"归档中有不应出现的条目：{name!r}")
    return name


def _unpack(source: IO[bytes], target: Path, name: str) -> FileEntry:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return FileEntry(name=name, size=size, sha256=digest.hexdigest())


def _compare(manifest: Manifest, found: dict[str, FileEntry]) -> None:
    expected = {entry.name: entry for entry in manifest.files}
    if not manifest.database.name.startswith(DATABASE_PREFIX):
        raise _damaged(f"清单中的数据库文件名不对：{manifest.database.name}")
    strays = [a.name for a in manifest.attachments if not a.name.startswith(ATTACHMENTS_PREFIX)]
    if strays:
        raise _damaged(f"清单中的附件不在 attachments/ 下：{strays[0]}")
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    changed = sorted(n for n in set(expected) & set(found) if expected[n] != found[n])
    problems = [
        *(f"缺少 {n}" for n in missing[:5]),
        *(f"清单外的文件 {n}" for n in extra[:5]),
        *(f"内容与清单不符 {n}" for n in changed[:5]),
    ]
    if problems:
        more = len(missing) + len(extra) + len(changed) - len(problems)
        tail = f"（另有 {more} 处）" if more > 0 else ""
        raise _damaged("备份归档已损坏或被改动：" + "；".join(problems) + tail)


def _damaged(reason: str) -> BackupError:
    return BackupError(reason, exit_code=EXIT_BAD_ARCHIVE)
