"""The knowledge-base commands of ``kefu``: eval kb."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kefu.cli_nlp import _fail, eval_app

DEMO_KB = Path(__file__).parent / "demo" / "data" / "kb"


@eval_app.command("kb")
def eval_kb(
    file: Annotated[
        Path, typer.Argument(help="JSON Lines of questions: id, text, article (an id or null).")
    ],
    kb: Annotated[
        Path,
        typer.Option("--kb", help="A folder of Markdown articles with front matter."),
    ] = DEMO_KB,
    misses: Annotated[
        bool, typer.Option("--misses", help="List every question answered wrongly.")
    ] = False,
) -> None:
    """Search every question; the last line is JSON: n, top1, top3, no_answer precision and
    recall, latency_ms p50 and p99."""
    from kefu.retrieval.engine import Index, doc_of
    from kefu.retrieval.evaluate import evaluate, load_questions
    from kefu.retrieval.folder import FolderError, read_folder

    try:
        articles = read_folder(kb)
        questions = load_questions(file)
    except FolderError as e:
        raise _fail("\n".join(e.problems)) from e
    except (OSError, ValueError) as e:
        raise _fail(str(e)) from e
    index = Index.build(doc_of(a) for a in articles if a.status == "published")
    report, results = evaluate(index, questions)
    if misses:
        for question, result in zip(questions, results, strict=True):
            said = result.hits[0].id if result.answered and result.hits else None
            if said != question.article:
                best = ", ".join(f"{h.id}:{h.score:.2f}" for h in result.hits[:3])
                typer.echo(f"{question.id}\t{question.article}\t{said}\t{best}\t{question.text}")
    typer.echo(json.dumps(report, ensure_ascii=False))
