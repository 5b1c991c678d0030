"""The norms commands of ``kefu``: check-reply and eval norms."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kefu.cli_nlp import _fail, _lines, _write, eval_app


def check_reply(
    file: Annotated[
        str,
        typer.Argument(
            help='JSON Lines {"reply", "context": [{"role", "text"}], "first_reply", "closing"}; '
            "- or nothing for stdin."
        ),
    ] = "-",
) -> None:
    """Check agent replies against the communication norms: one JSON line of findings per
    line in (with the norm score and whether sending would be blocked)."""
    from kefu.norms import Report, check
    from kefu.norms.evaluate import context_of

    failed = 0
    try:
        source = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as e:
        raise _fail(f"cannot read {file}: {e.strerror}") from e
    with source:
        for number, line in _lines(source):
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("reply"), str):
                    raise ValueError('expected an object with a string "reply"')
                context = context_of(row)
            except ValueError as e:
                failed += 1
                _write({"line": number, "error": {"code": "bad_line", "message": str(e)}})
                continue
            report = Report(tuple(check(row["reply"], context)))
            out: dict[str, Any] = {} if row.get("id") is None else {"id": row["id"]}
            out |= {
                "findings": [f.to_json() for f in report.findings],
                "score": report.score,
                "blocked": report.blocked,
            }
            _write(out)
    if failed:
        typer.echo(f"{failed} line(s) could not be read", err=True)
        raise typer.Exit(1)


@eval_app.command("norms")
def eval_norms(
    file: Annotated[
        Path,
        typer.Argument(help="JSON Lines labelled as spec/norms.md (context, reply, violations)."),
    ],
) -> None:
    """Each rule's precision and recall (Wilson 95 % intervals), then one JSON line: n, rules,
    exact_set_accuracy, false_alarm_rate."""
    from kefu.norms.evaluate import predict, read_examples, report_lines, score, summary

    try:
        examples = read_examples(file)
    except (OSError, ValueError) as e:
        raise _fail(str(e)) from e
    scores = score([e.violations for e in examples], predict(examples))
    for line in report_lines(scores):
        typer.echo(line)
    typer.echo(json.dumps(summary(scores), ensure_ascii=False))
