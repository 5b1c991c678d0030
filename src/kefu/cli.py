"""The ``kefu`` command: serve, worker, demo, db, user, token, integration and outbox management,
analysis (cli_nlp), backup and restore (cli_backup)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from threading import Event
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.engine import make_url

from kefu import (
    __version__,
    cli_backup,
    cli_customer,
    cli_kb,
    cli_kpi,
    cli_mail,
    cli_nlp,
    cli_norms,
    cli_report,
    cli_retention,
    cli_secrets,
)
from kefu.db import migrate
from kefu.db.engine import make_engine
from kefu.db.models import User
from kefu.db.session import session_scope
from kefu.domain.delivery import DeliveryState
from kefu.domain.roles import Role
from kefu.domain.tickets import Channel
from kefu.services.actors import Actor
from kefu.services.intake import integrations
from kefu.services.staff import auth
from kefu.services.staff import directory as staff
from kefu.settings import get_settings

app = typer.Typer(
    help="kefu 客服 — self-hosted customer service.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback never prints a key or a password
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
integration_app = typer.Typer(
    help="Integrations: the systems that deliver customer messages.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
outbox_app = typer.Typer(
    help="The outbox: messages on their way to customers, and the dead letters.",
    no_args_is_help=True,
)
app.add_typer(integration_app, name="integration")
app.add_typer(outbox_app, name="outbox")
search_app = typer.Typer(help="The full-text search index.", no_args_is_help=True)
scripts_app = typer.Typer(help="The reply-script library (话术库).", no_args_is_help=True)
app.add_typer(scripts_app, name="scripts")
case_library_app = typer.Typer(help="The case library (解决方案库).", no_args_is_help=True)
app.add_typer(case_library_app, name="case-library")
app.add_typer(search_app, name="search")
app.add_typer(cli_kb.kb_app, name="kb")
app.add_typer(cli_mail.mail_app, name="mail")
app.add_typer(cli_secrets.secrets_app, name="secrets")
app.add_typer(cli_kpi.kpi_app, name="kpi")
app.add_typer(cli_customer.customer_app, name="customer")
app.add_typer(cli_retention.retention_app, name="retention")
app.add_typer(cli_nlp.eval_app, name="eval")
app.command("analyze")(cli_nlp.analyze)
app.command("train")(cli_nlp.train)
app.command("check-reply")(cli_norms.check_reply)
app.command("report")(cli_report.report)
app.command("backup")(cli_backup.backup)
app.command("restore")(cli_backup.restore)

CLI_ACTOR = Actor(user_id=None, role=Role.ADMIN, via="cli", name="cli")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kefu {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """kefu 客服."""


def _upgrade(revision: str = "head") -> None:
    """The schema to ``revision`` (and the starter scripts at head), under the migration lock:
    processes started together upgrade one at a time (db/migrate.py)."""
    settings = get_settings()
    url = settings.resolved_migrate_database_url
    with migrate.migration_lock(url):
        migrate.upgrade(url, revision)
        runtime = make_url(settings.resolved_database_url).username
        if url != settings.resolved_database_url and runtime:
            _grant(url, runtime)  # the owner migrated: the runtime role's grants follow
        if revision == "head":
            _ensure_starter_library()


def _grant(owner_url: str, role: str) -> None:
    from kefu.db.grants import grant_runtime

    engine = make_engine(owner_url)
    try:
        with engine.begin() as connection:
            grant_runtime(connection, role)
    finally:
        engine.dispose()


def _ensure_starter_library() -> None:
    """A fresh install gets kefu's starter scripts; a team's edits are never overwritten."""
    from kefu.services.scripts.starter import ensure_starter_library

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            ensure_starter_library(session)
    finally:
        engine.dispose()


# How uvicorn serves kefu (``kefu serve``, ``kefu demo`` and the tests' live servers). kefu reads
# X-Forwarded-For itself, only from KEFU_TRUSTED_PROXIES (api/client_address.py); uvicorn's own
# proxy-header handling would believe it from any loopback peer and hide the real peer from us.
# A stop closes what is still open after a few seconds (a widget's or an agent's WebSocket
# never ends by itself): without the limit, uvicorn waits for them forever and the app's own
# shutdown (the outbox relay, the event log) never runs.
SERVER_OPTIONS: dict[str, Any] = {
    "access_log": False,
    # uvicorn's own lines go through kefu's one handler (logs.py), in KEFU_LOG_FORMAT, not a
    # handler and a format of uvicorn's (docs/logging.md).
    "log_config": None,
    "proxy_headers": False,
    "timeout_graceful_shutdown": 3,
}


def _serve(
    host: str,
    port: int,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    client_ca: Path | None = None,
) -> None:
    import ssl

    import uvicorn

    settings = get_settings()
    tls: dict[str, Any] = {}
    if certfile is not None and keyfile is not None:
        tls = {"ssl_certfile": str(certfile), "ssl_keyfile": str(keyfile)}
        if client_ca is not None:  # the proxy must show a certificate of this CA
            tls |= {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    uvicorn.run(
        "kefu.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        **tls,
        **SERVER_OPTIONS,
    )


def _check_backends() -> None:
    """Refuse to start when the database or Redis refuses this process's TLS or credentials."""
    from kefu.services.infra.backends import BackendRefused, check_backends

    try:
        check_backends(get_settings())
    except BackendRefused as e:
        typer.echo(f"kefu: {e}", err=True)
        raise typer.Exit(78) from e


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Upgrade the schema first.")
    ] = True,
    ssl_certfile: Annotated[
        Path | None,
        typer.Option(help="Serve https with this certificate (PEM); default KEFU_SSL_CERTFILE."),
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="The certificate's key (PEM); default KEFU_SSL_KEYFILE.")
    ] = None,
    ssl_client_ca: Annotated[
        Path | None,
        typer.Option(
            help="Serve only clients with a certificate of this CA; default KEFU_SSL_CLIENT_CA."
        ),
    ] = None,
) -> None:
    """Run the kefu server."""
    settings = get_settings()
    certfile = ssl_certfile or settings.ssl_certfile
    keyfile = ssl_keyfile or settings.ssl_keyfile
    client_ca = ssl_client_ca or settings.ssl_client_ca
    if (certfile is None) != (keyfile is None):
        raise typer.BadParameter("--ssl-certfile and --ssl-keyfile go together")
    if client_ca is not None and certfile is None:
        raise typer.BadParameter("--ssl-client-ca needs --ssl-certfile")
    _check_backends()
    if migrate_first:
        _upgrade()
    _serve(host, port, certfile=certfile, keyfile=keyfile, client_ca=client_ca)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="One round of each job, then exit.")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between rounds of every job (default: each job's own)."),
    ] = None,
    job: Annotated[
        list[str] | None, typer.Option("--job", help="Run only this job (repeatable).")
    ] = None,
    relay: Annotated[
        bool,
        typer.Option(
            "--relay/--no-relay", help="Deliver outbound messages as they are queued (the relay)."
        ),
    ] = True,
) -> None:
    """Run the periodic jobs (jobs/registry.py: the SLA sweep, the outbox sweep, …) and the
    outbox relay. Safe to run several at once on PostgreSQL."""
    import dataclasses
    import threading
    from functools import partial

    from kefu.channels.adapters import close_adapters, process_adapters
    from kefu.db.base import utcnow
    from kefu.db.engine import make_session_factory, writer_bind
    from kefu.jobs import runner
    from kefu.jobs.registry import JobContext, periodic_jobs
    from kefu.logs import configure_logging
    from kefu.nlp.analysis import analyzer
    from kefu.realtime.bus import make_bus
    from kefu.services.events import unit_of_work as events
    from kefu.services.outbound import wake
    from kefu.services.outbound.service import RelayService

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    jobs = [j for j in periodic_jobs(settings) if not job or j.name in job]
    unknown = set(job or ()) - {j.name for j in jobs}
    if unknown:
        names = ", ".join(j.name for j in periodic_jobs(settings))
        raise typer.BadParameter(f"unknown job {', '.join(sorted(unknown))} (jobs: {names})")
    if interval is not None:
        jobs = [dataclasses.replace(j, every=interval) for j in jobs]
    _check_backends()
    engine = make_engine(settings.resolved_database_url)
    stop = threading.Event()
    stop_on_signals(stop)
    if not once:
        plan = ", ".join(f"{j.name} every {j.every:g} s" for j in jobs)
        typer.echo(f"kefu worker: {plan} (Ctrl+C to stop)")
    analysis = partial(
        analyzer, settings.analysis_model, accurate=settings.nlp_accurate
    )  # loaded only when a message waits
    # What the jobs commit is told like the server's changes: on Redis, to every server's sockets.
    bus = make_bus(settings)
    info = {events.BUS: bus, wake.DOORBELL: wake.Doorbell(settings.redis_url)}
    writers = make_session_factory(writer_bind(engine), info=info)
    readers = make_session_factory(engine, info=info)
    adapters = process_adapters(settings, readers, bus.publish)
    context = JobContext(writers, utcnow, settings, analysis, adapters)
    relay_service = RelayService.from_settings(writers, adapters, settings, read_sessions=readers)
    if relay and not once:
        relay_service.start()
    mail_idle = None
    if not once and (not job or "mail" in job):
        from kefu.services.mail.fetch import IdleLoops

        mail_idle = IdleLoops(writers, settings)  # mail taken in as the IMAP server announces it
        mail_idle.start()
    try:
        done = runner.run_worker(jobs, context, stop, once=once)
    finally:
        if mail_idle is not None:
            mail_idle.stop()
        relay_service.stop()
        close_adapters(adapters)
        bus.close()
        engine.dispose()
    if once:
        for name, counts in done.items():
            typer.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server afterwards.")
    ] = True,
    tickets: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Also write this many synthetic tickets (with customers and messages) over the "
            "last six months, in bulk: a database for benchmarks.",
        ),
    ] = None,
    messages_per_ticket: Annotated[
        float, typer.Option(min=1, help="With --tickets: messages per ticket on average.")
    ] = 10,
    seed: Annotated[
        int, typer.Option(help="With --tickets: the seed; the same seed gives the same history.")
    ] = 2026,
) -> None:
    """Create the database with demo data (once), print the demo logins, and serve."""
    from kefu.demo.loader import DEMO_PASSWORD, DEMO_USERS, load_demo
    from kefu.demo.orders import ensure_demo_shop_integration
    from kefu.demo.webchat import ensure_demo_channel
    from kefu.services.actors import SYSTEM

    _upgrade()
    engine = make_engine(get_settings().resolved_database_url)
    # The demo shop's order lookup is served by this very server, on loopback and over plain
    # http: allow both for that host.
    shop_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    for variable in ("KEFU_OUTBOUND_ALLOW_HOSTS", "KEFU_OUTBOUND_HTTP_HOSTS"):
        allowed = os.environ.get(variable, "")
        if shop_host not in [h.strip() for h in allowed.split(",")]:
            os.environ[variable] = ",".join(h for h in (allowed, shop_host) if h)
    get_settings.cache_clear()
    with session_scope(engine) as session:
        created = load_demo(session)
        # The shop is served by kefu: its own origin is allowed.
        ensure_demo_channel(session, secret_key=get_settings().secret_key)
        ensure_demo_shop_integration(
            session, SYSTEM, base_url=f"http://{shop_host}:{port}",
            secret_key=get_settings().secret_key,
        )  # fmt: skip
    if created:  # the demo's resolved cases answered their surveys: the dashboard has CSAT
        from kefu.demo.synthetic.surveys import add_feedback

        add_feedback(engine, seed=seed, redo_unsent=True)
    typer.echo("示例数据已创建。" if created else "示例数据已存在，未重复创建。")
    if tickets:
        from kefu.demo.synthetic import generate

        typer.echo(f"Writing {tickets:,} synthetic tickets (seed {seed})…")
        report = generate(
            engine,
            tickets=tickets,
            messages_per_ticket=messages_per_ticket,
            seed=seed,
            progress=typer.echo,
        )
        typer.echo(f"合成数据已写入：{report.summary()}")
        _feedback_and_rollup(engine, seed)
        typer.echo("Indexing them for search…")
        _reindex(engine)
    engine.dispose()
    typer.echo(f"Workspace (客服工作台): http://{host}:{port}/  — sign in with a demo login below")
    typer.echo(f"API docs: http://{host}:{port}/docs")
    typer.echo(f"Demo shop with the web chat widget (示例商城): http://{host}:{port}/demo/shop")
    typer.echo(
        f"Help centre (帮助中心, the knowledge base's public pages): http://{host}:{port}/help"
    )
    typer.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, name, role, groups in DEMO_USERS:
        typer.echo(f"  {role:<10} {email:<28} {name}  {'、'.join(groups)}")
    if serve_after:
        _serve(host, port)


def _feedback_and_rollup(engine: Any, seed: int) -> None:
    """The generated history's SLA records, surveys, follow-ups and auto-closes, then the KPI
    rollup."""
    from kefu.db.engine import make_session_factory, writer_bind
    from kefu.demo.synthetic.sla_history import write_sla_events
    from kefu.demo.synthetic.surveys import add_feedback
    from kefu.services.analytics.rollup import rebuild

    typer.echo("The SLA sweep's records…")
    typer.echo(f"  {write_sla_events(engine, progress=lambda _line: None):,} records")
    typer.echo("Surveys, follow-ups and auto-closes…")
    typer.echo(f"  {add_feedback(engine, seed=seed).summary()}")
    typer.echo("Rolling up the KPI figures…")
    typer.echo(f"  {rebuild(make_session_factory(writer_bind(engine))).summary()}")


@app.command("demo-feedback")
def demo_feedback(
    seed: Annotated[int, typer.Option(help="The seed (the same as the history's).")] = 2026,
) -> None:
    """On a database with synthetic history (``kefu demo --tickets``): the SLA sweep's records of
    cases without any, the surveys and follow-ups of its resolved cases and the auto-close of old
    resolved ones, in bulk; then run ``kefu kpi rebuild``."""
    from kefu.demo.synthetic.sla_history import write_sla_events
    from kefu.demo.synthetic.surveys import add_feedback

    engine = make_engine(get_settings().resolved_database_url)
    try:
        typer.echo(f"SLA records: {write_sla_events(engine, progress=typer.echo):,}")
        typer.echo(add_feedback(engine, seed=seed).summary())
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Upgrade the database schema (one process at a time: a migration lock is held)."""
    _upgrade(revision)
    typer.echo(f"database at {revision}")


@db_app.command("grant")
def db_grant(
    role: Annotated[str, typer.Argument(help="The runtime role (KEFU_DATABASE_URL's user).")],
) -> None:
    """Grant a PostgreSQL role kefu's runtime privileges and no more (db/grants.py), as the
    schema's owner (KEFU_MIGRATE_DATABASE_URL); `kefu db upgrade` does it after each upgrade."""
    _grant(get_settings().resolved_migrate_database_url, role)
    typer.echo(f"{role}: runtime privileges granted")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
) -> None:
    """Downgrade the database schema."""
    migrate.downgrade(get_settings().resolved_migrate_database_url, revision)
    typer.echo(f"database at {revision}")


def _reindex(engine: Any, batch: int = 2_000) -> dict[str, int]:
    """Index every ticket, message and customer again, in committed batches, with progress."""
    from kefu.db.engine import writer_bind
    from kefu.services.search.index import rebuild

    shown: dict[str, int] = {}

    def progress(kind: str, done: int) -> None:
        if done - shown.get(kind, 0) >= 50_000:
            shown[kind] = done
            typer.echo(f"  {kind}: {done:,}")

    with writer_bind(engine).connect() as conn:
        return rebuild(conn, batch=batch, commit=True, progress=progress)


@search_app.command("reindex")
def search_reindex(
    batch: Annotated[int, typer.Option(min=1, help="Rows indexed per transaction.")] = 2_000,
) -> None:
    """Index every ticket, message and customer again (after an upgrade of the tokenizer, or
    for a big database migrated without it); searches keep working meanwhile."""
    engine = make_engine(get_settings().resolved_database_url)
    try:
        counts = _reindex(engine, batch)
    finally:
        engine.dispose()
    typer.echo("indexed " + ", ".join(f"{n:,} {kind}s" for kind, n in counts.items()))


@case_library_app.command("rebuild")
def case_library_rebuild(
    batch: Annotated[int, typer.Option(min=1, help="Cases written per transaction.")] = 200,
) -> None:
    """Write the library entry of every archived complaint again (cases archived before the
    library existed, imported or synthetic history); an existing entry is rewritten, not doubled."""
    from kefu.services.actors import SYSTEM
    from kefu.services.case_library.entries import rebuild_batch

    engine = make_engine(get_settings().resolved_database_url)
    done, last, written = 0, 0, batch
    try:
        while written == batch:
            with session_scope(engine) as session:
                written, last = rebuild_batch(session, actor=SYSTEM, after_id=last, batch=batch)
            done += written
    finally:
        engine.dispose()
    typer.echo(f"case library: {done:,} archived complaints written")


@scripts_app.command("import")
def scripts_import(
    path: Annotated[
        Path, typer.Argument(help="A library file (YAML).", exists=True, dir_okay=False)
    ],
) -> None:
    """Import a script library; a file with any error imports nothing and lists the lines."""
    from kefu.errors import KefuError
    from kefu.services.actors import SYSTEM
    from kefu.services.scripts import yaml_io

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            report = yaml_io.do_import(session, SYSTEM, path.read_text(encoding="utf-8"))
    except KefuError as e:
        for error in (e.details or {}).get("errors", []):
            typer.echo(f"{path}:{error['line']}: {error['path']}: {error['message']}", err=True)
        raise typer.Exit(1) from e
    finally:
        engine.dispose()
    typer.echo(
        f"scenarios created {report.scenarios_created}, scripts created {report.created}, "
        f"updated {report.updated}, unchanged {report.unchanged}"
    )


@scripts_app.command("export")
def scripts_export() -> None:
    """Print the whole script library as YAML."""
    from kefu.services.scripts import yaml_io

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            typer.echo(yaml_io.export(session), nl=False)
    finally:
        engine.dispose()


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="Login email.")],
    role: Annotated[
        Role, typer.Option(help="agent, specialist, supervisor or admin.")
    ] = Role.AGENT,
    password: Annotated[
        str | None, typer.Option(help="Password; generated and printed if omitted.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a staff account."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    if len(password) < 8:
        typer.echo("password must have at least 8 characters", err=True)
        raise typer.Exit(2)
    engine = make_engine(get_settings().resolved_database_url)
    from kefu.errors import KefuError

    try:
        with session_scope(engine) as session:
            user = staff.do_create_user(
                session,
                CLI_ACTOR,
                email=email,
                name=name or email.split("@")[0],
                role=role,
                password=password,
                temporary_password=generated,
            )
            typer.echo(f"created {user.role} {user.email} (id {user.id})")
    except KefuError as e:
        typer.echo(e.message("en"), err=True)
        raise typer.Exit(1) from e
    finally:
        engine.dispose()
    if generated:
        days = get_settings().temporary_password_days
        typer.echo(f"password: {password}")
        typer.echo(f"(to be changed at the first sign-in; it signs in for {days} days)", err=True)


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="Whose token.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token and print only the token (for scripts)."""
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None or not user.is_active:
                typer.echo(f"no active user {email}", err=True)
                raise typer.Exit(1)
            secret, _ = auth.do_create_token(session, CLI_ACTOR, user, name=name)
    finally:
        engine.dispose()
    sys.stdout.write(secret + "\n")


@integration_app.command("create")
def integration_create(
    name: Annotated[str, typer.Argument(help="Its name, e.g. 邮件网关.")],
    channel: Annotated[
        list[Channel], typer.Option(help="A channel it may deliver; repeat for several.")
    ],
) -> None:
    """Create an integration and print only its token (for POST /api/v1/inbound)."""
    from kefu.errors import KefuError

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            secret, _, _ = integrations.do_create_integration(
                session, CLI_ACTOR, name=name.strip(), channels=[c.value for c in channel],
                secret_key=get_settings().secret_key,
            )  # fmt: skip
    except KefuError as e:
        typer.echo(e.message("en"), err=True)
        raise typer.Exit(1) from e
    finally:
        engine.dispose()
    sys.stdout.write(secret + "\n")


@outbox_app.command("list")
def outbox_list(
    state: Annotated[
        DeliveryState | None, typer.Option(help="Only this state, e.g. dead for the dead letters.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
) -> None:
    """Outbound messages, newest first: id, state, channel, ticket, attempts, last error."""
    from kefu.services.outbound import entries

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with session_scope(engine) as session:
            rows, _ = entries.list_entries(session, CLI_ACTOR, state=state, limit=limit)
            for row in rows:
                error = (row.last_error or "").replace("\n", " ")[:80]
                typer.echo(
                    f"{row.id}\t{row.state}\t{row.channel}\tticket {row.ticket_id}\t"
                    f"message {row.message_id}\tattempts {row.attempts}\t{error}"
                )
    finally:
        engine.dispose()


@outbox_app.command("retry")
def outbox_retry(
    outbox_id: Annotated[int, typer.Argument(help="The outbox id (kefu outbox list).")],
) -> None:
    """Send a dead or failed message again now (a dead one starts its attempts over)."""
    from kefu.errors import KefuError
    from kefu.services.outbound import replay, wake

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            entry = replay.do_replay(session, CLI_ACTOR, outbox_id)
            state = entry.state
    except KefuError as e:
        typer.echo(e.message("en"), err=True)
        raise typer.Exit(1) from e
    finally:
        engine.dispose()
    wake.Doorbell(settings.redis_url).ring()  # relays of other processes, through Redis
    typer.echo(f"outbox {outbox_id}: {state}")


if __name__ == "__main__":  # pragma: no cover
    app()


def stop_on_signals(stop: Event) -> None:
    """SIGINT and SIGTERM set ``stop``, from a thread of their own: a handler runs in the main
    thread, which may be holding the event's lock inside ``stop.wait`` at that very moment, and
    setting the event there would wait for that lock forever (a worker that never stops)."""
    import signal
    import threading

    def handle(*_: object) -> None:
        threading.Thread(target=stop.set, name="kefu-stop", daemon=True).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)
