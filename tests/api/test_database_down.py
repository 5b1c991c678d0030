"""While the database cannot be reached every request answers 503 with Retry-After, and all
works again once it is back (#16: it used to be 500 internal_error and dropped connections).

The outage is real, without stopping the machine's database server: on PostgreSQL kefu talks
to it through a TCP proxy the test closes (listener and every open connection) and opens
again; on SQLite the database file is replaced by a directory, which SQLite cannot open.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine

from kefu import __version__
from kefu.app import create_app
from kefu.db import migrate
from kefu.db.engine import make_engine, make_session_factory
from kefu.settings import Settings
from tests import factories
from tests.api.test_inbound import _payload
from tests.checks import api_error


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``close`` drops the listener and every
    connection through it (the database "goes away"), ``open`` listens on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class Outage:
    """A database kefu can lose and get back: ``url`` for kefu, ``cut()`` and ``restore()``."""

    url: str
    direct: Engine  # the same database, not through the outage: to arrange data

    def cut(self) -> None:
        raise NotImplementedError

    def restore(self) -> None:
        raise NotImplementedError


class PostgresOutage(Outage):
    def __init__(self, engine: Engine) -> None:
        real = engine.url
        self.proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
        self.proxy.open()
        self.url = real.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False
        )
        self.direct = engine

    def cut(self) -> None:
        self.proxy.close()

    def restore(self) -> None:
        self.proxy.open()


class SqliteOutage(Outage):
    def __init__(self, folder: Path) -> None:
        self.path = folder / "kefu.db"
        self.url = f"sqlite:///{self.path}"
        migrate.upgrade(self.url)
        self.direct = make_engine(self.url)
        self.app_engine: Engine | None = None

    def cut(self) -> None:
        # A fresh process (or pool) must open the file: connections already open would keep
        # reading the moved file, as SQLite allows.
        assert self.app_engine is not None
        self.app_engine.dispose()
        self.direct.dispose()
        for suffix in ("", "-wal", "-shm"):
            moved = Path(f"{self.path}{suffix}")
            if moved.exists():
                moved.rename(f"{moved}.away")
        self.path.mkdir()  # "unable to open database file"

    def restore(self) -> None:
        shutil.rmtree(self.path)
        for suffix in ("", "-wal", "-shm"):
            away = Path(f"{self.path}{suffix}.away")
            if away.exists():
                away.rename(f"{self.path}{suffix}")


@pytest.fixture
def outage(engine: Engine, tmp_path: Path) -> Iterator[Outage]:
    if engine.dialect.name == "postgresql":
        found: Outage = PostgresOutage(engine)
        yield found
        found.proxy.close()
    else:
        found = SqliteOutage(tmp_path)
        yield found
        found.direct.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serve(settings: Settings, outage: Outage) -> Iterator[str]:
    """A kefu server of its own, on the outage's database URL."""
    app_engine = make_engine(outage.url)
    if isinstance(outage, SqliteOutage):
        outage.app_engine = app_engine
    app = create_app(settings.model_copy(update={"database_url": outage.url}), engine=app_engine)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=_free_port(),
        log_level="critical",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        assert time.monotonic() < deadline, "kefu test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=30)
        app_engine.dispose()


def _client(server: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=server, timeout=15, headers={"Authorization": f"Bearer {token}"})


def test_while_the_database_is_unreachable_requests_answer_503_and_work_again_after(
    settings, outage
):
    direct = make_session_factory(outage.direct)()
    admin = factories.make_user(direct, role="admin")
    ticket = factories.make_ticket(direct)
    tokens = [factories.make_token(direct, admin) for _ in range(2)]
    feed_token = factories.make_integration(direct)  # customer messages come from an integration
    ticket_id = ticket.id
    direct.close()

    with (
        _serve(settings, outage) as server,
        _client(server, tokens[0]) as api,
        _client(server, feed_token) as feed,
    ):
        assert api.get("/healthz").json()["database"] == "ok"
        assert api.get("/api/v1/tickets").status_code == 200  # this token is now cached

        outage.cut()
        down = [
            api.get("/api/v1/tickets"),
            api.patch(f"/api/v1/tickets/{ticket_id}", json={"subject": "数据库断开时"}),
            feed.post("/api/v1/inbound", json=_payload("while-down")),
        ]
        with _client(server, tokens[1]) as uncached:  # the token lookup itself needs the database
            down.append(uncached.get("/api/v1/tickets"))
        for response in down:
            api_error(response, 503, "database_unavailable")
            assert response.headers["Retry-After"] == "5"
        health = api.get("/healthz")
        assert health.status_code == 503 and health.headers["Retry-After"] == "5"
        assert health.json() == {"status": "degraded", "version": __version__, "database": "down"}

        outage.restore()
        assert api.get("/healthz").json() == {
            "status": "ok",
            "version": __version__,
            "database": "ok",
        }
        edit = api.patch(f"/api/v1/tickets/{ticket_id}", json={"subject": "数据库恢复后"})
        assert edit.status_code == 200, edit.text
        assert feed.post("/api/v1/inbound", json=_payload("after-down")).status_code == 201
        with _client(server, tokens[1]) as uncached:
            assert uncached.get(f"/api/v1/tickets/{ticket_id}").json()["subject"] == "数据库恢复后"


def test_the_database_error_classifier_tells_unreachable_from_other_errors(engine, tmp_path):
    """Only errors that mean "cannot reach the database" become 503; a real fault stays 500."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from kefu.db.errors import database_unreachable, lock_not_granted

    with engine.connect() as connection:
        with pytest.raises(SQLAlchemyError) as fault:
            connection.execute(text("SELECT * FROM no_such_table"))
    assert not database_unreachable(fault.value) and not lock_not_granted(fault.value)

    url = engine.url
    if url.get_backend_name() == "postgresql":
        closed = url.set(host="127.0.0.1", port=_free_port())  # nothing listens there
    else:
        closed = url.set(database=str(tmp_path))  # a directory, not a database file
    unreachable = make_engine(closed.render_as_string(hide_password=False))
    with pytest.raises(SQLAlchemyError) as refused:
        unreachable.connect()
    unreachable.dispose()
    assert database_unreachable(refused.value) and not lock_not_granted(refused.value)
