"""The plain text of an HTML mail body, for a mail that has no text/plain part.

Blocks become lines, ``<br>`` a line break, list items "- ", and the contents of
``<blockquote>`` are prefixed with "> " so that ``quotes.strip_quoted`` recognises quoted
history as it does in plain-text mail. Scripts, styles and the head are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {
    "p",
    "div",
    "tr",
    "li",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "pre",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "center",
}
_HIDDEN = {"script", "style", "head", "title", "template"}
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, list[str]]] = [(0, [])]
        self.hidden = 0
        self.quote_depth = 0

    def newline(self, *, always: bool = False) -> None:
        """Start a line (a block starts one only if the current line has text)."""
        if always or "".join(self.lines[-1][1]).strip():
            self.lines.append((self.quote_depth, []))
        else:
            self.lines[-1] = (self.quote_depth, self.lines[-1][1])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.newline(always=True)
        elif tag in _BLOCKS:
            if tag == "blockquote":
                self.quote_depth += 1
            self.newline()
            if tag == "li":
                self.lines[-1][1].append("- ")
        elif tag in ("td", "th"):
            self.lines[-1][1].append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            self.newline()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        chunks = data.split("\n")
        self.lines[-1][1].append(chunks[0])
        for chunk in chunks[1:]:  # a newline in HTML source is a space
            self.lines[-1][1].append(" " + chunk)


def html_to_text(markup: str) -> str:
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    out: list[str] = []
    for depth, chunks in collector.lines:
        line = _SPACES.sub(" ", "".join(chunks)).strip()
        if depth and line:
            line = "> " * depth + line
        out.append(line)
    return _BLANK_LINES.sub("\n\n", "\n".join(out)).strip()
