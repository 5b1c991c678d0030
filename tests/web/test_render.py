"""How the pages' helpers show a message to a reader: numbers masked for agents, in full for
supervisors, and a body the cues already marked up stays markup (never shown as tags)."""

from __future__ import annotations

from types import SimpleNamespace

from markupsafe import Markup

from kefu.web.render import marked, numbers_for

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
