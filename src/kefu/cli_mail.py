"""The mail commands of ``kefu``: ``mail parse FILE`` shows what the fetcher makes of a raw
message (the same ``parse_mail`` + ``mail_json``), so any mail can be checked by hand;
``mail fetch`` runs one round of the IMAP fetcher; ``mail reprocess`` takes failed mails again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kefu.channels.email.parse import MailUnparseable, mail_json, parse_mail
from kefu.cli_nlp import _fail

if TYPE_CHECKING:  # the fetcher and its models load only for the commands that use them
    from kefu.services.mail.fetch import Fetcher, FetchReport

mail_app = typer.Typer(help="The e-mail channel.", no_args_is_help=True)


@mail_app.command("parse")
def parse(
    file: Annotated[
        Path, typer.Argument(help="A raw message (.eml, RFC 5322 bytes); - for stdin.")
    ],
) -> None:
    """Print, as one JSON object, what kefu reads in a raw mail: from, to, cc, subject, date,
    message_id, in_reply_to, references, text, html (sanitised), attachments, auto_reply."""
    try:
        raw = typer.get_binary_stream("stdin").read() if str(file) == "-" else file.read_bytes()
    except OSError as error:
        raise _fail(f"cannot read {file}: {error.strerror or error}", code=1) from error
    try:
        parsed = parse_mail(raw)
    except MailUnparseable as error:
        raise _fail(f"{file} is not a mail: {error}", code=1) from error
    typer.echo(json.dumps(mail_json(parsed), ensure_ascii=False, indent=2))


def _fetcher() -> tuple[Fetcher, Callable[[], None]]:
    """A fetcher on the configured database, whose commits are told on the event bus like the
    server's (so agents' pages see the new tickets), and what closes it."""
    from kefu.db.engine import make_engine, make_session_factory, writer_bind
    from kefu.realtime.bus import make_bus
    from kefu.services.events import unit_of_work as events
    from kefu.services.mail.fetch import Fetcher
    from kefu.services.outbound import wake
    from kefu.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    bus = make_bus(settings)
    info = {events.BUS: bus, wake.DOORBELL: wake.Doorbell(settings.redis_url)}
    fetcher = Fetcher(make_session_factory(writer_bind(engine), info=info), settings)

    def close() -> None:
        bus.close()
        engine.dispose()

    return fetcher, close


def _report(report: FetchReport) -> None:
    typer.echo(", ".join(f"{name} {count}" for name, count in report.counts().items()))
    for error in report.errors:
        typer.echo(f"error: {error}", err=True)


@mail_app.command("fetch")
def fetch(
    mailbox: Annotated[
        int | None, typer.Option("--mailbox", help="Only this mailbox (its id).")
    ] = None,
) -> None:
    """One round of the IMAP fetcher: every enabled mailbox (or one), new mail stored, then
    taken in. A mailbox another fetcher is reading is skipped."""
    fetcher, close = _fetcher()
    try:
        report = fetcher.fetch_mailbox(mailbox) if mailbox is not None else fetcher.fetch_all()
    finally:
        close()
    _report(report)
    if report.errors:
        raise typer.Exit(1)


@mail_app.command("reprocess")
def reprocess(
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="This stored mail (repeatable).")
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all", help="Every failed (or unprocessed) mail.")
    ] = False,
) -> None:
    """Process stored mails that failed again (after a fix): ``--id N`` or ``--all``."""
    if not ids and not all_failed:
        raise _fail("say which mails: --id N (repeatable) or --all", code=2)
    fetcher, close = _fetcher()
    try:
        report = fetcher.reprocess(None if all_failed else list(ids or []))
    finally:
        close()
    _report(report)
