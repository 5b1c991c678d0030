"""Articles' Markdown as HTML that is safe to show: rendered by markdown-it (raw HTML in the
source is not passed through), then sanitised by nh3 to an allow-list of tags and attributes —
two locks, so a mistake in one is not a stored XSS. Links get rel="noopener noreferrer nofollow";
only http(s) and mailto links and relative paths survive."""

from __future__ import annotations

import re
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
        "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del"}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


@cache
def _parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False})
        .enable("table")
        .enable("strikethrough")
    )


def render_markdown(text: str) -> Markup:
    html = _parser().render(text)
    clean = nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )  # fmt: skip
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(^|\s)[#>]+\s*|[*_`~]+|^\s*(?:[-+*]|\d+[.)])\s+", re.M)


def plain_text(markdown: str) -> str:
    """Markdown as a reader would say it: links by their text, marks dropped."""
    return _MARKS.sub(lambda m: m.group(1) or "", _LINK.sub(r"\1", markdown)).strip()


def first_paragraph(markdown: str, *, limit: int = 200) -> str:
    """The article's first paragraph as plain text, cut at a sentence end within ``limit``."""
    for block in re.split(r"\n\s*\n", markdown.strip()):
        if block.lstrip().startswith("#"):
            continue  # a heading is no answer
        text = " ".join(plain_text(block).split())
        if text:
            break
    else:
        return ""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [cut.rfind(mark) for mark in "。！？；.!?"]
    end = max(ends)
    return cut[: end + 1] if end >= limit // 3 else cut.rstrip() + "…"
