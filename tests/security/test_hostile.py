"""The fixture set and its checker: every kind the issue names is there, and the checker finds
each fixture's markup when it is left as markup (else the sink tests would prove nothing)."""

from __future__ import annotations

import html

from tests.hostile import BY_NAME, FIXTURES, NAMES, html_problems, visible_text


def test_the_fixture_set_is_whole() -> None:
    assert len(NAMES) == len(set(NAMES)) == len(FIXTURES)
    texts = "".join(f.text for f in FIXTURES)
    for needle in ("<script>", "onerror=", "onload=", "](javascript:", "](data:text/html",
                   "javascript:", "data:text/html,", "=?utf-8?b?", "\r\nBcc:", "=HYPERLINK(",
                   "=cmd|", "\t=", "\r=", "\u202e", "\u2066", "\x00", "😀", "退款"):  # fmt: skip
        assert needle in texts, needle
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert any(f.text.startswith(prefix) for f in FIXTURES), prefix
    assert max(len(f.text) for f in FIXTURES) > 5000


def test_the_checker_finds_raw_markup_and_passes_it_escaped() -> None:
    for name in ("script", "img_onerror", "svg_onload"):
        raw = BY_NAME[name].text
        assert html_problems(f"<p>{raw}</p>"), name
        assert not html_problems(f"<p>{html.escape(raw)}</p>"), name
        assert raw in visible_text(f"<p>{html.escape(raw)}</p>")
    assert html_problems('<a href=" JaVa\tscript:window.__xss=1">x</a>')
    assert html_problems('<iframe src="data:text/html,x"></iframe>')
    assert html_problems('<div title="ok" class="window.__xss=1">x</div>')
    assert html_problems('<script type="application/json">{"a": "<b>"}</script>')
    assert not html_problems('<script type="application/json">{"a": "\\u003cb>"}</script>')
    assert not html_problems('<input value="window.__xss=1"><a href="/tickets/1">x</a>')
    assert not html_problems('<div data-text="&lt;script&gt;window.__xss=1">x</div>')
