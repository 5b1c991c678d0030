"""The case library's rules (解决方案库): what an archived complaint becomes as a shared entry, how
its outcome ranks, which past cases are offered for an open one, and the knowledge-base draft a
supervisor may make of an entry. Pure: no I/O, no clock reads.

An entry is read by every agent, so everything in it passes ``masking.redact_personal_data``
with what is known of the case's people (the customer's profile, staff names, order numbers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kefu.domain.case_loop import Case
from kefu.domain.masking import redact_personal_data

TITLE_CHARS = 40
PROBLEM_CHARS = 300
_CLAUSE_END = re.compile(r"[。！？!?；;，,\n]")


@dataclass(frozen=True)
class CaseContext:
    """What the ticket adds to its case: its words before facts were recorded, its labels, how it
    went, and the personal values to keep out (value, label)."""

    subject: str = ""
    first_message: str = ""
    category: str | None = None
    tags: tuple[str, ...] = ()
    industry: str = "general"
    reopen_count: int = 0
    sent_back: bool = False  # 跟进反馈 found the customer not satisfied at least once
    known: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EntryFields:
    title: str
    problem: str
    category: str | None
    industry: str
    tags: tuple[str, ...]
    root_cause: str
    solution: str
    compensation_kind: str | None
    compensation_amount: int | None
    lesson: str
    first_time: bool
    reopen_count: int
    rating: int | None


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_GREETING = re.compile(
    r"^(?:你好|您好|hello|hi|在吗|在么|在不在|亲|客服|喂|请问|(?:麻烦|请|想)?问一?下|打扰一?下|麻烦了?)"
    r"[啊呀呢~～!！ ]*$",
    re.I,
)


_LABEL = re.compile(r"【[^】]*】")
TITLE_WORDS = 5  # characters besides labels (【单号】) a title needs to say something


def title_of(problem: str) -> str:
    """The problem's first clauses that say something (not 你好 / 在吗, not just 订单【单号】),
    short enough for a row."""
    pieces = _CLAUSE_END.split(problem.strip())
    marks = _CLAUSE_END.findall(problem.strip()) + [""]
    title = ""
    for clause, mark in zip(pieces, marks, strict=False):
        if not title and (not clause.strip() or _GREETING.match(clause.strip())):
            continue
        title += clause.strip()
        if len(_LABEL.sub("", title).replace(" ", "")) >= TITLE_WORDS:
            break
        title += mark
    return _clip(title.rstrip("，,；;、 ") or problem, TITLE_CHARS)


def entry_of(case: Case, context: CaseContext) -> EntryFields:
    """The library entry of an archived ``case``, anonymised."""

    def clean(text: str) -> str:
        return redact_personal_data(text, context.known).strip()

    problem = _clip(clean(case.facts or context.first_message or context.subject), PROBLEM_CHARS)
    comp = case.compensation
    granted = comp is not None and comp.rejected_by is None
    return EntryFields(
        title=title_of(problem) or "（未记录问题）",
        problem=problem,
        category=case.category or context.category,
        industry=context.industry,
        tags=tuple(dict.fromkeys(t for t in (clean(t) for t in context.tags) if t)),
        root_cause=clean(case.cause),
        solution=clean(case.solution),
        compensation_kind=comp.kind if comp is not None and granted else None,
        compensation_amount=comp.amount if comp is not None and granted else None,
        lesson=clean(case.lesson),
        first_time=context.reopen_count == 0 and not context.sent_back,
        reopen_count=context.reopen_count,
        rating=case.rating,
    )


# --- outcome ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    first_time: bool
    reopen_count: int
    rating: int | None

    @property
    def tier(self) -> int:
        """0 best: resolved first time and rated 4-5; then first time unrated; first time but rated
        low; sent back before it held; reopened last (the more reopens, the lower)."""
        if self.reopen_count:
            return 4 + self.reopen_count
        if not self.first_time:
            return 3
        if self.rating is None:
            return 1
        return 0 if self.rating >= 4 else 2

    @property
    def chips(self) -> tuple[str, ...]:
        """Codes of the outcome as the panel shows it (web/labels.py names them)."""
        out = ["first_time" if self.first_time else "not_first_time"]
        if self.reopen_count:
            out.append("reopened")
        if self.rating is not None:
            out.append("rated_good" if self.rating >= 4 else "rated_poor")
        return tuple(out)


# --- similar cases ---------------------------------------------------------------------------

# Of the similarity in [0, 1] (the cosine of weighted term sets, services/case_library/index.py),
# with the category bonus: a paraphrase of the same problem scores 0.1-0.3, unrelated text
# sharing a common word or two below 0.05.
MIN_SCORE = 0.08
RELATIVE_CUTOFF = 0.3  # of the best match's score: far weaker matches are not offered
SAME_CATEGORY_BONUS = 0.05


@dataclass(frozen=True)
class Candidate:
    id: int
    score: float  # text similarity, [0, 1]
    category: str | None
    outcome: Outcome


@dataclass(frozen=True)
class Match:
    id: int
    score: float  # with the category bonus
    same_category: bool
    outcome: Outcome


def rank(candidates: Iterable[Candidate], category: str | None, limit: int) -> list[Match]:
    """The good matches for a case of ``category``: the same category first, best outcomes first.

    Similarity decides what is offered: at least ``MIN_SCORE`` and within ``RELATIVE_CUTOFF`` of
    the best (the same category adds ``SAME_CATEGORY_BONUS``). Among those, cases of the same
    category come first — a shared product name alone (the same snack, late or broken) is not
    the same problem — then the outcome decides (resolved first time and well rated first,
    reopened last), then similarity."""
    scored = [
        Match(
            c.id,
            round(min(1.0, c.score + (SAME_CATEGORY_BONUS if same else 0.0)), 4),
            same,
            c.outcome,
        )
        for c in candidates
        for same in [category is not None and c.category == category]
    ]
    if not scored:
        return []
    best = max(m.score for m in scored)
    good = [m for m in scored if m.score >= MIN_SCORE and m.score >= best * RELATIVE_CUTOFF]
    good.sort(key=lambda m: (not m.same_category, m.outcome.tier, -m.score, m.id))
    return good[:limit]


def query_text(parts: Sequence[str]) -> str:
    """What an open case is searched by: its subject, facts, cause and the customer's words."""
    return "\n".join(p.strip() for p in parts if p and p.strip())


# --- promotion to a knowledge-base article ----------------------------------------------------


@dataclass(frozen=True)
class ArticleDraft:
    title: str
    body: str
    category: str | None
    tags: tuple[str, ...]


def article_draft(
    *,
    title: str,
    problem: str,
    root_cause: str,
    solution: str,
    compensation: str,
    lesson: str,
    category: str | None,
    tags: Sequence[str],
) -> ArticleDraft:
    """A knowledge-base article draft from an entry: the problem as the question, the solution
    as the answer, the cause and lesson for the agent's background (Markdown)."""
    sections = [
        ("问题", problem),
        ("原因", root_cause),
        ("处理方法", solution),
        ("补偿", compensation),
        ("经验", lesson),
    ]
    body = "\n\n".join(f"## {name}\n\n{text.strip()}" for name, text in sections if text.strip())
    return ArticleDraft(
        title=_clip(title, 100),
        body=body,
        category=category,
        tags=tuple(dict.fromkeys(t for t in ("案例库", *tags) if t)),
    )
