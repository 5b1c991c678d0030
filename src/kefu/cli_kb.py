"""The knowledge-base commands of ``kefu``: eval kb, kb import, kb export."""

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


kb_app = typer.Typer(help="The knowledge base (知识库): import and export.", no_args_is_help=True)


@kb_app.command("import")
def kb_import(
    folder: Annotated[
        Path, typer.Argument(help="A folder of Markdown articles (*.md with front matter).")
    ],
) -> None:
    """Import a folder of articles; a folder with any broken file imports nothing and lists
    every problem. An article of an existing key gets the file's content as a new version."""
    from kefu.db.engine import make_engine
    from kefu.db.session import session_scope
    from kefu.errors import KefuError
    from kefu.services.actors import SYSTEM
    from kefu.services.kb import files
    from kefu.settings import get_settings

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            report = files.do_import(session, SYSTEM, files.files_of_folder(folder))
    except KefuError as e:
        for problem in (e.details or {}).get("problems", []):
            typer.echo(problem, err=True)
        raise typer.Exit(1) from e
    finally:
        engine.dispose()
    typer.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}")


@kb_app.command("export")
def kb_export(
    folder: Annotated[Path, typer.Argument(help="The folder to write the *.md files into.")],
) -> None:
    """Write every draft and published article as one Markdown file with front matter."""
    from kefu.db.engine import make_engine
    from kefu.db.session import session_scope
    from kefu.services.actors import SYSTEM
    from kefu.services.kb import files
    from kefu.settings import get_settings

    folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            written = files.exported(session, SYSTEM)
    finally:
        engine.dispose()
    for name, text in written:
        (folder / name).write_text(text, "utf-8")
    typer.echo(f"wrote {len(written)} articles to {folder}")
