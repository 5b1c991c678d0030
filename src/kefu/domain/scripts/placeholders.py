"""Placeholders in a script (话术占位符): ``[客户称呼]``, ``【单号】`` and ``{name}`` — one parser.

``find`` lists them with their spans; ``fill`` replaces those with a value and reports the ones
left without one, with their spans in the filled text, so that the composer can highlight them
and the norms checker can refuse to send. Names are compared after ``canonical`` (aliases such as
订单号 → 单号, and a few English names). No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# A name is 1–20 characters without brackets or line breaks; ``{…}`` names are identifiers or
# CJK words (a JSON-like ``{"a": 1}`` in a script is not a placeholder).
_PATTERN = re.compile(
    r"\[(?P<square>[^\[\]【】{}\n\r]{1,20})\]"
    r"|【(?P<lenticular>[^\[\]【】{}\n\r]{1,20})】"
    r"|\{(?P<brace>[A-Za-z_][A-Za-z0-9_]{0,39}|[\u3400-\u9fff][\u3400-\u9fff0-9A-Za-z_/]{0,19})\}"
)

YOU = "您"  # a form of address that needs no name; "[客户称呼]，您好" then reads "您好"
_YOU_AGAIN = re.compile(r"[，,、\s]*(您)")

# Other spellings of the same value (the first name is the canonical one).
ALIASES: dict[str, str] = {
    "订单号": "单号",
    "订单编号": "单号",
    "order_no": "单号",
    "order_number": "单号",
    "customer_name": "客户称呼",
    "客户姓名": "客户称呼",
    "称呼": "客户称呼",
    "agent_name": "客服名",
    "客服姓名": "客服名",
    "ticket_id": "工单号",
    "time": "时间",
    "deadline": "处理时限",
    "product_name": "商品名称",
    "产品名称": "商品名称",
    "tracking_no": "快递单号",
    "运单号": "快递单号",
}


def canonical(name: str) -> str:
    """The name a value is stored under: trimmed, full-width spaces gone, aliases folded."""
    cleaned = name.strip().replace("\u3000", "")
    return ALIASES.get(cleaned, ALIASES.get(cleaned.lower(), cleaned))


@dataclass(frozen=True)
class Placeholder:
    name: str  # canonical
    raw: str  # as written, brackets included
    start: int
    end: int


@dataclass(frozen=True)
class Filled:
    text: str
    unfilled: tuple[Placeholder, ...]  # spans in ``text``

    @property
    def complete(self) -> bool:
        return not self.unfilled


def find(text: str) -> list[Placeholder]:
    """Every placeholder of ``text`` in order, with its span."""
    found = []
    for m in _PATTERN.finditer(text):
        inner = m.group("square") or m.group("lenticular") or m.group("brace") or ""
        if inner.strip():
            found.append(Placeholder(canonical(inner), m.group(0), m.start(), m.end()))
    return found


def names(text: str) -> list[str]:
    """The distinct canonical names of ``text``'s placeholders, in order of appearance."""
    return list(dict.fromkeys(p.name for p in find(text)))


def normalised_values(values: Mapping[str, str]) -> dict[str, str]:
    """``values`` under canonical names; empty values count as missing."""
    out: dict[str, str] = {}
    for key, value in values.items():
        text = str(value).strip() if value is not None else ""
        if text and canonical(key) not in out:
            out[canonical(key)] = text
    return out


def fill(text: str, values: Mapping[str, str]) -> Filled:
    """``text`` with each placeholder that has a value replaced; the others stay as written and
    are listed with their spans in the result."""
    known = normalised_values(values)
    parts: list[str] = []
    unfilled: list[Placeholder] = []
    position = length = 0
    for p in find(text):
        parts.append(text[position : p.start])
        length += p.start - position
        value = known.get(p.name)
        position = p.end
        if value is None:
            unfilled.append(Placeholder(p.name, p.raw, length, length + len(p.raw)))
            value = p.raw
        elif value == YOU and (echo := _YOU_AGAIN.match(text, p.end)):
            value, position = "", echo.start(1)  # not 您，您好 but 您好
        parts.append(value)
        length += len(value)
    parts.append(text[position:])
    return Filled("".join(parts), tuple(unfilled))
