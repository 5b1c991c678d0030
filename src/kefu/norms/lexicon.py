"""The checker's words and templates, loaded once from ``rules.toml`` in this package."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class RuleWords:
    name: str
    severity: str
    explanation: str
    rewrite: str | None
    patterns: tuple[re.Pattern[str], ...]
    harmless: tuple[str, ...]
    extra: dict[str, Any]

    def regex(self, key: str) -> re.Pattern[str]:
        return _compiled(self.name, key, self.extra[key])

    def regex_of(self, source: str) -> re.Pattern[str]:
        """A pattern of this file (a {class} in it expanded), compiled once."""
        return _compiled(self.name, "", source)

    def find(self, text: str) -> list[re.Match[str]]:
        """Every match of the rule's patterns not inside one of its harmless words."""
        found = []
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                if not inside_any(text, match.start(), match.end(), self.harmless):
                    found.append(match)
        return found


def inside_any(text: str, start: int, end: int, words: tuple[str, ...]) -> bool:
    """Whether text[start:end] lies within an occurrence of one of ``words``."""
    for word in words:
        at = text.find(word, max(0, start - len(word)), end + len(word))
        while at != -1 and at <= start:
            if at + len(word) >= end:
                return True
            at = text.find(word, at + 1, end + len(word))
    return False


_CLASSES: dict[str, str] = {}


@lru_cache(maxsize=256)
def _compiled(rule: str, key: str, source: str) -> re.Pattern[str]:
    return re.compile(_expand(source))


def _expand(source: str) -> str:
    for name, alternatives in _CLASSES.items():
        source = source.replace("{" + name + "}", alternatives)
    return source


@lru_cache(maxsize=1)
def load() -> dict[str, RuleWords]:
    raw = tomllib.loads(resources.files("kefu.norms").joinpath("rules.toml").read_text("utf-8"))
    _CLASSES.update(raw.get("classes", {}))
    rules = {}
    for name, table in raw["rules"].items():
        extra = {
            k: v
            for k, v in table.items()
            if k not in {"severity", "explanation", "rewrite", "patterns", "harmless"}
        }
        harmless = table.get("harmless", [])
        if isinstance(harmless, dict):  # per term (jargon)
            extra["harmless_by_term"] = harmless
        rules[name] = RuleWords(
            name=name,
            severity=table["severity"],
            explanation=table["explanation"],
            rewrite=table.get("rewrite"),
            patterns=tuple(re.compile(_expand(p)) for p in table.get("patterns", [])),
            harmless=tuple(harmless) if isinstance(harmless, list) else (),
            extra=extra,
        )
    return rules
