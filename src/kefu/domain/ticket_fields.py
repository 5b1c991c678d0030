"""Custom ticket fields (自定义工单字段): their types, how a value is read from what people and
systems type, and how it is shown.

Pure rules: no I/O. A value is stored as JSON — text and choice as the string, a number as an
int or a decimal string, a date as ``YYYY-MM-DD`` — and read back by ``display``. Input is
folded first (NFKC: full-width digits and punctuation to half-width), so ``２０２６／１２／７``
is a date and ``１２３`` a number; text keeps its Chinese punctuation and folds only full-width
digits and letters (ＳＯ２０２６ → SO2026); a choice also matches after ``fold`` (the caller passes the
traditional → simplified conversion, so 順豐 picks 顺丰).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"


KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TEXT = 500
MAX_OPTIONS = 50
# The field whose value is an order number: the order lookup (services/fields/orders.py) follows it.
ORDER_NUMBER_KEY = "order_no"


@dataclass(frozen=True)
class FieldSpec:
    """One field's definition, as the rules need it. ``group_ids`` empty: every group."""

    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()
    required: bool = False
    group_ids: frozenset[int] = field(default_factory=frozenset)

    def applies_to(self, group_id: int | None) -> bool:
        """A field for every group, one of the ticket's group, or any field on a ticket that
        has no group yet (an inbound case the rules have not routed: its integration may know
        the order number before kefu knows the team)."""
        return not self.group_ids or group_id is None or group_id in self.group_ids


class FieldValueError(ValueError):
    """A value that does not fit its field: ``key`` and a ``reason`` code."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def fold(text: str) -> str:
    """Full-width to half-width, compatibility forms unified, outer spaces dropped."""
    return unicodedata.normalize("NFKC", text).strip()


# Full-width digits and Latin letters (ＳＯ２０２６ → SO2026), and the ideographic space; Chinese
# punctuation in text stays as written (（12 册） is not (12 册)).
_ALNUM = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
          for cp in range(r[0], r[1] + 1)} | {0x3000: 0x20}  # fmt: skip


def fold_alnum(text: str) -> str:
    return text.translate(_ALNUM).strip()


def _identity(text: str) -> str:
    return text


def parse_value(spec: FieldSpec, raw: Any, *, simplify: Callable[[str], str] = _identity) -> Any:
    """The stored form of ``raw`` for ``spec``; None clears (so does an empty string).
    Raises ``FieldValueError`` with a reason: not_text, too_long, not_number, not_date,
    not_option."""
    if raw is None or (isinstance(raw, str) and not fold(raw)):
        return None
    match spec.type:
        case FieldType.TEXT:
            return _text(spec, raw)
        case FieldType.NUMBER:
            return _number(spec, raw)
        case FieldType.DATE:
            return _date(spec, raw)
        case FieldType.CHOICE:
            return _choice(spec, raw, simplify)


def _text(spec: FieldSpec, raw: Any) -> str:
    if not isinstance(raw, str):
        raise FieldValueError(spec.key, "not_text")
    value = fold_alnum(raw)
    if len(value) > MAX_TEXT:
        raise FieldValueError(spec.key, "too_long")
    return value


_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def _number(spec: FieldSpec, raw: Any) -> int | str:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise FieldValueError(spec.key, "not_number")
    text = fold(str(raw)).lstrip("¥￥").replace(" ", "")
    if not _NUMBER.match(text):
        raise FieldValueError(spec.key, "not_number")
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation as e:  # pragma: no cover - the pattern admits only numbers
        raise FieldValueError(spec.key, "not_number") from e
    if abs(number) >= Decimal(10) ** 15:
        raise FieldValueError(spec.key, "not_number")
    if number == number.to_integral_value():
        return int(number)
    return format(number.normalize(), "f")  # exact: 12.50 stays 12.5, never 12.499999


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _date(spec: FieldSpec, raw: Any) -> str:
    if not isinstance(raw, str):
        raise FieldValueError(spec.key, "not_date")
    found = _DATE.match(fold(raw))
    if not found:
        raise FieldValueError(spec.key, "not_date")
    try:
        day = date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError as e:
        raise FieldValueError(spec.key, "not_date") from e
    return day.isoformat()


def _choice(spec: FieldSpec, raw: Any, simplify: Callable[[str], str]) -> str:
    if not isinstance(raw, str):
        raise FieldValueError(spec.key, "not_option")
    wanted = simplify(fold(raw)).casefold()
    for option in spec.options:
        if simplify(fold(option)).casefold() == wanted:
            return option
    raise FieldValueError(spec.key, "not_option")


def display(spec: FieldSpec, value: Any) -> str:
    """A stored value as people read it: dates as 2026年12月7日, numbers plainly."""
    if value is None:
        return ""
    if spec.type is FieldType.DATE:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{day.year}年{day.month}月{day.day}日"
    return str(value)


def merge(
    specs: Mapping[str, FieldSpec],
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    simplify: Callable[[str], str] = _identity,
) -> dict[str, Any]:
    """``current`` with ``changes`` applied (a partial merge; None clears), each value checked
    against its field in ``specs`` (the fields that apply to the ticket). An unknown key is
    ``FieldValueError(key, "unknown_field")``."""
    merged = dict(current)
    for key, raw in changes.items():
        spec = specs.get(key)
        if spec is None:
            raise FieldValueError(key, "unknown_field")
        value = parse_value(spec, raw, simplify=simplify)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def missing_required(specs: Iterable[FieldSpec], values: Mapping[str, Any]) -> list[FieldSpec]:
    """The required fields without a value: a case with any of them is not resolved."""
    return [s for s in specs if s.required and values.get(s.key) in (None, "")]


def check_definition(key: str, field_type: FieldType, options: Iterable[str]) -> tuple[str, ...]:
    """A definition's options, cleaned (folded, blank and repeated ones dropped); a choice
    needs at least one, the other types none. Raises ``FieldValueError(key, reason)``."""
    if not KEY_PATTERN.match(key):
        raise FieldValueError(key, "bad_key")
    cleaned = tuple(dict.fromkeys(o for o in (fold(x) for x in options) if o))
    if field_type is FieldType.CHOICE:
        if not cleaned:
            raise FieldValueError(key, "options_required")
        if len(cleaned) > MAX_OPTIONS or any(len(o) > 100 for o in cleaned):
            raise FieldValueError(key, "too_many_options")
        return cleaned
    return ()
