"""What the norms set builders (build_*_set.py) share: a labelled reply as a row of the dev
file's format, the mechanical checks of its labels, and writing a set as JSON Lines."""

import json
from collections.abc import Callable, Iterable
from pathlib import Path


def record(
    row_id: str, industry: str, turns: list[str], reply: str, flags: str, violations: list[str],
    **extra: object,
) -> dict[str, object]:  # fmt: skip
    """A row: ``turns`` are the customer's, or the agent's when they start with ``A:``;
    ``flags`` holds F (the first reply) and C (a reply that closes)."""
    context = [
        {"role": "agent", "text": t[2:]} if t.startswith("A:") else {"role": "customer", "text": t}
        for t in turns
    ]
    return {
        "id": row_id, "industry": industry, **extra, "context": context, "reply": reply,
        "first_reply": "F" in flags, "closing": "C" in flags, "violations": sorted(violations),
    }  # fmt: skip


def check_labels(
    reply: str, flags: str, violations: list[str], *,
    too_long: Callable[[str], bool], informal_you: Callable[[str], bool],
) -> None:  # fmt: skip
    """Refuse a row whose mechanical labels disagree with its text or its flags."""
    if too_long(reply) != ("too_long" in violations):
        raise ValueError(f"too_long label disagrees with the text: {reply}")
    if informal_you(reply) and "impolite" not in violations:
        raise ValueError(f"你 without impolite: {reply}")
    if "missing_greeting" in violations and "F" not in flags:
        raise ValueError(f"missing_greeting on a reply that is not the first: {reply}")
    if "missing_closing" in violations and "C" not in flags:
        raise ValueError(f"missing_closing on a reply that does not close: {reply}")


def write(builder: str, name: str, rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """The rows as ``name`` beside the builder script, one JSON object a line."""
    written = list(rows)
    path = Path(builder).with_name(name)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in written), "utf-8")
    return written
