"""Dynamic composition (动态话术): opener + scenario body + closing, joined into one reply.

The opener follows the customer's emotion — empathy for an angry, anxious or disappointed
customer, a greeting on the first reply, nothing for a calm follow-up — and the closing follows
the case's stage (still in work: what happens next and when; solved: a check of satisfaction
and an offer of more help). ``join_reply`` makes the parts read as one reply: a greeting only
once, an apology only once, full-width punctuation after Chinese text, every part ending a
sentence. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kefu.domain.case_loop import Stage

GREETING = "您好，"  # put before a first reply's opening part when it does not greet
NEGATIVE_EMOTIONS = frozenset({"angry", "anxious", "disappointed"})
# Stages where the problem is solved: the closing checks satisfaction and offers more help.
SOLVED_STAGES = frozenset({Stage.FOLLOWING_UP, Stage.RESOLVED, Stage.ARCHIVED, Stage.CLOSED})

_GREETING = re.compile(
    r"^(?:亲爱的[^，,。！!？?]{0,12}[，,]\s*)?(?:亲[，,]?\s*)?"
    r"(?:您好|你好|早上好|上午好|中午好|下午好|晚上好)(?:呀|啊)?[！!，,。～~\s]*"
)
_GREETS = re.compile(r"您好|你好|早上好|上午好|中午好|下午好|晚上好")
_APOLOGY = re.compile(r"抱歉|对不起|不好意思|致歉|歉意")
_APOLOGY_LEAD = re.compile(
    r"^(?:真的|实在|非常|十分|特别|深感|很)*(?:抱歉|对不起|不好意思)(?:[，,！!。]\s*|$)"
)
_SENTENCE_END = "。！？!?…~～"
_SENTENCES = re.compile(r"[^。！？!?…~～]+[。！？!?…~～]*|[。！？!?…~～]+")
_CJK = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]"
_HALF_TO_FULL = {",": "，", ".": "。", "!": "！", "?": "？", ":": "：", ";": "；"}
_SPACE_IN_CJK = re.compile(rf"(?<={_CJK})[ \t]+(?={_CJK})")
_HALF_AFTER_CJK = re.compile(r"(?<=[\u3400-\u9fff\]】}])([,.!?:;])(?![0-9A-Za-z])")
_SPACE_BEFORE_MARK = re.compile(rf"(?<={_CJK})[ \t]+(?=[,.!?:;，。！？；：、])")
_SPACE_AFTER_FULL = re.compile(r"(?<=[，。！？；：、])[ \t]+")
_DOUBLED = re.compile(r"([。！？，；：])[。，；：]+")


def opener_wanted(emotion: str | None, *, first_reply: bool) -> str | None:
    """Which opener a reply needs: ``empathy`` (a negative emotion), ``greeting`` (the first
    reply to a calm customer), ``thanks`` (a satisfied customer) or None."""
    if emotion in NEGATIVE_EMOTIONS:
        return "empathy"
    if first_reply:
        return "greeting"
    if emotion == "satisfied":
        return "thanks"
    return None


def closing_wanted(stage: str | None) -> str:
    """``solved`` once the problem is solved (satisfaction check, more help), else
    ``in_progress`` (what happens next and when)."""
    return "solved" if stage in {s.value for s in SOLVED_STAGES} else "in_progress"


def tidy(text: str) -> str:
    """One part cleaned: trimmed, no spaces between Chinese characters, full-width punctuation
    after Chinese text (an English word or a number keeps its own)."""
    text = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    text = _SPACE_IN_CJK.sub("", text)
    text = _SPACE_BEFORE_MARK.sub("", text)
    text = _HALF_AFTER_CJK.sub(lambda m: _HALF_TO_FULL[m.group(1)], text)
    return _SPACE_AFTER_FULL.sub("", text)


def greets(text: str) -> bool:
    """Whether the text opens with a greeting (in its first sentence)."""
    first = next(iter(_SENTENCES.findall(text)), "")
    return bool(_GREETS.search(first))


def without_greeting(text: str) -> str:
    return _GREETING.sub("", text, count=1).lstrip("，,。！!、 ")


def _without_second_apology(text: str) -> str:
    """A later part after an apology: its apology phrase goes, what it explains stays."""
    kept = []
    for sentence in _SENTENCES.findall(text):
        if not _APOLOGY.search(sentence):
            kept.append(sentence)
            continue
        rest = _APOLOGY_LEAD.sub("", sentence).strip()
        if rest != sentence and len(rest.rstrip(_SENTENCE_END)) >= 4 and not _APOLOGY.search(rest):
            kept.append(rest)
    return "".join(kept)


def _ended(text: str) -> str:
    return text if not text or text[-1] in _SENTENCE_END else text + "。"


def join_reply(parts: Sequence[str], *, greet: bool = False, separator: str = "") -> str:
    """The parts (opener, body, closing — any may be empty) as one reply. ``greet``: the first
    reply of a conversation, which opens with a greeting even when its opener is an apology.
    ``separator``: between the parts (a line break in chat, where a block of many sentences
    is hard to read)."""
    out: list[str] = []
    greeted = apologised = False
    for raw in parts:
        part = tidy(raw)
        if not part:
            continue
        if greeted:
            part = without_greeting(part)
        if apologised:
            part = _without_second_apology(part)
        if not part:
            continue
        if greet and not out and not greets(part):
            part = GREETING + part
        greeted = greeted or greets(part)
        apologised = apologised or bool(_APOLOGY.search(part))
        out.append(_ended(part))
    return _DOUBLED.sub(r"\1", separator.join(out))
