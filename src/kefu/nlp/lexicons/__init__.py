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
class Family:
    risk: Risk
    threat: bool
    entries: tuple[Entry, ...]
    trigger: re.Pattern[str]
    harmless: re.Pattern[str] | None
    by_term: Mapping[str, Entry] = field(repr=False)
    by_pattern: tuple[Entry, ...] = field(repr=False)

    def entry_of(self, match: re.Match[str]) -> Entry:
        """The entry whose term or pattern made this match of ``trigger``."""
        group = match.lastgroup
        if group == "t":
            return self.by_term[match.group()]
        assert group is not None and group.startswith("p")
        return self.by_pattern[int(group[1:])]


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
    by_pattern = tuple(entry for entry in draft.entries for _ in entry.patterns)
    patterns = [p for entry in draft.entries for p in entry.patterns]
    parts = [f"(?P<t>{_alternation(by_term)})"] if by_term else []
    parts += [f"(?P<p{i}>{p})" for i, p in enumerate(patterns)]
    harmless = [_alternation(draft.harmless)] if draft.harmless else []
    harmless += draft.harmless_patterns
    return Family(
        risk=draft.risk,
        threat=draft.threat,
        entries=tuple(draft.entries),
        trigger=re.compile("|".join(parts)),
        harmless=re.compile("|".join(f"(?:{h})" for h in harmless)) if harmless else None,
        by_term=by_term,
        by_pattern=by_pattern,
    )


def _alternation(terms: Iterable[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(set(terms), key=lambda t: (-len(t), t)))
