"""Import and export of the knowledge base as Markdown files with front matter
(retrieval/folder.py's format): a folder, an uploaded .zip, or several .md files.

An import reads and checks every file first and writes nothing when any is broken, reporting
every problem; an article whose key exists gets the file's content as a new version (nothing
when the content is the same) and the file's status. Export writes every draft and published
article (archived ones stay out: the file format has no such status), so export → import gives
the same articles back.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import KbArticle
from kefu.errors import KefuError
from kefu.retrieval.folder import MAX_FILE_BYTES, ArticleFile, parse_article, render_article
from kefu.services.actors import Actor
from kefu.services.kb import articles as kb

MAX_FILES = 2_000
MAX_TOTAL_BYTES = 50_000_000  # of a .zip, unpacked


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def files_of_folder(folder: Path) -> list[tuple[str, bytes]]:
    if not folder.is_dir():
        raise KefuError("invalid_kb_import", status_code=422,
                        details={"problems": [f"{folder}: not a folder"]})  # fmt: skip
    return [(p.name, p.read_bytes()[: MAX_FILE_BYTES + 1]) for p in sorted(folder.glob("*.md"))]


def files_of_zip(data: bytes) -> list[tuple[str, bytes]]:
    """The .md files of a .zip (folders inside it flattened), bounded in number and size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.endswith(".md")]
    except (zipfile.BadZipFile, ValueError) as e:
        raise KefuError("invalid_kb_import", status_code=422,
                        details={"problems": ["not a readable .zip file"]}) from e  # fmt: skip
    if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_TOTAL_BYTES:
        raise KefuError("invalid_kb_import", status_code=422,
                        details={"problems": ["the .zip holds too many or too large files"]})  # fmt: skip
    out = []
    for member in members:
        name = PurePosixPath(member.filename).name
        if name.startswith(".") or member.file_size > MAX_FILE_BYTES:
            out.append((name, b"\0" * (MAX_FILE_BYTES + 1)))  # reported as too large below
            continue
        with archive.open(member) as handle:
            out.append((name, handle.read(MAX_FILE_BYTES + 1)))
    return out


def files_of_uploads(uploads: Iterable[tuple[str, BinaryIO]]) -> list[tuple[str, bytes]]:
    """Uploaded files by name: .md files as they are, each .zip as the .md files inside it."""
    found: list[tuple[str, bytes]] = []
    for name, stream in itertools.islice(uploads, MAX_FILES):
        data = stream.read(MAX_TOTAL_BYTES + 1)
        found += files_of_zip(data) if name.lower().endswith(".zip") else [(name, data)]
    return found


def parse_files(files: list[tuple[str, bytes]]) -> list[ArticleFile]:
    """Every file as an article, or ``invalid_kb_import`` naming every problem."""
    problems: list[str] = []
    found: list[ArticleFile] = []
    seen: dict[str, str] = {}
    if not files:
        problems.append("no .md files")
    for name, data in sorted(files):
        try:
            if len(data) > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
            article = parse_article(data.decode("utf-8"), default_id=name.removesuffix(".md"))
            _check_limits(article)
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(f"{name}: {error}")
            continue
        if article.id in seen:
            problems.append(f"{name}: id {article.id} is also in {seen[article.id]}")
            continue
        seen[article.id] = name
        found.append(article)
    if problems:
        raise KefuError("invalid_kb_import", status_code=422, details={"problems": problems})
    return found


def _check_limits(article: ArticleFile) -> None:
    if len(article.title) > 200:
        raise ValueError("title is longer than 200 characters")
    if len(article.body) > 50_000:
        raise ValueError("the body is longer than 50000 characters")
    if article.category is not None and article.category not in kb.CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(kb.CATEGORIES)}")
    if any(len(w) > 50 for w in (*article.tags, *article.synonyms)) or len(article.tags) > 30:
        raise ValueError("at most 30 tags, each at most 50 characters (synonyms too)")
    if len(article.synonyms) > 50:
        raise ValueError("at most 50 synonyms")


def do_import(
    session: Session, actor: Actor, files: list[tuple[str, bytes]], *, note: str = "import"
) -> ImportReport:
    """All files or none: every file is checked before anything is written."""
    kb.require_editor(actor)
    parsed = parse_files(files)
    existing = {a.key: a for a in session.scalars(select(KbArticle))}
    report = ImportReport()
    for item in parsed:
        content = {"title": item.title, "body": item.body, "category": item.category,
                   "tags": list(item.tags), "synonyms": list(item.synonyms)}  # fmt: skip
        article = existing.get(item.id)
        if article is None:
            kb.create_article(session, actor, key=item.id, status=item.status, note=note,
                              **content)  # fmt: skip
            report.created += 1
            continue
        changed = kb.save_content(session, actor, article, content, note=note)
        if article.status != item.status:
            kb.do_set_status(session, actor, article, item.status)
            changed = True
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def article_file(article: KbArticle) -> ArticleFile:
    return ArticleFile(
        id=article.key, title=article.title, body=article.body, category=article.category,
        tags=tuple(article.tags), synonyms=tuple(article.synonyms), status=article.status,
    )  # fmt: skip


def exported(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(file name, text) of every draft and published article, in key order."""
    kb.require_editor(actor)
    rows = session.scalars(
        select(KbArticle).where(KbArticle.status != "archived").order_by(KbArticle.key)
    )
    return [(f"{a.key}.md", render_article(article_file(a))) for a in rows]


def export_zip(session: Session, actor: Actor) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in exported(session, actor):
            archive.writestr(name, text)
    return buffer.getvalue()
