"""A knowledge base as a folder of Markdown files, one article a file.

Each file starts with YAML front matter, then the body in Markdown::

    ---
    id: kb-001
    title: 发货时间与配送时效
    category: logistics
    tags: [发货, 时效]
    synonyms: [几天到, 多久发货]      # optional: other ways customers ask
    status: published               # optional: published (default) or draft
    ---
    现货商品当天16:00前付款的订单当天发货……

``read_folder`` reads every ``*.md`` file of a folder in name order and reports every broken
file at once; ``write_article`` writes one in the same form (import and export round-trip).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 200_000
STATUSES = ("published", "draft")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.S)


class FolderError(ValueError):
    """One or more files of a folder cannot be read; ``problems`` names each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ArticleFile:
    id: str
    title: str
    body: str
    category: str | None = None
    tags: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    status: str = "published"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ValueError(f"{name} must be a list of words")
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_article(text: str, *, default_id: str | None = None) -> ArticleFile:
    """One file's text as an article; ``ValueError`` says what is wrong."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if match is None:
        raise ValueError("the file does not start with front matter between --- lines")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"the front matter is not valid YAML: {error}") from error
    if not isinstance(meta, dict):
        raise ValueError("the front matter must be a mapping of fields")
    article_id = str(meta.pop("id", default_id) or "").strip()
    if not _ID.match(article_id):
        raise ValueError("id must be 1-64 letters, digits, '.', '_' or '-'")
    title = str(meta.pop("title", "") or "").strip()
    if not title:
        raise ValueError("title is missing")
    body = match.group(2).strip()
    if not body:
        raise ValueError("the body is empty")
    category = meta.pop("category", None)
    status = str(meta.pop("status", "published"))
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    return ArticleFile(
        id=article_id,
        title=title,
        body=body,
        category=str(category).strip() if category else None,
        tags=_strings(meta.pop("tags", None), "tags"),
        synonyms=_strings(meta.pop("synonyms", None), "synonyms"),
        status=status,
        extra=meta,
    )


def read_folder(folder: Path) -> list[ArticleFile]:
    if not folder.is_dir():
        raise FolderError([f"{folder}: not a folder"])
    articles: list[ArticleFile] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
            article = parse_article(path.read_text("utf-8"), default_id=path.stem)
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(f"{path.name}: {error}")
            continue
        if article.id in seen:
            problems.append(f"{path.name}: id {article.id} is also in {seen[article.id]}")
            continue
        seen[article.id] = path.name
        articles.append(article)
    if problems:
        raise FolderError(problems)
    return articles


def render_article(article: ArticleFile) -> str:
    meta: dict[str, Any] = {"id": article.id, "title": article.title}
    if article.category:
        meta["category"] = article.category
    meta["tags"] = list(article.tags)
    if article.synonyms:
        meta["synonyms"] = list(article.synonyms)
    if article.status != "published":
        meta["status"] = article.status
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None)
    return f"---\n{front}---\n{article.body.strip()}\n"


def write_article(folder: Path, article: ArticleFile) -> Path:
    path = folder / f"{article.id}.md"
    path.write_text(render_article(article), "utf-8")
    return path
