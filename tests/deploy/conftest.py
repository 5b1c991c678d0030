"""The deployment of docs/deployment.md, whole, on loopback: nginx configured from
deploy/nginx/kefu.conf in front of two ``kefu serve`` and two ``kefu worker`` started by
deploy/kefu-start, on a PostgreSQL database of its own and Redis.

Run once, in the PostgreSQL pass (the ``deploy`` marker, tests/conftest.py): it tests the
processes and the proxy, not the database engine, and a multi-process kefu needs PostgreSQL.
nginx comes from Debian (scripts/ensure-nginx.sh); its private instance keeps its configuration,
logs and temporary files under a temporary folder.

Addresses: the test's "browser" connects to nginx from 127.0.0.3; nginx connects to kefu from
127.0.0.2 (proxy_bind), the only address in KEFU_TRUSTED_PROXIES; anything connecting to a
kefu process straight from 127.0.0.1 is an ordinary client.
"""

from __future__ import annotations

import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kefu.db.engine import make_engine
from tests.deploy.stack import (
    BROWSER,
    PROXY_PEER,
    START_SCRIPT,
    UPSTREAM_HEADER,
    configure_nginx,
    free_port,
    make_tls,
)

REDIS_URL = "redis://127.0.0.1:6379/15"  # the test suite's Redis db (tests/realtime)

START_SECONDS = 120  # four processes loading the analysis models on two shared cores


STACK_CREDENTIALS = ("KEFU_SECRET_KEY", "KEFU_DATABASE_URL", "KEFU_REDIS_URL")


@dataclass
class Stack:
    proxy: str  # https://127.0.0.1:PORT, nginx
    plain: str  # http://127.0.0.1:PORT, nginx's redirect to https
    backends: list[str]  # http://127.0.0.1:PORT of each kefu serve
    engine: Engine
    tls: ssl.SSLContext
    folder: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def browser(self) -> httpx.Client:
        """A client of the public site, connecting from BROWSER."""
        transport = httpx.HTTPTransport(verify=self.tls, local_address=BROWSER)
        return httpx.Client(base_url=self.proxy, transport=transport, timeout=30)

    def session(self) -> Session:
        return sessionmaker(self.engine, expire_on_commit=False)()

    def upstream(self, response: httpx.Response) -> str:
        """The kefu process that answered a request made through nginx (its base URL)."""
        return "http://" + response.headers[UPSTREAM_HEADER]

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")


def _database(test_url: str) -> tuple[str, Engine]:
    """A fresh database beside the test database (same server), and an AUTOCOMMIT engine on the
    server's maintenance database that creates and drops it."""
    name = f"kefu_deploy_test_{secrets.token_hex(4)}"
    url = make_url(test_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


def _start(stack: Stack, name: str, role: str, env: dict[str, str]) -> None:
    with (stack.folder / f"{name}.log").open("wb") as log:
        stack.processes[name] = subprocess.Popen(
            [str(START_SCRIPT), role], env=env, stdout=log, stderr=subprocess.STDOUT,
            cwd=stack.folder, start_new_session=True,
        )  # fmt: skip


def _wait(stack: Stack, name: str, url: str, **client: object) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        process = stack.processes[name]
        assert process.poll() is None, f"{name} exited:\n{stack.log(name)}"
        try:
            if httpx.get(url, timeout=2, **client).status_code == 200:  # type: ignore[arg-type]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{name} did not answer {url}:\n{stack.log(name)}")


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    test_url = os.environ["KEFU_TEST_DATABASE_URL"]  # the PostgreSQL pass only (the marker)
    database_url, admin = _database(test_url)
    folder = tmp_path_factory.mktemp("deploy")
    _, _, tls = make_tls(folder)
    backend_ports = [free_port(), free_port()]
    https_port, http_port = free_port(), free_port()
    stream = f"kefu:test:deploy:{secrets.token_hex(6)}"
    stack = Stack(
        proxy=f"https://127.0.0.1:{https_port}",
        plain=f"http://127.0.0.1:{http_port}",
        backends=[f"http://127.0.0.1:{port}" for port in backend_ports],
        engine=make_engine(database_url),
        tls=tls,
        folder=folder,
    )
    # The master key and the database and Redis URLs as the shipped units pass them: systemd
    # credentials, files in $CREDENTIALS_DIRECTORY (deploy/systemd), not variables.
    credentials = folder / "credentials"
    credentials.mkdir(mode=0o700)
    (credentials / "kefu-secret-key").write_text(secrets.token_urlsafe(32) + "\n")
    (credentials / "kefu-database-url").write_text(database_url)
    (credentials / "kefu-redis-url").write_text(REDIS_URL)
    env = {
        **{k: v for k, v in os.environ.items() if k not in STACK_CREDENTIALS},
        "KEFU_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(sys.path),  # this checkout's kefu and tests
        "KEFU_ENV": "production",
        "CREDENTIALS_DIRECTORY": str(credentials),
        "KEFU_EVENT_STREAM": stream,
        "KEFU_DATA_DIR": str(folder / "data"),
        "KEFU_PUBLIC_URL": stack.proxy,
        "KEFU_TRUSTED_PROXIES": PROXY_PEER,
        "KEFU_OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_WORKER_THREADS": "4",
        # The workers deliver (tests/deploy/test_stack.py counts what two of them send).
        "KEFU_OUTBOX_RELAY_IN_SERVER": "false",
        "KEFU_OUTBOX_POLL_SECONDS": "0.5",
        "KEFU_OUTBOX_RETRY_FIRST_SECONDS": "0.2",
        "KEFU_OUTBOX_RETRY_MAX_SECONDS": "0.5",
    }
    try:
        # Both servers at once on an empty database: the migration lock has them take turns.
        for n, port in enumerate(backend_ports, 1):
            _start(stack, f"serve-{n}", "serve", {**env, "KEFU_PORT": str(port)})
        for n, url in enumerate(stack.backends, 1):
            _wait(stack, f"serve-{n}", f"{url}/readyz")
        for n in (1, 2):
            _start(stack, f"worker-{n}", "worker", env)
        command = configure_nginx(folder, backend_ports, https_port, http_port)
        with (folder / "nginx.log").open("wb") as log:
            stack.processes["nginx"] = subprocess.Popen(command, stdout=log, stderr=log)
        _wait(stack, "nginx", f"{stack.proxy}/healthz", verify=tls)
        yield stack
    finally:
        _stop(stack.processes)
        stack.engine.dispose()
        with admin.connect() as connection:
            name = make_url(database_url).database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        redis.Redis.from_url(REDIS_URL).delete(stream)
