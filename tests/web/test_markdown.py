"""Articles' Markdown: whatever an editor or an import writes, the HTML carries no script, no
event handler and no javascript: link; the short answer stays short."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.web.markdown import ATTRIBUTES, TAGS, first_paragraph, render_markdown

PIECES = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))",
    "<a href='javascript:x'>y</a>", "**粗**", "# 标题", "\n\n", "- 项", "`code`", "<iframe>",
    "[ok](https://example.cn)", "退款原路退回。", "<svg onload=alert(1)>", "| a | b |\n|---|---|\n| 1 | 2 |",
    "<div style='x'>", "&lt;script&gt;", "![i](javascript:alert(1))", "<b onclick=x>b</b>",
])  # fmt: skip
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12).map("".join)


class Elements(HTMLParser):
    """Every element and attribute of some HTML, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_rendered_markdown_is_always_safe(text: str) -> None:
    elements = Elements()
    elements.feed(str(render_markdown(text)))
    for tag, attrs in elements.found:
        assert tag in TAGS, tag
        for name, value in attrs:
            assert name in ATTRIBUTES.get(tag, set()) | {"rel"}, (tag, name)
            assert not (value or "").strip().lower().startswith(("javascript:", "data:")), value


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=10, max_value=300))
def test_the_short_answer_is_plain_and_within_its_limit(text: str, limit: int) -> None:
    answer = first_paragraph(text, limit=limit)
    assert len(answer) <= limit + 1 and "\n" not in answer


def test_the_short_answer_skips_headings_and_marks():
    body = "## 时效\n\n退款**原路退回**，[详情](https://x.cn)见订单页。\n\n第二段"
    assert first_paragraph(body) == "退款原路退回，详情见订单页。"
