"""The mail commands of ``kefu``: ``mail parse FILE`` shows what the fetcher makes of a raw
message (the same ``parse_mail`` + ``mail_json``), so any mail can be checked by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kefu.channels.email.parse import MailUnparseable, mail_json, parse_mail
from kefu.cli_nlp import _fail

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
