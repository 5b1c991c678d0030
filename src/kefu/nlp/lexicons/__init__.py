"""Crisis lexicons: the words of each risk family, as data (README.md in this folder).

One TOML file per risk family ships here (media.toml, regulator.toml …); a team adds its
own in a directory named by the setting ``KEFU_LEXICON_DIR``, whose ``*.toml`` files use
the same format and add entries and harmless compounds to the families.

Each family compiles into one regex: the literal terms (longest first, so 消费者委员会 wins
over 消委会 at the same place) in the named group ``t``, then each regex pattern in its
own group ``p0``, ``p1`` …; a match maps back to its entry, whose reason the agent sees.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from kefu.domain.triage_labels import Risk
from kefu.nlp.normalize import HOTLINES, simplify

REGIONS = frozenset({"mainland", "hk", "tw"})
KINDS = {"threat": True, "harm": False}  # threat: needs an act or intent (media, regulator, legal)
_FILE_KEYS = frozenset({"risk", "kind", "harmless", "harmless_patterns", "entries"})
_ENTRY_KEYS = frozenset({"reason", "terms", "patterns", "act", "industry", "region"})
_MASKED_NUMBER = re.compile(r"\d{5,}")  # normalization turns these into <num> unless a hotline


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Entry:
    reason: str  # shown to the agent, Simplified Chinese
    terms: tuple[str, ...]  # literal, in normalized form (simplified, lower case)
    patterns: tuple[str, ...] = ()  # regexes, for the few terms a literal cannot say
    act: bool = False  # the term is itself an act or intent (求扩散, 避雷): no act word needed
    industry: str | None = None
    region: str | None = None  # mainland / hk / tw
    source: str = ""  # the file it came from


@dataclass(frozen=True)
class Trigger:
    """One place in a clause where a family's term or pattern matched."""

    start: int
    end: int
    text: str
    entry: Entry


@dataclass(frozen=True)
class Family:
    risk: Risk
    threat: bool
    entries: tuple[Entry, ...]
    # The literal terms as one trie regex, and each pattern on its own: a pattern joined into
    # the terms' alternation would cost Python's ``re`` its fast scans (tens of µs a clause).
    terms: re.Pattern[str] | None
    patterns: tuple[tuple[re.Pattern[str], Entry], ...]
    harmless_terms: re.Pattern[str] | None
    harmless_patterns: tuple[re.Pattern[str], ...]
    by_term: Mapping[str, Entry] = field(repr=False)

    def triggers(self, text: str) -> list[Trigger]:
        """Every match in the text, by position (the longest first where two start together).

        Most messages hold none: one ``search`` per regex (a single call into C) says so before
        any match object is made."""
        found: list[Trigger] = []
        terms = self.terms
        if terms is not None and terms.search(text) is not None:
            by_term = self.by_term
            found = [
                Trigger(m.start(), m.end(), m.group(), by_term[m.group()])
                for m in terms.finditer(text)
            ]
        for pattern, entry in self.patterns:
            if pattern.search(text) is not None:
                found += [
                    Trigger(m.start(), m.end(), m.group(), entry) for m in pattern.finditer(text)
                ]
        if len(found) > 1:
            found.sort(key=lambda t: (t.start, t.start - t.end))
        return found

    def harmless_spans(self, clause: str) -> list[tuple[int, int]]:
        """Where the clause holds a harmless compound of this family (工商银行, 爆炸盐 …)."""
        spans = (
            [m.span() for m in self.harmless_terms.finditer(clause)] if self.harmless_terms else []
        )
        for pattern in self.harmless_patterns:
            spans += [m.span() for m in pattern.finditer(clause)]
        return spans


@dataclass
class _Draft:
    risk: Risk
    threat: bool | None = None
    entries: list[Entry] = field(default_factory=list)
    harmless: list[str] = field(default_factory=list)
    harmless_patterns: list[str] = field(default_factory=list)


def builtin_files() -> list[Path]:
    folder = resources.files(__name__)
    return sorted(Path(str(f)) for f in folder.iterdir() if f.name.endswith(".toml"))


def load_families(extra_dir: Path | str | None = None) -> tuple[Family, ...]:
    """The six families from the shipped files, extended by ``extra_dir``'s ``*.toml`` files."""
    files = builtin_files()
    if extra_dir is not None:
        folder = Path(extra_dir)
        if not folder.is_dir():
            raise LexiconError(f"{folder}: KEFU_LEXICON_DIR is not a directory")
        files += sorted(folder.glob("*.toml"))
    drafts: dict[Risk, _Draft] = {}
    for path in files:
        _read_file(path, drafts)
    missing = [r.value for r in Risk if r not in drafts or drafts[r].threat is None]
    if missing:
        raise LexiconError(f"no lexicon (with a kind) for: {', '.join(missing)}")
    return tuple(_compile(drafts[r]) for r in Risk)


@lru_cache(maxsize=4)
def cached_families(extra_dir: Path | None) -> tuple[Family, ...]:
    return load_families(extra_dir)


def _read_file(path: Path, drafts: dict[Risk, _Draft]) -> None:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read lexicon: {exc}") from exc
    unknown = set(data) - _FILE_KEYS
    if unknown:
        raise LexiconError(f"{path}: unknown keys {sorted(unknown)}")
    try:
        risk = Risk(str(data.get("risk")))
    except ValueError:
        choices = ", ".join(r.value for r in Risk)
        raise LexiconError(f"{path}: 'risk' must be one of {choices}") from None
    draft = drafts.setdefault(risk, _Draft(risk))
    if "kind" in data:
        if data["kind"] not in KINDS:
            raise LexiconError(f"{path}: 'kind' must be 'threat' or 'harm'")
        threat = KINDS[data["kind"]]
        if draft.threat is not None and draft.threat != threat:
            raise LexiconError(f"{path}: {risk.value} is a {_kind(draft.threat)} family")
        draft.threat = threat
    draft.harmless += [_term(where, t) for t in _strings(where, data, "harmless")]
    patterns = _strings(where, data, "harmless_patterns")
    for pattern in patterns:
        _check_pattern(where, pattern)
    draft.harmless_patterns += patterns
    entries = data.get("entries", [])
    if not isinstance(entries, list):
        raise LexiconError(f"{path}: 'entries' must be an array of tables ([[entries]])")
    for number, raw in enumerate(entries, 1):
        draft.entries.append(_entry(f"{where}: entry {number}", raw))


def _entry(where: str, raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: must be a table")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise LexiconError(f"{where}: unknown keys {sorted(unknown)}")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise LexiconError(f"{where}: needs a 'reason' (the text shown to the agent)")
    terms = tuple(_term(where, t) for t in _strings(where, raw, "terms"))
    patterns = tuple(_strings(where, raw, "patterns"))
    if not terms and not patterns:
        raise LexiconError(f"{where}: needs 'terms' or 'patterns'")
    for pattern in patterns:
        _check_pattern(where, pattern)
    region = raw.get("region")
    if region is not None and region not in REGIONS:
        raise LexiconError(f"{where}: 'region' must be one of {sorted(REGIONS)}")
    industry = raw.get("industry")
    if industry is not None and not isinstance(industry, str):
        raise LexiconError(f"{where}: 'industry' must be a string")
    act = raw.get("act", False)
    if not isinstance(act, bool):
        raise LexiconError(f"{where}: 'act' must be true or false")
    return Entry(reason.strip(), terms, patterns, act, industry, region, where.split(": entry")[0])


def _strings(where: str, table: Mapping[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LexiconError(f"{where}: '{key}' must be a list of non-empty strings")
    return value


def _term(where: str, term: str) -> str:
    """A literal in the form rules read (simplified, lower case), refused if normalization
    would mask it (a number of five digits or more that is not a known hotline)."""
    normalized = simplify(term)
    for number in _MASKED_NUMBER.findall(normalized):
        if number not in HOTLINES:
            raise LexiconError(
                f"{where}: '{term}': normalization replaces {number} by <num>;"
                " add it to HOTLINES in kefu/nlp/normalize.py"
            )
    return normalized


def _check_pattern(where: str, pattern: str) -> None:
    if "(?P<" in pattern:
        raise LexiconError(f"{where}: pattern {pattern!r}: named groups are not allowed")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise LexiconError(f"{where}: pattern {pattern!r} is not a valid regex: {exc}") from exc


def _kind(threat: bool) -> str:
    return "threat" if threat else "harm"


def _compile(draft: _Draft) -> Family:
    assert draft.threat is not None
    by_term: dict[str, Entry] = {}
    for entry in draft.entries:
        for term in entry.terms:
            by_term[term] = entry  # a later file (a team's) may give a term a new reason
    return Family(
        risk=draft.risk,
        threat=draft.threat,
        entries=tuple(draft.entries),
        terms=re.compile(_alternation(by_term)) if by_term else None,
        patterns=tuple(
            (re.compile(pattern), entry) for entry in draft.entries for pattern in entry.patterns
        ),
        harmless_terms=re.compile(_alternation(draft.harmless)) if draft.harmless else None,
        harmless_patterns=tuple(re.compile(p) for p in draft.harmless_patterns),
        by_term=by_term,
    )


def _alternation(terms: Iterable[str]) -> str:
    """One regex for many literal terms, as a trie: at each position Python's ``re`` follows
    one branch per next character instead of trying every term (a thousand terms cost about
    what a few dozen did). The longest term wins where several start at the same place."""
    trie: dict[str, Any] = {}
    for term in set(terms):
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[_END] = {}
    return _trie_pattern(trie)


_END = ""  # marks the end of a term in the trie (never a character of one)


def _trie_pattern(node: dict[str, Any]) -> str:
    leaves = sorted(ch for ch, child in node.items() if ch != _END and list(child) == [_END])
    branches = [
        re.escape(ch) + _trie_pattern(child)
        for ch, child in sorted(node.items())
        if ch != _END and list(child) != [_END]
    ]
    if len(leaves) == 1:
        branches.append(re.escape(leaves[0]))
    elif leaves:
        branches.append("[" + "".join(re.escape(ch) for ch in leaves) + "]")
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if _END in node:
        return f"(?:{body})?"  # greedy: the longer term first, then the term that ends here
    return body
