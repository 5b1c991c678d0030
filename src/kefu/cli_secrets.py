"""``kefu secrets reseal [--dry-run]``: every sealed secret in the database rewritten as the
secret box seals now (AES-256-GCM, ``v2:``) under the current ``KEFU_SECRET_KEY``; what the
previous keys (``KEFU_SECRET_KEY_PREVIOUS``) or the former format sealed is moved over
(services/infra/reseal.py). Run it after changing the master key, then drop the old key."""

from __future__ import annotations

from typing import Annotated

import typer

secrets_app = typer.Typer(help="Secrets sealed in the database.", no_args_is_help=True)


@secrets_app.command("reseal")
def reseal(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be resealed; change nothing.")
    ] = False,
    batch_rows: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = 500,
) -> None:
    """Reseal every sealed column; prints, per column, the values already current, resealed
    and unreadable (no key opens them: enter those secrets again). Exit 1 if any is unreadable."""
    from kefu.db.engine import make_engine, make_session_factory, writer_bind
    from kefu.services.infra.reseal import reseal_all
    from kefu.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        report = reseal_all(make_session_factory(writer_bind(engine)), settings.secret_key,
                            dry_run=dry_run, batch_rows=batch_rows)  # fmt: skip
    finally:
        engine.dispose()
    verb = "to reseal" if dry_run else "resealed"
    for name, counts in report.columns.items():
        typer.echo(f"{name}: {counts.current} current, {counts.resealed} {verb}, "
                   f"{counts.unreadable} unreadable")  # fmt: skip
    typer.echo(f"total: {report.total('current')} current, {report.total('resealed')} {verb}, "
               f"{report.total('unreadable')} unreadable")  # fmt: skip
    if report.total("unreadable"):
        raise typer.Exit(1)
