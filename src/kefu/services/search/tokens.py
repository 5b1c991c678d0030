"""Index terms for Chinese full-text search: what a text is indexed as, what a query asks for.

Neither PostgreSQL nor SQLite segments Chinese, so kefu hands them finished terms, space-joined,
and both engines take them as they are (``array_to_tsvector`` on PostgreSQL; on SQLite FTS5's
``ascii`` tokenizer, which splits at spaces and keeps CJK terms whole).

A text is normalised as analysis reads it (``kefu.nlp.normalize.simplify``: NFKC full-width →
half-width, lower case, traditional → simplified), then each run of

- CJK characters gives every character bigram (快递员 → 快递 递员), its last character alone
  (so that every character of the run begins some term: a one-character query is a prefix
  query), and the jieba search-mode words of three characters or more (shorter words are
  bigrams already);
- Latin letters and digits is kept whole (iphone15, 13812345678), with its letter and digit
  parts when it mixes them (iphone, 15);
- identifiers — e-mail addresses, order numbers like SO20240101-001, 138-1234-5678 — is kept
  whole too, with its parts, and a number written with separators also without them.

A query is normalised the same way and asks, for each of its pieces, in order:

- a CJK run of two characters or more: all its bigrams (a substring of the text has them all,
  so 快递 finds 快递员), or the run itself as a jieba word; one character: a prefix query;
- a word, a number or an identifier: that exact term. A digit run is never a prefix or a
  substring: 1381 does not find every phone number that starts with it.

Every piece must match (AND). The token stream is deterministic: the same text always gives the
same terms, which a rebuilt index relies on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from kefu.nlp.normalize import clean, simplify

MAX_INDEXED_CHARS = 50_000  # of one document: beyond this a text is not indexed
MAX_TERM_CHARS = 64  # a longer word or identifier is not a term anyone types
MAX_QUERY_CHARS = 200
MAX_QUERY_PIECES = 24
EXACT_DIGITS = 6  # a digit run this long is a phone, order or card number

_CJK = (
    "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff"  # kana (not its punctuation)
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    "\uac00-\ud7af"  # Hangul
    "\U00020000-\U0002ebef"
)
# Letters and digits joined by - _ . / (order numbers, dates, versions, hosts); e-mail first.
_PIECE = re.compile(
    rf"(?P<cjk>[{_CJK}]+)"
    r"|(?P<email>[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)+)"
    r"|(?P<ident>[a-z0-9]+(?:[-_./][a-z0-9]+)+)"
    r"|(?P<word>[a-z0-9]+)"
)
_ALNUM = re.compile(r"[a-z0-9]+")
_LETTERS_OR_DIGITS = re.compile(r"[a-z]+|[0-9]+")
_DIGITS_WITH_SEPARATORS = re.compile(r"[0-9]+(?:[-.][0-9]+)+")


def normalize(text: str) -> str:
    """The form both the index and the queries read: clean, NFKC, lower case, simplified."""
    return simplify(clean(text))


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]  # rjieba ships no types
    import rjieba

    return rjieba


def _words(run: str) -> list[str]:
    """jieba search-mode words of a CJK run, three characters or more."""
    return [w for w in _jieba().cut_for_search(run) if len(w) >= 3]


def _is_word(run: str) -> bool:
    """Whether jieba reads the run as one word (then it is a term of the texts holding it)."""
    return list(_jieba().cut(run)) == [run]


def _cjk_terms(run: str) -> list[str]:
    terms = [run[i : i + 2] for i in range(len(run) - 1)]
    terms.append(run[-1])
    if len(run) >= 3:
        terms.extend(_words(run))
    return terms


def _ascii_terms(kind: str, piece: str) -> list[str]:
    terms = [piece] if len(piece) <= MAX_TERM_CHARS else []
    if kind == "word":
        parts = _LETTERS_OR_DIGITS.findall(piece)
        if len(parts) > 1:
            terms.extend(p for p in parts if len(p) <= MAX_TERM_CHARS)
        return terms
    for part in _ALNUM.findall(piece):
        terms.extend(_ascii_terms("word", part))
    joined = _joined_number(piece)
    if joined is not None:
        terms.append(joined)
    return terms


def _joined_number(piece: str) -> str | None:
    """A long number written with separators, without them: 138-1234-5678 is 13812345678."""
    if not _DIGITS_WITH_SEPARATORS.fullmatch(piece):
        return None
    joined = re.sub(r"[^0-9]", "", piece)
    return joined if EXACT_DIGITS <= len(joined) <= MAX_TERM_CHARS else None


def index_terms(text: str | None) -> list[str]:
    """The terms a text is indexed as, in order, with repeats (term frequency counts)."""
    if not text:
        return []
    terms: list[str] = []
    for match in _PIECE.finditer(normalize(text[:MAX_INDEXED_CHARS])):
        kind = match.lastgroup
        assert kind is not None
        piece = match.group()
        terms.extend(_cjk_terms(piece) if kind == "cjk" else _ascii_terms(kind, piece))
    return terms


def index_text(*texts: str | None) -> str:
    """The space-joined terms of several texts (a ticket's subject and tags, a customer's
    name and identities): what the index stores."""
    return " ".join(term for text in texts for term in index_terms(text))


# --- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One piece of a query: matched when all of ``terms`` are in the document, or (for a CJK
    run) ``word`` is; ``prefix``: the one term is a prefix (a one-character query)."""

    text: str  # as normalised: what snippets mark
    terms: tuple[str, ...]
    word: str | None = None
    prefix: bool = False
    exact: bool = False  # an identifier or a long number: found exactly or not at all


@dataclass(frozen=True)
class QueryPlan:
    pieces: tuple[Piece, ...]

    @property
    def empty(self) -> bool:
        return not self.pieces

    @property
    def exact_terms(self) -> tuple[str, ...]:
        """Identifiers and long numbers the query names (order, phone, e-mail)."""
        return tuple(p.terms[0] for p in self.pieces if p.exact)

    def fts5(self) -> str:
        """The query in FTS5 syntax (every term quoted: no term holds a double quote)."""
        return _FTS5.and_.join(_render(p, _FTS5) for p in self.pieces)

    def tsquery(self) -> str:
        """The query as a PostgreSQL ``tsquery`` literal (lexemes quoted, taken as they are)."""
        return _TSQUERY.and_.join(_render(p, _TSQUERY) for p in self.pieces)


@dataclass(frozen=True)
class _Syntax:
    and_: str
    or_: str
    quote: str
    prefix: str  # after a quoted term


_FTS5 = _Syntax(" AND ", " OR ", '"', "*")
_TSQUERY = _Syntax(" & ", " | ", "'", ":*")


def _render(piece: Piece, syntax: _Syntax) -> str:
    q = syntax.quote
    if piece.prefix:
        return f"{q}{piece.terms[0]}{q}{syntax.prefix}"
    all_of = syntax.and_.join(f"{q}{t}{q}" for t in piece.terms)
    if len(piece.terms) > 1:
        all_of = f"({all_of})"
    return all_of if piece.word is None else f"({all_of}{syntax.or_}{q}{piece.word}{q})"


def parse_query(query: str) -> QueryPlan:
    """The pieces of a query (see the module docstring); none if it holds no letter, digit or
    CJK character. Repeated pieces count once."""
    pieces: dict[str, Piece] = {}
    for match in _PIECE.finditer(normalize(query)):
        kind, text = match.lastgroup, match.group()
        if text in pieces or len(text) > MAX_TERM_CHARS:
            continue
        if kind == "cjk":
            if len(text) == 1:
                pieces[text] = Piece(text, (text,), prefix=True)
            else:
                bigrams = tuple(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))
                word = text if len(text) >= 3 and _is_word(text) else None
                pieces[text] = Piece(text, bigrams, word=word)
        else:
            exact = kind in ("email", "ident") or (text.isdigit() and len(text) >= EXACT_DIGITS)
            term = _joined_number(text) or text
            pieces[text] = Piece(text, (term,), exact=exact)
        if len(pieces) >= MAX_QUERY_PIECES:
            break
    return QueryPlan(tuple(pieces.values()))


# --- snippets -----------------------------------------------------------------------------

SNIPPET_CHARS = 80
_LEAD = 20  # characters shown before the first match
_WHITESPACE = re.compile(r"\s+")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Snippet:
    """A piece of a text with the matched spans, [start, end) offsets into ``text``: plain
    text, for the pages to escape and mark (never HTML)."""

    text: str
    spans: tuple[tuple[int, int], ...]


@lru_cache(maxsize=4096)
def _char_form(ch: str) -> str:
    return simplify(unicodedata.normalize("NFKC", ch))


def _normalized_with_offsets(text: str) -> tuple[str, list[int]]:
    """``text`` normalised, and for each normalised character the index of the character of
    ``text`` it came from: one for one when normalising keeps the length (nearly always), else
    worked out character by character."""
    whole = simplify(text)
    if len(whole) == len(text):
        return whole, list(range(len(text)))
    parts, offsets = [], []
    for i, ch in enumerate(text):
        form = _char_form(ch) if not ch.isascii() else ch.lower()
        parts.append(form)
        offsets.extend([i] * len(form))
    return "".join(parts), offsets


def find_spans(text: str, plan: QueryPlan) -> list[tuple[int, int]]:
    """Where the query's pieces are in ``text``: each piece where it occurs whole, else (a CJK
    run found by its bigrams) where its bigrams are. Sorted, merged where they overlap."""
    normalized, offsets = _normalized_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for piece in plan.pieces:
        found = _occurrences(normalized, piece.text)
        if not found and not piece.prefix and len(piece.terms) > 1:
            found = [span for term in piece.terms for span in _occurrences(normalized, term)]
        spans.extend((offsets[s], offsets[e - 1] + 1) for s, e in found)
    return _merged(spans)


def _occurrences(haystack: str, needle: str) -> list[tuple[int, int]]:
    found, at = [], haystack.find(needle)
    while at >= 0 and needle:
        found.append((at, at + len(needle)))
        at = haystack.find(needle, at + len(needle))
    return found


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, plan: QueryPlan, *, width: int = SNIPPET_CHARS) -> Snippet:
    """A window of ``text`` (whitespace collapsed) around its first match, ``width`` characters
    at most, with ``…`` where it was cut and the matches inside it as spans."""
    text = _WHITESPACE.sub(" ", text or "").strip()
    spans = find_spans(text, plan)
    start = max(0, spans[0][0] - _LEAD) if spans else 0
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(text) else ""
    shift = len(head) - start
    inside = tuple(
        (max(s, start) + shift, min(e, end) + shift) for s, e in spans if s < end and e > start
    )
    return Snippet(head + text[start:end] + tail, inside)
