"""HTML from outside (email, rich chat) is sanitized with nh3 before it is stored."""

from __future__ import annotations

import html

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
    return nh3.clean(
        markup,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style", "title"},
        attribute_filter=_local_images_only,
    )


def _local_images_only(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def text_to_html(text: str) -> str:
    """Plain text rendered safely as HTML paragraphs."""
    return "<br>".join(html.escape(line) for line in text.split("\n"))
