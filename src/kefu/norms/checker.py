"""``check(reply, context)``: the findings of the 13 rules of spec/norms.md on one reply.

Rules read the folded reply (simplified, half-width, lower case) and map every span back to
the characters the agent typed. The words live in ``rules.toml``; this module holds only
the logic of each rule. Pure: no database, no clock; the analysis engine is asked for the
customer's emotion only when the caller did not pass it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kefu.norms import learned
from kefu.norms.customer import (
    clear_caches,
    customer_emotion,
    customer_said,
    customer_upset,
    folded_customer,
)
from kefu.norms.lexicon import RuleWords, inside_any, load
from kefu.norms.model import Finding, ReplyContext
from kefu.norms.text import Folded, fold

__all__ = ["RULE_FUNCTIONS", "check", "clear_caches", "customer_emotion"]

_SENTENCE_END = re.compile(r"[。！？!?]+|(?<![0-9])\.(?![0-9])")
_CLAUSE = re.compile(r"[,.!?;:，。！？；：\n]")
_QUOTED = re.compile(r"[“\"「『][^”\"」』]{0,40}[”\"」』]")

Rule = Callable[[Folded, ReplyContext, RuleWords], list[Finding]]


def check(reply: str, context: ReplyContext | None = None) -> list[Finding]:
    """Every rule's findings on ``reply``, in the order of the reply's text."""
    context = context or ReplyContext()
    folded = fold(reply)
    words = load()
    findings: list[Finding] = []
    with learned.one_check():
        for name, rule in RULE_FUNCTIONS.items():
            findings.extend(_judged(folded, words[name], rule(folded, context, words[name])))
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule))


def _judged(folded: Folded, words: RuleWords, found: list[Finding]) -> list[Finding]:
    """The rule's findings after its learned head (learned.py), where it has one: a hit the
    head reads as very unlikely is taken back, a reply it reads as very likely to break the
    rule gets a finding over the whole reply. The informal 你 (impolite) is mechanical: no
    head takes it back."""
    pattern = [f for f in found if f.explanation == words.explanation]
    stands = learned.judged(words.name, folded.text, bool(pattern))
    if pattern and not stands:
        return [f for f in found if f not in pattern]
    if not found and stands:
        return [_whole(folded, words)]
    return found


def _finding(
    folded: Folded, words: RuleWords, start: int, end: int, **overrides: str | None
) -> Finding:
    if end > start:
        first, last = folded.span(start, end)
    else:  # a point: where something is missing
        first = last = folded.origin[start] if start < len(folded.origin) else len(folded.original)
    return Finding(
        rule=words.name,
        severity=words.severity,
        start=first,
        end=last,
        text=folded.original[first:last],
        explanation=overrides.get("explanation") or words.explanation,
        rewrite=overrides["rewrite"] if "rewrite" in overrides else words.rewrite,
    )


def _whole(folded: Folded, words: RuleWords) -> Finding:
    """A finding about the reply as a whole (what is missing): it spans the reply."""
    return _finding(folded, words, 0, len(folded.text))


def _from_matches(folded: Folded, words: RuleWords, matches: list[re.Match[str]]) -> list[Finding]:
    seen: list[tuple[int, int]] = []
    out = []
    for m in sorted(matches, key=lambda m: (m.start(), -m.end())):
        if any(s <= m.start() and m.end() <= e for s, e in seen):
            continue
        seen.append((m.start(), m.end()))
        out.append(_finding(folded, words, m.start(), m.end()))
    return out


def unfilled_placeholder(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    return _from_matches(folded, words, words.find(folded.text))


def privacy_exposure(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    return _from_matches(folded, words, words.find(folded.text))


def blame_shifting(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    text = folded.text
    matches = [m for m in words.find(text) if not _asked(text, m.start())]
    return _from_matches(folded, words, matches)


def _asked(text: str, at: int) -> bool:
    """A question to the customer (是不是…错了？) or a condition (如果您填错了…) rather than a
    verdict on them."""
    clause = text[_clause_start(text, at) : at]
    if any(word in clause for word in ("是不是", "是否", "如果", "假如", "万一", "要是", "若")):
        return True
    end = _CLAUSE.search(text, at)
    return bool(end and end.group(0) in "?？" and "吗" not in text[at : end.start()])


def dismissive(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    text = folded.text
    matches = words.find(text)
    if customer_upset(context):
        validated = words.regex("feeling_validated")
        for source in words.extra["minimising"]:
            for m in words.regex_of(source).finditer(text):
                # 您失望很正常 grants the feeling; 这很正常 waves the loss away
                if not validated.search(text[_clause_start(text, m.start()) : m.start()]):
                    matches.append(m)
    return _from_matches(folded, words, matches)


def _clause_start(text: str, at: int) -> int:
    return max((m.end() for m in _CLAUSE.finditer(text, 0, at)), default=0)


def impolite(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    text = folded.text
    matches = words.find(text)
    harmless = tuple(words.extra["informal_you_harmless"])
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    findings = _from_matches(folded, words, matches)
    for at in _positions(text, words.extra["informal_you"]):
        if inside_any(text, at, at + 1, harmless) or any(s <= at < e for s, e in quoted):
            continue
        findings.append(
            _finding(
                folded,
                words,
                at,
                at + 1,
                explanation="称呼客户请用「您」",
                rewrite=words.extra["rewrite_you"],
            )
        )
    return findings


def _positions(text: str, char: str) -> list[int]:
    return [i for i, c in enumerate(text) if c == char]


def jargon(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    text = folded.text
    if words.regex("check_of_understanding").search(text):
        return []
    explained = words.regex("explained_by")
    harmless_by_term: dict[str, list[str]] = words.extra.get("harmless_by_term", {})
    findings = []
    taken: list[tuple[int, int]] = []
    for term, plain in sorted(words.extra["terms"].items(), key=lambda kv: -len(kv[0])):
        term = term.lower()
        start = text.find(term)
        if start != -1 and customer_said(context, term):
            continue  # the customer's own word (超售, 携号转网) needs no explaining to them
        while start != -1:
            end = start + len(term)
            if _is_word(text, start, end) and not any(s <= start < e for s, e in taken):
                taken.append((start, end))
                nearby = text[end : end + 12]
                if not explained.search(nearby) and not inside_any(
                    text, start, end, tuple(harmless_by_term.get(term, []))
                ):
                    findings.append(
                        _finding(
                            folded,
                            words,
                            start,
                            end,
                            explanation=words.explanation.format(term=_typed(folded, start, end)),
                            rewrite=plain,
                        )
                    )
            start = text.find(term, end)
    return findings


def _typed(folded: Folded, start: int, end: int) -> str:
    first, last = folded.span(start, end)
    return folded.original[first:last]


def _is_word(text: str, start: int, end: int) -> bool:
    """Latin terms (sku, t+1) must not be part of a longer Latin word."""
    if not text[start].isascii():
        return True
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def vague_commitment(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    text = folded.text
    if words.regex_of("{time}").search(text):
        return []
    matches = words.find(text)
    if not matches and _asked_when(context, words):
        # 什么时候装？— 我们会安排师傅上门。: a promise to a question of time, with no time
        matches = list(words.regex("promise").finditer(text))
    return _from_matches(folded, words, matches)


def _asked_when(context: ReplyContext, words: RuleWords) -> bool:
    last = context.last_customer
    return bool(last and words.regex("asked_when").search(folded_customer(last)))


def over_promise(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    text = folded.text
    own = [(m.start(), m.end()) for m in words.regex("own_action").finditer(text)]
    matches = [m for m in words.find(text) if not any(s <= m.start() < e for s, e in own)]
    return _from_matches(folded, words, matches)


def negative_refusal(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    text = folded.text
    condition = words.regex("condition")
    refusals = []
    for m in words.find(text):
        if condition.search(text, _clause_start(text, m.start()), m.start()):
            continue  # 如果无法…，我们会…: a plan, not a refusal
        if customer_said(context, text[m.start() : m.end() + 2]):
            continue  # echoing the customer's problem (不能开机), not refusing
        refusals.append(m)
    if not refusals:
        return []
    refused = {i for r in refusals for i in range(r.start(), r.end())}
    for a in words.regex("alternative").finditer(text):
        if a.start() not in refused:  # 可以 inside 不可以 is no alternative
            return []
    if words.regex("contrast").search(text, refusals[0].end()):
        return []  # 虽然不能退款，但可以…
    return _from_matches(folded, words, refusals)


def missing_empathy(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    if not customer_upset(context):
        return []
    text = folded.text
    dismissive_words = load()["dismissive"]
    for m in words.regex("acknowledgement").finditer(text):
        if not dismissive_words.find(text[max(0, m.start() - 4) : m.end() + 4]):
            return []
    return [_whole(folded, words)]


def missing_greeting(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    if not context.first_reply:
        return []
    opening = folded.text[:24]
    if words.regex("greeting").search(opening):
        return []
    return [_finding(folded, words, 0, 0)]


def missing_closing(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    if not context.closing or words.regex("check").search(folded.text):
        return []
    end = len(folded.text)
    return [_finding(folded, words, end, end)]


def too_long(folded: Folded, context: ReplyContext, words: RuleWords) -> list[Finding]:
    if context.channel not in words.extra["chat_channels"]:
        return []
    text = folded.original.strip()
    if len(text) > words.extra["max_chars"]:
        return [_whole(folded, words)]
    if "\n" in text:
        return []
    ends = list(_SENTENCE_END.finditer(text))
    sentences = len(ends) + (1 if ends and ends[-1].end() < len(text) else 0)
    if sentences > words.extra["max_sentences"]:
        return [_whole(folded, words)]
    return []


def chat_length_limit(channel: str) -> int | None:
    """The most characters one reply may have on ``channel`` before ``too_long`` (chat-like
    channels), None where the rule does not count characters."""
    words = load()["too_long"]
    return int(words.extra["max_chars"]) if channel in words.extra["chat_channels"] else None


RULE_FUNCTIONS: dict[str, Rule] = {
    "unfilled_placeholder": unfilled_placeholder,
    "privacy_exposure": privacy_exposure,
    "blame_shifting": blame_shifting,
    "dismissive": dismissive,
    "impolite": impolite,
    "jargon": jargon,
    "vague_commitment": vague_commitment,
    "over_promise": over_promise,
    "negative_refusal": negative_refusal,
    "missing_empathy": missing_empathy,
    "missing_greeting": missing_greeting,
    "missing_closing": missing_closing,
    "too_long": too_long,
}
