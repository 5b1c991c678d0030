"""How the pages' helpers show a message to a reader: numbers masked for agents, in full for
supervisors, and a body the cues already marked up stays markup (never shown as tags)."""

from __future__ import annotations

from types import SimpleNamespace

from markupsafe import Markup

from kefu.domain.qa.conversation import Conversation
from kefu.domain.qa.criteria import Criterion
from kefu.domain.qa.review import review
from kefu.web.render import explanation, marked, numbers_for

AGENT = SimpleNamespace(role="agent")
SUPERVISOR = SimpleNamespace(role="supervisor")


def test_a_marked_body_is_masked_for_agents_and_stays_markup():
    text = "电话13812345678，<b>快点</b>处理！"
    body = marked(text, [(0, 13)], "cue cue-negative")
    shown = numbers_for(AGENT, body)
    assert isinstance(shown, Markup)
    assert str(shown) == (
        '<mark class="cue cue-negative">电话138****5678</mark>，&lt;b&gt;快点&lt;/b&gt;处理！'
    )
    assert numbers_for(SUPERVISOR, body) == body


def test_plain_text_is_masked_for_agents_and_readers_unknown():
    assert numbers_for(AGENT, "身份证110101199003071234") == "身份证110101********1234"
    assert numbers_for(None, "13812345678") == "138****5678"
    assert numbers_for(SUPERVISOR, "13812345678") == "13812345678"


def _stored(conversation: Conversation, criterion: Criterion) -> dict[str, object]:
    return next(r.to_json() for r in review(conversation) if r.criterion == criterion)


def test_a_stored_explanation_is_shown_in_the_readers_language_with_its_places_filled():
    loop = _stored(
        Conversation((), complaint=True, loop_stages=("registered",)), Criterion.LOOP_COMPLETE
    )
    assert loop["explanation"] == "投诉闭环缺少步骤：分析评估、处理解决、跟进反馈、总结归档"
    assert explanation(loop, "zh-CN") == loop["explanation"]
    assert explanation(loop, "en") == (
        "The complaint loop is missing steps: Analysis, Resolution, Follow-up, Archived"
    )


def test_an_explanation_stored_before_templates_is_shown_as_written():
    assert explanation({"criterion": "greeting", "explanation": "旧的说明"}, "en") == "旧的说明"
    # A template whose translation lost a place is shown rather than failing the page.
    assert explanation({"template": "{missing} 分钟", "params": {}}, "en") == "{missing} 分钟"
