"""``read_reply``: what a trainee's reply shows, as the signals the simulated customer reacts to
(``kefu.domain.training.machine``), read by kefu's own engines: deterministic and offline.

- blame: the norms checker's blame_shifting, dismissive, impolite or negative_refusal (a bare
  refusal brushes the customer off);
- empathy: the checker's acknowledgement (an apology, the feeling named, the fault owned);
  no_empathy: the customer is upset and there is none (missing_empathy);
- vague: vague_commitment or over_promise; jargon: jargon;
- solution: a next step the agent takes, with a time the checker counts as concrete;
- question: asks the customer for facts; closing: the checker's closing check with a goodbye.

Which of several signals wins is the state machine's PRECEDENCE (blame first).
The analysis engine is not asked about the reply's tone: it is trained on customer messages and
reads an agent's apology (非常抱歉，是我们没做好) as angry. It reads the scenarios instead (checks.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kefu.domain.triage_labels import Emotion
from kefu.norms import Finding, ReplyContext, Turn, check, norm_score
from kefu.norms.lexicon import load
from kefu.norms.model import NEGATIVE_EMOTIONS
from kefu.norms.text import fold

BLAME_RULES = frozenset({"blame_shifting", "dismissive", "impolite", "negative_refusal"})
VAGUE_RULES = frozenset({"vague_commitment", "over_promise"})
# Something the agent does for the customer (folded text).
_ACTION = re.compile(
    r"补发|重发|退款|退还|退回|返还|退费|赔付|赔偿|补偿|补贴|优惠券|红包|换货|更换|换新|维修|上门|"
    r"寄出|发出|送达|送到|到账|撤销|取消|改签|改期|恢复|修复|抢修|减免|免除|开通|处理好|办理|安排|"
    r"改好|改成|修改|打电话|出发|派人|派师傅|加急|回电|回复您|联系您|致电|通知您|升级|提交|申请|冻结|解冻|调换|重做|重新配送"
)
# The agent as the one acting, before the action in its clause: 我已为您…, 我们会…, 给您…
_AGENT = re.compile(r"我|为您|帮您|给您|替您|已经|已|会|将|可以")
_CLAUSE = re.compile(r"[^,.!?;:，。！？；：\n]+")
# Asking the customer for facts.
_ASKS = re.compile(
    r"请(?:您)?(?:提供|告诉|告知|发|上传|拍|确认|描述|说明|留)|麻烦您(?:提供|告诉|告知|发|上传|拍|确认|说)|"
    r"请问(?!还有|您还有|有什么)|方便[^,.!?;，。！？；]{0,4}?(?:告诉|告知|提供|说|发)|能(?:否|不能)(?:告诉|告知|提供|发)|是哪|什么时候|哪(?:天|个|一|里)|多少"
)
_FAREWELL = re.compile(
    r"还有(?:其他|别的|什么|其它)|随时(?:联系|找|告诉|咨询)|祝您|再见|感谢您|谢谢您|欢迎(?:再|随时)"
)


@dataclass(frozen=True)
class Reading:
    signals: frozenset[str]
    findings: tuple[Finding, ...]  # the norms checker's, for the score card

    @property
    def norm_score(self) -> int:
        return norm_score(self.findings)


def read_reply(
    reply: str,
    *,
    turns: Sequence[tuple[str, str]] = (),
    emotion: Emotion,
    channel: str = "chat",
    first_reply: bool = False,
) -> Reading:
    """The signals of ``reply`` to a customer now feeling ``emotion``; ``turns`` are the
    conversation so far as (role, text), role customer or agent."""
    context = ReplyContext(
        turns=tuple(Turn(role=role, text=text) for role, text in turns),
        first_reply=first_reply,
        channel=channel,
        customer_emotion=emotion.value,
    )
    findings = tuple(check(reply, context))
    rules = {f.rule for f in findings}
    text = fold(reply).text
    upset = emotion.value in NEGATIVE_EMOTIONS
    signals = set()
    if rules & BLAME_RULES:
        signals.add("blame")
    if _acknowledges(text, rules, upset):
        signals.add("empathy")
    elif upset:
        signals.add("no_empathy")
    if rules & VAGUE_RULES:
        signals.add("vague")
    if "jargon" in rules:
        signals.add("jargon")
    if _offers_action(text) and _concrete_time(text):
        signals.add("solution")
    if _ASKS.search(text):
        signals.add("question")
    if _closes(text):
        signals.add("closing")
    return Reading(signals=frozenset(signals), findings=findings)


def _acknowledges(text: str, rules: set[str], upset: bool) -> bool:
    if upset:
        return "missing_empathy" not in rules
    return bool(load()["missing_empathy"].regex("acknowledgement").search(text))


def _offers_action(text: str) -> bool:
    """A clause where the agent does something (not the customer's problem restated)."""
    for clause in _CLAUSE.findall(text):
        for action in _ACTION.finditer(clause):
            if _AGENT.search(clause, 0, action.start()):
                return True
    return False


def _concrete_time(text: str) -> bool:
    return bool(load()["vague_commitment"].regex_of("{time}").search(text))


def _closes(text: str) -> bool:
    return bool(load()["missing_closing"].regex("check").search(text) and _FAREWELL.search(text))
