"""HTML from outside (email, rich chat) is sanitized with nh3 before it is stored."""

from __future__ import annotations

import html
import re

import nh3

_ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def sanitize_html(markup: str) -> str:
    """Keep formatting, drop scripts, event handlers, styles and unsafe URLs."""
    return nh3.clean(
        markup,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


def sanitize_mail_html(markup: str) -> str:
    """``sanitize_html`` for the HTML of an e-mail: besides, an image keeps its ``src`` only
    when it points inside the mail (``cid:``). A remote image is never fetched — not by the
    server, not by an agent's browser (it would tell the sender the mail was read: tracking
    pixels) — so its ``src`` goes and its alt text stays."""
    clean = nh3.clean(
        markup,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style", "title"},
        attribute_filter=_local_images_only,
    )
    return _EMPTY_IMG.sub("", clean)  # a tracking pixel has nothing left to show


# nh3's output is normalised (double-quoted attributes, no ">" inside a tag), so an image
# left with neither a source nor a non-empty alt text is found reliably.
_EMPTY_IMG = re.compile(r"<img(?![^>]*\s(?:src=|alt=\"[^\"]))[^>]*>")


def _local_images_only(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def text_to_html(text: str) -> str:
    """Plain text rendered safely as HTML paragraphs."""
    return "<br>".join(html.escape(line) for line in text.split("\n"))


# ASCII punctuation that makes Markdown markup out of text: raw HTML and autolinks (<), links and
# images ([ ]), entities (&), and the backslash itself. Escaped, a renderer shows the character.
_MARKDOWN_ACTIVE = re.compile(r"([\\<>\[\]&])")


def markdown_literal(text: str) -> str:
    """``text`` for a Markdown document kefu writes (the KPI report, a customer's data export):
    every character that would start HTML, a link or an entity escaped with a backslash, so any
    Markdown viewer shows the text as typed and makes no element or link of it."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", text)
