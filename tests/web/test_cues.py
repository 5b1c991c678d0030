"""Marking the words analysis read in the text the customer wrote: found through what
normalising changed, joined when they overlap, and always escaped."""

from __future__ import annotations

import gc
import re
import secrets
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from kefu.web import cues as cues_module
from kefu.web.cues import chips, cues, locate, marked


def _explained(span: str, start: int = -1, end: int = -1, field: str = "risks.media") -> dict:
    reason = "媒体曝光：威胁联系记者或新闻媒体"
    return {
        "explanations": [
            {"field": field, "reason": reason, "span": span, "start": start, "end": end}
        ]
    }


def test_a_span_at_its_offsets_is_taken_as_it_is():
    text = "再不处理我就找媒体曝光"
    assert locate(text, "找媒体曝光", 6, 11) == (6, 11)


def test_a_span_read_from_normalised_text_is_found_in_what_the_customer_wrote():
    text = "你們的快遞三天了還沒到，我要去消費者協會投訴！"
    span = "你们的快递三天了还没到,我要去消费者协会投诉!"  # simplified, half-width
    where = locate(text, span, 0, len(span))
    assert where == (0, len(text))


def test_masked_numbers_and_spaces_do_not_hide_the_words_around_them():
    text = "打  13812345678 找我，不然就曝光"
    where = locate(text, "打 <phone> 找我", 0, 12)
    assert where is not None and text[where[0] : where[1]] == "打  13812345678 找我"


def test_a_span_that_is_not_there_marks_nothing():
    assert locate("完全不同的话", "媒体曝光", 0, 4) is None
    assert locate("<num>", "<num>", -1, -1) == (0, 5)  # the literal text, if the customer wrote it
    assert marked("完全不同的话", _explained("媒体曝光")) == Markup("完全不同的话")


def test_overlapping_spans_are_one_mark_with_both_reasons():
    text = "我要报警，你们卖的充电宝爆炸了"
    analysis = {
        "explanations": [
            {
                "field": "risks.legal",
                "reason": "法律行动",
                "span": "我要报警",
                "start": 0,
                "end": 4,
            },
            {
                "field": "priority",
                "reason": "P1：危机信号",
                "span": "报警，你们",
                "start": 2,
                "end": 7,
            },
        ]
    }
    [cue] = cues(text, analysis)
    assert (cue.start, cue.end, cue.reasons, cue.risk) == (0, 7, ("法律行动", "P1：危机信号"), True)
    assert str(marked(text, analysis)).startswith(
        '<mark class="cue cue-negative" title="法律行动；P1：危机信号">我要报警，你们</mark>'
    )


def test_the_customers_words_are_escaped_inside_and_outside_the_mark():
    text = '<img src=x onerror=alert(1)> 我要曝光 "你们"'
    out = str(marked(text, _explained("我要曝光")))
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert (
        '<mark class="cue cue-negative" title="媒体曝光：威胁联系记者或新闻媒体">我要曝光</mark>'
        in out
    )
    assert "&#34;你们&#34;" in out


@given(st.text(max_size=80), st.text(max_size=12), st.integers(-2, 90), st.integers(-2, 90))
def test_any_text_and_span_give_escaped_text_with_only_our_marks(text, span, start, end):
    out = str(marked(text, _explained(span, start, end)))
    stripped = out.replace("</mark>", "")
    stripped = stripped.replace(
        '<mark class="cue cue-negative" title="媒体曝光：威胁联系记者或新闻媒体">', ""
    )
    assert stripped == str(escape(text))


def test_the_chips_say_what_was_read_and_why():
    analysis = {
        "emotion": "angry",
        "intent": "complaint",
        "category": "quality",
        "risks": ["media"],
        "priority": "P1",
        "confidence": {"emotion": 0.9, "intent": 0.8},
        "explanations": [
            {"field": "risks.media", "reason": "媒体曝光", "span": "", "start": -1, "end": -1},
            {"field": "priority", "reason": "P1：危机信号", "span": "", "start": -1, "end": -1},
        ],
    }
    found = [
        (c.css, c.code, c.reason, c.confidence, c.title) for c in chips(analysis, "Confidence")
    ]
    assert found == [
        ("emotion-angry", "angry", "", 0.9, "Confidence 90%"),
        ("intent-complaint", "complaint", "", 0.8, "Confidence 80%"),
        ("category-quality", "quality", "", None, ""),
        ("risk", "media", "媒体曝光", None, "媒体曝光"),
        ("priority-P1", "P1", "P1：危机信号", None, "P1：危机信号"),
    ]
    assert chips(None) == [] and chips({}) == []


def _mentions(thing: Any, word: str, depth: int = 2) -> bool:
    """Whether ``thing`` holds a string with ``word`` (looking ``depth`` containers deep)."""
    if isinstance(thing, re.Pattern):
        return word in str(thing.pattern)
    if isinstance(thing, str):
        return word in thing
    if depth and isinstance(thing, dict):
        return any(_mentions(x, word, depth - 1) for x in (*thing.keys(), *thing.values()))
    if depth and isinstance(thing, tuple | list):
        return any(_mentions(x, word, depth - 1) for x in thing)
    return False


def test_locating_a_span_keeps_no_customer_text_in_the_process():
    """Regression (ASVS V14.2.2): the folded search compiled each span of customer text into a
    regular expression, kept by an LRU cache of 1,024 and by the ``re`` module's own cache. It
    compares characters now: once the page is built, no cache of the module or of ``re``
    holds the customer's words."""
    word = secrets.token_hex(6)  # made here: in no module's constants
    text = f"我要 投诉 {word} 你们 打 13812345678 找我"
    span = f"我要投诉{word}你们打 <phone> 找我"
    assert locate(text, span, -1, -1) == (0, len(text))  # found by the folded search
    marked(text, _explained(span))

    assert not [name for name, f in vars(cues_module).items() if hasattr(f, "cache_info")]
    re_caches = [v for k, v in vars(re).items() if k.startswith("_cache")]
    assert re_caches and not any(_mentions(cache, word) for cache in re_caches)
    gc.collect()
    assert not [thing for thing in gc.get_objects() if _mentions(thing, word, depth=1)]
