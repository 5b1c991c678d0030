"""What an erasure leaves of a stored JSON value: every piece of free text replaced, the shape
and the figures kept. Pure: the caller decides which columns hold what."""

from __future__ import annotations

from typing import Any

# The parts of a case file that are figures and decisions, not words about the customer.
CASE_FILE_KEPT = frozenset(
    {"category_confirmed", "customer_confirmed", "rating", "waiting_until", "kind", "amount",
     "proposed_by", "approved_by", "rejected_by"}
)  # fmt: skip


def scrub(value: Any, marker: str, keep: frozenset[str] = frozenset()) -> Any:
    """``value`` with every non-empty string replaced by ``marker``, in lists and in mappings at
    any depth; numbers, booleans, ``None`` and the values under the keys in ``keep`` stay.
    Scrubbing a scrubbed value changes nothing."""
    if isinstance(value, str):
        return marker if value else value
    if isinstance(value, list):
        return [scrub(item, marker, keep) for item in value]
    if isinstance(value, dict):
        return {k: v if k in keep else scrub(v, marker, keep) for k, v in value.items()}
    return value
