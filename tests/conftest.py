"""Infrastructure fixtures: a real database (SQLite or PostgreSQL) and a live kefu server.

Choose the database with KEFU_TEST_DATABASE_URL (default: SQLite in a temporary folder);
``make test`` runs the suite once on each.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.orm import Session

from kefu.app import create_app
from kefu.cli import SERVER_OPTIONS
from kefu.db import migrate
from kefu.db.engine import make_engine, make_session_factory
from kefu.db.models import Base, OutboxEntry
from kefu.services.infra import token_cache
from kefu.services.outbound.service import RelayService
from kefu.services.staff import auth
from kefu.settings import Settings, get_settings
from tests import factories

# Test receivers (callbacks, the fake shop) listen on loopback: the outbound URL guard allows it
# here, in the settings of every app and every service a test calls directly.
TEST_OUTBOUND_ALLOW_HOSTS = "127.0.0.1,localhost"
os.environ.setdefault("KEFU_OUTBOUND_ALLOW_HOSTS", TEST_OUTBOUND_ALLOW_HOSTS)
# ... and over plain http (they have no certificates); anywhere else outbound calls are https.
os.environ.setdefault("KEFU_OUTBOUND_HTTP_HOSTS", TEST_OUTBOUND_ALLOW_HOSTS)
# argon2 at its cheapest: every test makes staff or signs in, at ~0.2 s a hash with kefu's own
# parameters (tests/api/test_auth.py checks those of a real server's hashes).
auth.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _database_url(tmp: Path) -> str:
    return os.environ.get("KEFU_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'kefu-test.db'}"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kefu-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=_database_url(data_dir),
        login_attempts_per_minute=1000,
        log_level="WARNING",
        outbound_allow_hosts=TEST_OUTBOUND_ALLOW_HOSTS,
        outbound_http_hosts=TEST_OUTBOUND_ALLOW_HOSTS,
        sla_sweep_in_server=False,  # tests drive the sweep themselves (tests/services/sla/test_clocks.py)
        # One relay on the test database: the live server's (live_app). An app a test makes for
        # itself has its own event bus, and its relay would take the live server's web chat
        # replies to visitors who are not listening there.
        outbox_relay_in_server=False,
        # Mail tests fetch themselves (tests/mailservers/): no IDLE loop of the live server
        # takes their mail first.
        mail_idle_in_server=False,
        # The live server's outbox relay retries within a second, not minutes.
        outbox_retry_first_seconds=0.05,
        outbox_poll_seconds=0.2,  # a wake-up missed under load costs a fifth of a second
        outbox_retry_max_seconds=0.2,
        outbox_max_attempts=5,
        # Visitors of the shared server send bursts (tests/realtime/test_visitor_socket.py); the
        # limits themselves are tested on an app of their own.
        webchat_messages_per_minute=100_000,
        webchat_address_messages_per_minute=100_000,
        webchat_sessions_per_minute=100_000,
        webchat_uploads_per_minute=100_000,
        kb_searches_per_minute=100_000,  # the portal's limits: tests/api/test_kb_public.py
        kb_votes_per_minute=100_000,
        survey_answers_per_minute=100_000,  # the limit: tests/web/test_survey_pages.py
        password_resets_per_hour=100_000,  # the limits: tests/api/test_password_reset.py
    )


def _reset_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    _reset_schema(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]  # children first
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            _empty_postgres(conn, tables)
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - table names from metadata
    token_cache.clear_all()  # staff rows went without the ORM noticing


_cleanups = itertools.count(1)
FULL_TRUNCATE_EVERY = 200  # tests: DELETE leaves dead rows, and autovacuum may be off


def _empty_postgres(conn: Connection, tables: list[str]) -> None:
    """What ``TRUNCATE … RESTART IDENTITY`` does, at a fraction of its cost: TRUNCATE makes new
    files for every table and index (about 130 ms for all of kefu's, paid by every test), while
    a test fills a few tables with a few rows. So: DELETE the rows of the tables that have any,
    restart the sequences that moved, and TRUNCATE everything now and then. A new row may then
    take a freed slot of a page: a query that compares rows in order says ORDER BY."""
    if next(_cleanups) % FULL_TRUNCATE_EVERY == 0:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM {n})" for n in tables)  # noqa: S608 - table names from metadata
    filled = {name for (name,) in conn.execute(text(probe))}
    for name in tables:
        if name in filled:
            conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - table names from metadata
    moved = conn.execute(
        text(
            "SELECT sequencename FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )
    )
    for (sequence,) in moved:
        conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" in request.fixturenames:
        _truncate(request.getfixturevalue("engine"))


@pytest.fixture
def cli_env(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The ``kefu`` command run in the test (typer's CliRunner) works on the test database."""
    monkeypatch.setenv("KEFU_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("KEFU_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging data and checking rows; factories commit what they make."""
    session = make_session_factory(engine)()
    yield session
    session.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_app(settings: Settings, engine: Engine) -> FastAPI:
    """The app the test server runs (its event bus: ``live_app.state.bus``); the one app of the
    test session whose outbox relay runs."""
    return create_app(settings.model_copy(update={"outbox_relay_in_server": True}), engine=engine)


@pytest.fixture
def quiet_relays(live_app: FastAPI) -> Iterator[None]:
    """Every outbox relay of this process paused (the live server's, and any other test app's
    still stopping): the test's own relays are the only ones sending (tests/services/outbound/)."""
    paused = RelayService.running_here()
    for relay in paused:
        relay.stop()
    yield
    for relay in paused:
        relay.start()


@pytest.fixture
def held_outbox(quiet_relays: None, engine: Engine) -> Iterator[None]:
    """The outbox relays paused while the test runs; what it left queued is taken out of their
    way before they resume: a relay sending it while the next test sets up would race with
    that test's first writes on SQLite."""
    yield
    with engine.begin() as connection:
        connection.execute(
            update(OutboxEntry)
            .where(OutboxEntry.state.in_(("queued", "failed")))
            .values(state="dead")
        )


@pytest.fixture(autouse=True)
def settled_outbox(request: pytest.FixtureRequest, settings: Settings) -> Iterator[None]:
    """On SQLite, after every test while the live server's relay runs (once any test started
    the server, for the rest of the session): the relays stopped after their round, what the
    test left queued taken out of their way, and the relays started again — a relay sending a
    test's leftovers while the next test reads then writes fails that test's write at once
    (SQLITE_BUSY_SNAPSHOT: a read transaction cannot write after another commit). A test need
    not use the server for its rows to be sent by it: the services tests queue replies too."""
    yield
    paused = RelayService.running_here()
    if not settings.is_sqlite or not paused or "engine" not in request.fixturenames:
        return
    engine = request.getfixturevalue("engine")
    for relay in paused:
        relay.stop()
    try:
        with engine.begin() as connection:
            connection.execute(
                update(OutboxEntry)
                .where(OutboxEntry.state.in_(("queued", "failed")))
                .values(state="dead")
            )
    finally:
        for relay in paused:
            relay.start()


@pytest.fixture(scope="session")
def server(live_app: FastAPI) -> Iterator[str]:
    """kefu served by uvicorn on loopback, for the whole session; yields its base URL."""
    yield from serve(live_app)


def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on loopback until the generator is closed; yields its base URL (for a test
    that needs an app with settings of its own: ``with contextmanager(serve)(app) as url``)."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **SERVER_OPTIONS)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        if time.monotonic() > deadline:
            raise RuntimeError("kefu test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(
        timeout=30
    )  # open sockets are closed after SERVER_OPTIONS' grace, then the lifespan ends
    if thread.is_alive():
        raise RuntimeError("kefu test server did not stop: its relay would outlive the test")


@pytest.fixture
def anon(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


ClientFactory = Callable[..., httpx.Client]


@pytest.fixture
def client_for(server: str, db: Session) -> Iterator[ClientFactory]:
    """``client_for(user)``: an HTTP client authenticated with a fresh API token of ``user``."""
    opened: list[httpx.Client] = []

    def make(user: object, **headers: str) -> httpx.Client:
        token = factories.make_token(db, user)
        client = httpx.Client(
            base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}", **headers}
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def admin(db: Session) -> object:
    return factories.make_user(db, role="admin", email="admin@example.cn", name="管理员")


@pytest.fixture
def api(client_for: ClientFactory, admin: object) -> httpx.Client:
    """An admin's client: sees and configures everything."""
    return client_for(admin)


@pytest.fixture
def integration(server: str, db: Session) -> Iterator[httpx.Client]:
    """An integration's client (「测试集成」, every channel): the one kind of caller that
    delivers customer messages to /api/v1/inbound."""
    token = factories.make_integration(db, name="测试集成")
    with httpx.Client(
        base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


from tests.nlp_fixtures import tiny_accurate_model, tiny_data, tiny_model  # noqa: F401,E402 - fixtures for the analysis tests


@pytest.fixture
def demo_kb(db: Session) -> None:
    """The demo's 60 help articles, published (the bot and the portal answer from them)."""
    factories.make_demo_kb(db)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mail_servers: starts private mail servers (tests/mailservers); runs in the SQLite pass "
        "only (the fault tests start a Dovecot of their own in the PostgreSQL pass)",
    )
    config.addinivalue_line(
        "markers",
        "deploy: the whole deployment (tests/deploy: nginx, kefu-start, several processes); "
        "runs in the PostgreSQL pass only",
    )
    config.addinivalue_line(
        "markers",
        "sqlite_only: about SQLite itself, or about what only SQLite serves (the embedded demo of "
        "`make demo`); the SQLite pass only",
    )
    config.addinivalue_line(
        "markers", "postgresql_only: about PostgreSQL itself; the PostgreSQL pass only"
    )
    config.addinivalue_line(
        "markers",
        "faults: stops and kills private servers and kefu processes (tests/faults); runs in the "
        "PostgreSQL pass only, or when a run collects nothing else",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests with real mail servers run once: they test the mail protocols, not the database
    engine, so with a PostgreSQL KEFU_TEST_DATABASE_URL they are deselected (never skipped); the
    deployment test runs once the other way round (several processes need PostgreSQL); a test
    about one database engine itself runs in that engine's pass only. The fault tests
    (tests/faults) bring their own PostgreSQL: they run once, in the PostgreSQL pass, or in a run
    of nothing but them (``pytest tests/faults``) whatever the database."""
    url = os.environ.get("KEFU_TEST_DATABASE_URL", "")
    on_sqlite = not url or url.startswith("sqlite")
    other = ("postgresql_only", "deploy") if on_sqlite else ("mail_servers", "sqlite_only")
    if on_sqlite and not all(i.get_closest_marker("faults") for i in items):
        other = (*other, "faults")
    elsewhere = [i for i in items if any(i.get_closest_marker(m) for m in other)]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]
