"""``kefu customer``: a customer's personal data (个人信息保护法) from the command line — the
export (JSON or the readable report) and erasure on request; both audited as the ``cli`` actor."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

customer_app = typer.Typer(
    help="A customer's personal data: export, erasure.", no_args_is_help=True
)


class ExportFormat(StrEnum):
    json = "json"
    report = "report"


@customer_app.command("export")
def export(
    customer_id: Annotated[int, typer.Argument(help="The customer's id.")],
    format: Annotated[  # noqa: A002 (the option's name)
        ExportFormat, typer.Option(help="json (complete, machine-readable) or report (Markdown).")
    ] = ExportFormat.json,
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Everything kefu holds about one customer."""
    from kefu.cli import CLI_ACTOR
    from kefu.db.engine import make_engine
    from kefu.db.session import session_scope
    from kefu.errors import KefuError
    from kefu.services.customers import personal_data
    from kefu.services.customers.personal_data_report import report_markdown
    from kefu.settings import get_settings

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            data = personal_data.export_customer(session, CLI_ACTOR, customer_id, fmt=format.value)
    except KefuError as e:
        typer.echo(e.message("en"), err=True)
        raise typer.Exit(1) from e
    finally:
        engine.dispose()
    if format is ExportFormat.json:
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        text = report_markdown(data)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"written to {out}", err=True)


@customer_app.command("erase")
def erase(
    customer_id: Annotated[int, typer.Argument(help="The customer's id.")],
    reason: Annotated[str, typer.Option(help="Why: the customer's request (kept in the audit).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a customer's personal data on request: irreversible; the case statistics stay."""
    from kefu.cli import CLI_ACTOR
    from kefu.db.engine import make_engine
    from kefu.db.session import session_scope
    from kefu.errors import KefuError
    from kefu.services.customers import personal_data
    from kefu.settings import get_settings

    if not yes:
        typer.confirm(f"Erase customer {customer_id}'s personal data for good?", abort=True)
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            done = personal_data.do_erase_customer(
                session, CLI_ACTOR, customer_id, reason=reason,
                attachments_root=settings.attachments_dir,
            )  # fmt: skip
    except KefuError as e:
        typer.echo(e.message("en"), err=True)
        raise typer.Exit(1) from e
    finally:
        engine.dispose()
    typer.echo(
        f"erased customer {done.customer_id}: {done.profiles} profile(s), {done.tickets} "
        f"ticket(s), {done.messages} message(s), {done.attachments} attachment(s), "
        f"{done.files_deleted} file(s) deleted"
    )
