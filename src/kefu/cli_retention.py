"""``kefu retention run [--dry-run]``: the retention sweep from the command line (the same as
the worker's ``retention`` job; audited as the ``cli`` actor), or what it would sweep."""

from __future__ import annotations

from typing import Annotated

import typer

retention_app = typer.Typer(
    help="Retention periods: sweep the personal data past its period.", no_args_is_help=True
)


@retention_app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be swept; change nothing.")
    ] = False,
) -> None:
    """Apply the retention periods now; prints the rows swept per kind of data."""
    from kefu.cli import CLI_ACTOR
    from kefu.db.base import utcnow
    from kefu.db.engine import make_engine, make_session_factory, writer_bind
    from kefu.domain.retention import KIND_KEYS
    from kefu.services.retention import policy, sweep
    from kefu.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    sessions = make_session_factory(writer_bind(engine))  # takes SQLite's write lock at BEGIN
    try:
        with sessions() as session:
            periods = policy.current(session)
            counts = sweep.due_counts(session, periods, utcnow()) if dry_run else None
        if counts is None:
            counts = sweep.run(sessions, policy=periods, now=utcnow(), actor=CLI_ACTOR,
                               attachments_root=settings.attachments_dir)  # fmt: skip
    finally:
        engine.dispose()
    verb = "due" if dry_run else "swept"
    for key in KIND_KEYS:
        days = periods.days[key]
        if key in counts:
            typer.echo(f"{key}: {verb} {counts[key]} (older than {days} days)")
        else:
            typer.echo(f"{key}: kept forever")
