"""Fault injection for the fault tests (tests/faults, docs/faults.md): named steps of the outbox
relay and the SLA sweep where a process kills itself, to show that a worker dying at any step
loses nothing and repeats nothing as the receiver sees it.

Inert unless ``KEFU_FAULT_KILL_AT`` names steps (comma-separated) when the process starts; then
the process sends itself SIGKILL the first time it reaches one of them (no cleanup, no flush:
as a machine losing power would). Never set it in production.
"""

from __future__ import annotations

import os
import signal

ENVIRONMENT_VARIABLE = "KEFU_FAULT_KILL_AT"
STEPS = frozenset({
    "outbox.after_claim",  # rows claimed and committed, nothing sent yet
    "outbox.after_send",  # a row sent (the receiver has it), not yet marked
    "outbox.after_mark",  # the claim's rows marked and committed
    "sla.before_commit",  # a batch of due tickets swept, its transaction not committed
    "sla.after_commit",  # the batch committed
})  # fmt: skip
_KILL_AT = frozenset(
    step.strip() for step in os.environ.get(ENVIRONMENT_VARIABLE, "").split(",") if step.strip()
)
if _KILL_AT - STEPS:  # a misspelt step would leave a fault test killing nothing
    raise ValueError(f"{ENVIRONMENT_VARIABLE}: unknown steps {sorted(_KILL_AT - STEPS)}")


def reached(step: str) -> None:
    """The process is at ``step``: killed here if KEFU_FAULT_KILL_AT names it, else nothing."""
    if _KILL_AT and step in _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
