"""Pages from Jinja2 templates: one environment per language (the catalogue's strings bound at
load), autoescaping on, and the headers every workspace page carries.

Templates call ``_("中文")`` for every string they show; ``label(kind, code)`` for kefu's codes;
``static(path)`` for a versioned asset URL. Pages run no inline script or style (the
Content-Security-Policy below forbids them), so data for scripts travels in ``data-*``
attributes or ``<script type="application/json">`` blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from kefu.domain.masking import mask_numbers, sees_full_numbers
from kefu.domain.qa.criteria import explain
from kefu.domain.roles import Role
from kefu.web import i18n
from kefu.web.assets import TEMPLATES_DIR, static_url
from kefu.web.labels import label

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    translate = i18n.translations(language).gettext
    env.globals.update(
        language=language,
        static=static_url,
        label=lambda kind, code: translate(label(kind, code)) if code else "",
        numbers_for=numbers_for,
        explanation=lambda result: explanation(result, language),
    )
    env.filters.update(local_time=local_time, short_time=short_time, iso=iso, marked=marked)
    return env


def explanation(result: Mapping[str, Any], language: str) -> str:
    """A stored review result's explanation in ``language``: its template translated and filled
    (stage codes as the stages' names); a result stored before templates, as it was written."""
    template = result.get("template")
    if not template:
        return str(result.get("explanation") or "")
    translate = i18n.translations(language).gettext
    return explain(
        translate(template),
        result.get("params") or {},
        stage_name=lambda code: translate(label("stage", code)),
        separator="、" if language.startswith("zh") else ", ",
    )


def numbers_for(reader: Any, text: str) -> str:
    """``text`` as ``reader`` (the page's user) reads it: phone, ID-card and bank-card numbers
    masked for agents and specialists, in full for supervisors and admins (domain/masking.py).
    The stored text is unchanged."""
    if not text:
        return text
    role = getattr(reader, "role", None)  # no reader (a fragment without one): masked
    if role in set(Role) and sees_full_numbers(Role(role)):
        return text
    if isinstance(text, Markup):
        # Already escaped, with the cues' <mark> around spans: masking only turns digits into
        # asterisks, which makes no markup, so the result is still safe to show as it is.
        return Markup(mask_numbers(str(text)))  # noqa: S704 - escaped above, digits → *
    return mask_numbers(text)


def marked(text: str, spans: Iterable[tuple[int, int]], css: str = "") -> Markup:
    """``text`` escaped, with each [start, end) span wrapped in ``<mark>``: highlights that can
    never turn user text into markup (each piece is escaped on its own)."""
    opening = Markup('<mark class="{}">').format(css) if css else Markup("<mark>")
    pieces, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        pieces += [escape(text[at:start]), opening, escape(text[start:end]), Markup("</mark>")]
        at = end
    pieces.append(escape(text[at:]))
    return Markup("").join(pieces)


def iso(value: datetime | None) -> str:
    """An instant for ``<time datetime>`` and scripts: ISO 8601 in UTC."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_ZONE).strftime(fmt)


def short_time(value: datetime | None) -> str:
    """Today's time as 14:05, this year's as 12-01 14:05, older with the year."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local, now = value.astimezone(LOCAL_ZONE), datetime.now(LOCAL_ZONE)
    if local.date() == now.date():
        return local.strftime("%H:%M")
    if local.year == now.year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d")


def render(request: Request, name: str, context: dict[str, Any] | None = None) -> str:
    language = i18n.language_of(request)
    page = {"request": request, **(context or {})}
    page.setdefault("me", getattr(request.state, "page_user", None))
    page.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    return environment(language).get_template(name).render(page)


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    language = i18n.language_of(request)
    headers = {**PAGE_HEADERS, "Content-Language": language, "Vary": "Cookie, Accept-Language"}
    return HTMLResponse(render(request, name, context), status_code=status, headers=headers)
