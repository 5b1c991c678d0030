"""The answering bot (智能助手): who it serves, what it answers, and when a person takes over.

Pure decisions, no I/O and no clock reads; services/bot/ runs them on each customer message of a
conversation the bot holds and writes what they decide. Channel-neutral: the bot reads the
message's text and analysis and the ticket's triage, whatever channel they came from.

A conversation moves through ``Stage``:

- ``asking``: the bot waits for a question; a confident article is answered with a short excerpt
  and a link, and the stage becomes ``feedback``; a question without a good answer is a miss,
  and the second miss in a row hands off (``low_confidence``);
- ``feedback``: 解决了 closes the case as solved by the bot (self-service); 没解决 is a miss that
  offers the next confident article if there is one, else hands off; anything else is a new
  question;
- ``contact`` / ``problem`` (outside working hours, nobody to hand off to): the bot collects a
  phone number or an e-mail address, then the problem if the customer has not asked one yet,
  and opens the case for the morning (``out_of_hours_contact``);
- ``handed_off`` / ``solved``: the bot has nothing more to say on this case.

A crisis risk or a P1/P2 case hands off at once, in working hours or not (routing and the SLA
take it from there); an angry customer or one who asks for a person is handed off in working
hours and asked for their contact outside them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum

# The score a further article needs to be offered after a 没解决: a hit's score is its share of
# the probability among the search's candidates, so a second article with a fifth of it is a
# real contender, while the first took nearly all of it when it alone fits.
CONFIDENT_SCORE = 0.2
# An answer's excerpt: at most this many characters (a chat bubble, not the article).
EXCERPT_LIMIT = 140
MISSES_BEFORE_HANDOFF = 2
# A conversation the customer left this long ago ends (services/bot/idle.py): the case must not
# stay open, out of every queue, for ever.
IDLE_AFTER = timedelta(hours=1)


class BotMode(StrEnum):
    """A channel's setting: when the bot answers its new conversations."""

    OFF = "off"  # never: every conversation goes to the agents
    FIRST = "first"  # always first, then a person when needed
    OUTSIDE_HOURS = "outside_hours"  # only outside the team's working hours


class Stage(StrEnum):
    ASKING = "asking"
    FEEDBACK = "feedback"
    CONTACT = "contact"
    PROBLEM = "problem"
    HANDED_OFF = "handed_off"
    SOLVED = "solved"


DONE_STAGES = frozenset({Stage.HANDED_OFF, Stage.SOLVED})


class HandoffReason(StrEnum):
    CUSTOMER_ASKED = "customer_asked"
    LOW_CONFIDENCE = "low_confidence"
    ANGRY = "angry"
    RISK = "risk"
    PRIORITY = "priority"
    OUT_OF_HOURS_CONTACT = "out_of_hours_contact"
    BOT_OFF = "bot_off"  # an admin switched the bot off on the channel while it held the case


HANDOFF_REASONS_ZH = {
    HandoffReason.CUSTOMER_ASKED: "客户要求人工",
    HandoffReason.LOW_CONFIDENCE: "没有找到合适的答案",
    HandoffReason.ANGRY: "客户情绪激动",
    HandoffReason.RISK: "存在危机风险",
    HandoffReason.PRIORITY: "紧急工单",
    HandoffReason.OUT_OF_HOURS_CONTACT: "非工作时间留下联系方式",
    HandoffReason.BOT_OFF: "渠道关闭了智能助手",
}


class ReplyKind(StrEnum):
    ANSWER = "answer"  # an article's excerpt, its link, and 解决了 / 没解决 / 转人工
    NEXT_ANSWER = "next_answer"  # sorry, then the next best article
    RETRY = "retry"  # no good answer yet: ask again in other words
    HANDOFF = "handoff"  # a person takes over now
    HANDOFF_URGENT = "handoff_urgent"  # a crisis or an urgent case: a person takes over now
    ASK_CONTACT = "ask_contact"  # outside working hours: a phone or an e-mail, please
    CONTACT_INVALID = "contact_invalid"
    ASK_PROBLEM = "ask_problem"
    CASE_OPENED = "case_opened"  # outside working hours: the case waits for the morning
    SOLVED = "solved"  # glad it helped


def bot_takes(mode: BotMode, *, in_working_hours: bool) -> bool:
    """Whether the bot answers a new conversation of a channel with ``mode`` now."""
    if mode is BotMode.FIRST:
        return True
    return mode is BotMode.OUTSIDE_HOURS and not in_working_hours


# --- reading the customer's words -----------------------------------------------------------------

# Traditional forms of the characters the phrases below use (the bot reads either script).
_TRADITIONAL = str.maketrans(
    "轉傳專聯繫員務電話麼嗎請幫決沒個對問題還會", "转传专联系员务电话么吗请帮决没个对问题还会"
)
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# Asking for a person, typos included (砖/专/传 for 转, 功/公 for 工, 再 for 在).
_PERSON = re.compile(
    r"[转砖专传换接叫找要]+(?:人工|人功|人公|真人|客服)"
    r"|人[工功公](?:客服|服务|坐席|座席|克服)"
    r"|真人|找客服|客服[在再](?:吗|么|嘛|不)|有人(?:吗|么|嘛)|^人[工功公]$"
    r"|human|realperson|liveagent|talktoanagent"
)
_NOT_PERSON = re.compile(r"人工智能|不[要用需]要?(?:转)?(?:人工|真人|客服)")
_SOLVED = frozenset(
    {"解决了", "已解决", "解决啦", "好了", "可以了", "有用", "有帮助", "谢谢", "solved"}
)
_UNSOLVED = frozenset(
    {"没解决", "未解决", "没有解决", "没用", "没有用", "不行", "没帮助", "notsolved"}
)


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRADITIONAL)
    return _NOISE.sub("", text)


def asks_for_person(text: str) -> bool:
    """The customer asks for a person (转人工, 人工客服, 找真人, 客服在吗 …), in simplified or
    traditional characters, with the usual typos."""
    folded = _folded(text)
    if not folded or _NOT_PERSON.search(folded):
        return False
    return _PERSON.search(folded) is not None


def feedback_of(text: str) -> str | None:
    """ "solved" or "unsolved" for an answer to 这能解决您的问题吗; None: something else."""
    folded = _folded(text)
    if folded in _SOLVED:
        return "solved"
    if folded in _UNSOLVED:
        return "unsolved"
    return None


_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
)
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")


def find_contact(text: str) -> str | None:
    """A phone number (mainland mobile or landline) or an e-mail address in the text; None if
    there is none that looks valid."""
    text = unicodedata.normalize("NFKC", text)
    email = _EMAIL.search(text)
    if email is not None:
        return email.group(0).lower()
    digits = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    for pattern in (_MOBILE, _LANDLINE):
        found = pattern.search(digits)
        if found is not None:
            return found.group(1)
    return None


_CONTACT_WORDS = re.compile(r"(?:手机号?码?|电话|联系方式|邮箱|e-?mail|phone)[:：]?", re.I)
MIN_PROBLEM_CHARS = 4


def problem_beside_contact(text: str) -> str | None:
    """The problem written in the same message as the contact (the widget's contact form sends
    both), or None if the message holds little more than the contact."""
    rest = _EMAIL.sub(" ", unicodedata.normalize("NFKC", text))
    rest = re.sub(r"\+?[\d][\d -]{5,}\d", " ", rest)
    rest = _CONTACT_WORDS.sub(" ", rest).strip(" \n\t,，。;；")
    return rest if len(_folded(rest)) >= MIN_PROBLEM_CHARS else None


# --- the articles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Article:
    key: str
    title: str
    body_markdown: str
    url: str
    score: float


@dataclass(frozen=True)
class Found:
    """What the knowledge source answered for a question: articles best first, and whether the
    best is good enough to offer."""

    articles: tuple[Article, ...] = ()
    answered: bool = False


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s.*$", re.M)
_MD_LINE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.M)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(\*\*|__|\*|`+|~~)")
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*\|?[\s:|-]+\|[\s:|-]*$", re.M)
_SENTENCE_END = "。！？；!?;"


def plain_text(markdown: str) -> str:
    """The article's text without Markdown marks (headings, lists, emphasis, links, images)."""
    text = _MD_IMAGE.sub("", markdown)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_RULE.sub("", text)
    text = _MD_LINE.sub("", text)
    text = _MD_MARKS.sub("", text).replace("|", " ")
    return "\n".join(line.strip() for line in text.splitlines())


def _bigrams(text: str) -> set[str]:
    folded = _folded(text)
    return {folded[i : i + 2] for i in range(len(folded) - 1)}


def excerpt(question: str, markdown: str, limit: int = EXCERPT_LIMIT) -> str:
    """A chat-sized answer taken from the article: the paragraph sharing the most with the
    question (the first on a tie), cut after its last whole sentence within ``limit``."""
    body = _MD_HEADING.sub("", markdown)  # a heading names the matter, it answers nothing
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", plain_text(body)) if p.strip()]
    if not paragraphs:
        return ""
    asked = _bigrams(question)
    best = max(paragraphs, key=lambda p: (len(asked & _bigrams(p)), -paragraphs.index(p)))
    best = re.sub(r"\s*\n\s*", " ", best)
    if len(best) <= limit:
        return best
    head = best[:limit]
    cut = max(head.rfind(mark) for mark in _SENTENCE_END)
    if cut >= limit // 3:
        return head[: cut + 1]
    return head[: limit - 1] + "…"


# --- the conversation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotState:
    stage: Stage = Stage.ASKING
    misses: int = 0  # questions in a row without a good answer (a 没解决 counts as one)
    offered: tuple[str, ...] = ()  # the article keys offered so far, in order
    question: str = ""  # the last question the bot searched for
    contact: str | None = None  # outside working hours: the phone or e-mail collected
    wanted: str | None = None  # the hand-off reason that led to collecting the contact

    def to_json(self) -> dict[str, object]:
        return {
            "stage": self.stage.value, "misses": self.misses, "offered": list(self.offered),
            "question": self.question, "contact": self.contact, "wanted": self.wanted,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> BotState:
        data = data or {}
        offered = data.get("offered")
        contact, wanted = data.get("contact"), data.get("wanted")
        return cls(
            stage=Stage(str(data.get("stage", Stage.ASKING.value))),
            misses=int(str(data.get("misses", 0))),
            offered=tuple(str(k) for k in offered) if isinstance(offered, list) else (),
            question=str(data.get("question", "")),
            contact=str(contact) if contact is not None else None,
            wanted=str(wanted) if wanted is not None else None,
        )


@dataclass(frozen=True)
class Turn:
    """One customer message as the bot reads it, with the case's triage and the hour."""

    text: str
    in_working_hours: bool
    emotion: str | None = None
    risks: tuple[str, ...] = ()
    priority: str | None = None


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    article: Article | None = None
    question: str = ""  # the question the article answers (for its excerpt)

    @property
    def quick_replies(self) -> tuple[str, ...]:
        if self.kind in (ReplyKind.ANSWER, ReplyKind.NEXT_ANSWER):
            return QUICK_REPLIES
        if self.kind is ReplyKind.RETRY:
            return (QUICK_REPLIES[2],)  # 转人工
        return ()

    @property
    def asks_contact(self) -> bool:
        return self.kind in (ReplyKind.ASK_CONTACT, ReplyKind.CONTACT_INVALID)


@dataclass(frozen=True)
class Decision:
    state: BotState
    reply: Reply | None
    handoff: HandoffReason | None = None
    feedback: tuple[str, str] | None = None  # (article key, "solved" | "unsolved")

    @property
    def solved(self) -> bool:
        return self.state.stage is Stage.SOLVED


QUICK_REPLIES = ("解决了", "没解决", "转人工")


def search_text(state: BotState, text: str) -> str | None:
    """What the service must look up before ``decide``: the message as a question, the last
    question again after a 没解决 (for the next best article), or nothing."""
    if state.stage in DONE_STAGES or state.stage in (Stage.CONTACT, Stage.PROBLEM):
        return None
    if asks_for_person(text):
        return None
    if state.stage is Stage.FEEDBACK:
        feedback = feedback_of(text)
        if feedback == "unsolved":
            return state.question or None
        if feedback == "solved":
            return None
    return text


def urgent_reason(turn: Turn) -> HandoffReason | None:
    """A crisis or an urgent case: a person must see it now, in working hours or not."""
    if turn.risks:
        return HandoffReason.RISK
    if turn.priority in ("P1", "P2"):
        return HandoffReason.PRIORITY
    return None


def decide(state: BotState, turn: Turn, found: Found = Found()) -> Decision:
    """The bot's answer to one customer message. ``found``: the knowledge source's answer to
    ``search_text(state, turn.text)`` (empty when that is None)."""
    if state.stage in DONE_STAGES:
        return Decision(state, None)
    urgent = urgent_reason(turn)
    if urgent is not None:
        return _hand_off(state, urgent, ReplyKind.HANDOFF_URGENT)
    if state.stage in (Stage.CONTACT, Stage.PROBLEM):
        return _collecting(state, turn)
    if turn.emotion == "angry":
        return _hand_off_or_collect(state, turn, HandoffReason.ANGRY)
    if asks_for_person(turn.text):
        return _hand_off_or_collect(state, turn, HandoffReason.CUSTOMER_ASKED)
    if state.stage is Stage.FEEDBACK:
        feedback = feedback_of(turn.text)
        last = state.offered[-1] if state.offered else ""
        if feedback == "solved":
            return Decision(
                replace(state, stage=Stage.SOLVED, misses=0),
                Reply(ReplyKind.SOLVED),
                feedback=(last, "solved"),
            )
        if feedback == "unsolved":
            return _unsolved(state, turn, found, last)
    return _question(state, turn, found)


def _question(state: BotState, turn: Turn, found: Found) -> Decision:
    asked = replace(state, question=turn.text)
    best = found.articles[0] if found.answered and found.articles else None
    if best is not None:
        return Decision(
            replace(asked, stage=Stage.FEEDBACK, misses=0, offered=(*state.offered, best.key)),
            Reply(ReplyKind.ANSWER, best, turn.text),
        )
    missed = replace(asked, stage=Stage.ASKING, misses=state.misses + 1)
    if missed.misses >= MISSES_BEFORE_HANDOFF:
        return _hand_off_or_collect(missed, turn, HandoffReason.LOW_CONFIDENCE)
    return Decision(missed, Reply(ReplyKind.RETRY))


def _unsolved(state: BotState, turn: Turn, found: Found, last: str) -> Decision:
    feedback = (last, "unsolved")
    nxt = next_article(found, state.offered)
    if nxt is not None:
        return Decision(
            replace(state, stage=Stage.FEEDBACK, misses=state.misses + 1,
                    offered=(*state.offered, nxt.key)),
            Reply(ReplyKind.NEXT_ANSWER, nxt, state.question),
            feedback=feedback,
        )  # fmt: skip
    missed = replace(state, stage=Stage.ASKING, misses=state.misses + 1)
    if missed.misses < MISSES_BEFORE_HANDOFF:  # one failure: ask again, or a person on request
        return Decision(missed, Reply(ReplyKind.RETRY), feedback=feedback)
    return replace(
        _hand_off_or_collect(missed, turn, HandoffReason.LOW_CONFIDENCE), feedback=feedback
    )


def next_article(found: Found, offered: Sequence[str]) -> Article | None:
    """The best confident article not offered yet."""
    for article in found.articles:
        if article.key not in offered and article.score >= CONFIDENT_SCORE:
            return article
    return None


def _hand_off(state: BotState, reason: HandoffReason, kind: ReplyKind) -> Decision:
    return Decision(replace(state, stage=Stage.HANDED_OFF), Reply(kind), handoff=reason)


def _hand_off_or_collect(state: BotState, turn: Turn, reason: HandoffReason) -> Decision:
    if turn.in_working_hours:
        return _hand_off(state, reason, ReplyKind.HANDOFF)
    return Decision(
        replace(state, stage=Stage.CONTACT, wanted=reason.value), Reply(ReplyKind.ASK_CONTACT)
    )


def _collecting(state: BotState, turn: Turn) -> Decision:
    """Outside working hours: the contact first, then the problem if none was asked yet."""
    if state.stage is Stage.CONTACT:
        contact = find_contact(turn.text)
        if contact is None:
            return Decision(state, Reply(ReplyKind.CONTACT_INVALID))
        state = replace(state, contact=contact)
        if not state.question:
            problem = problem_beside_contact(turn.text)
            if problem is None:
                return Decision(replace(state, stage=Stage.PROBLEM), Reply(ReplyKind.ASK_PROBLEM))
            state = replace(state, question=problem)
    elif not state.question:
        state = replace(state, question=turn.text)
    return _hand_off(state, HandoffReason.OUT_OF_HOURS_CONTACT, ReplyKind.CASE_OPENED)


def on_idle(state: BotState) -> HandoffReason | None:
    """A conversation the customer left: one who wanted a person and was being asked for their
    contact goes to the agents all the same (they can answer on the channel); any other ends
    with the case resolved, not counted as solved by the bot (None)."""
    if state.stage in (Stage.CONTACT, Stage.PROBLEM) and state.wanted:
        try:
            return HandoffReason(state.wanted)
        except ValueError:
            return HandoffReason.CUSTOMER_ASKED
    return None


# --- what the bot says ------------------------------------------------------------------------------

# Fixed phrases, checked with ``kefu check-reply`` (tests/domain/test_bot.py runs the checker on
# each). Nothing else the bot says about the matter is its own: the rest is the article's text.
PHRASES: dict[ReplyKind, str] = {
    ReplyKind.ANSWER: "您好，这篇帮助文章应该能解答您的问题：",
    ReplyKind.NEXT_ANSWER: "很抱歉刚才的内容没能帮到您，再为您找到一篇相关的说明：",
    ReplyKind.RETRY: "抱歉，我暂时没有找到合适的答案。您可以换个说法描述一下问题，或者回复“转人工”由客服为您处理。",
    ReplyKind.HANDOFF: "好的，已为您转接人工客服，我们之前的对话客服都能看到，请您稍候。",
    ReplyKind.HANDOFF_URGENT: "您反映的情况我们非常重视，已为您转接人工客服优先处理，请您稍候。",
    ReplyKind.ASK_CONTACT: "现在是非工作时间，人工客服暂时不在线。请留下您的手机号码或邮箱，工作时间内客服会第一时间联系您。",
    ReplyKind.CONTACT_INVALID: "抱歉，没有识别到有效的手机号码或邮箱，请您再输入一次11位手机号码或完整的邮箱地址。",
    ReplyKind.ASK_PROBLEM: "好的，已记下您的联系方式。请简单描述一下您遇到的问题。",
    ReplyKind.CASE_OPENED: "好的，已为您登记问题，客服会在下一个工作时段开始后联系您，感谢您的耐心。",
    ReplyKind.SOLVED: "很高兴能帮到您！如果还有其他问题，随时可以再来咨询。",
}
ASK_FEEDBACK = "这能解决您的问题吗？"
READ_MORE = "查看全文："


def reply_text(reply: Reply) -> str:
    """The message the customer gets: a fixed phrase, and for an answer the article's excerpt
    and link and the question whether it helped."""
    phrase = PHRASES[reply.kind]
    if reply.article is None:
        return phrase
    body = excerpt(reply.question, reply.article.body_markdown)
    return "\n".join(
        (
            phrase,
            f"【{reply.article.title}】{body}",
            f"{READ_MORE}{reply.article.url}",
            ASK_FEEDBACK,
        )
    )


@dataclass(frozen=True)
class Measures:
    """The bot's figures over a period (reference 002's self-service measures)."""

    conversations: int = 0
    solved_by_bot: int = 0
    handed_off: int = 0
    handoffs_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def self_service_rate(self) -> float | None:
        return self.solved_by_bot / self.conversations if self.conversations else None

    @property
    def handoff_rate(self) -> float | None:
        return self.handed_off / self.conversations if self.conversations else None
