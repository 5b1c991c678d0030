"""The deployment of docs/deployment.md, whole, on loopback, with TLS on every link: nginx
configured from deploy/nginx/kefu.conf in front of two ``kefu serve`` (https, certificates of a
CA made by the test, verified by nginx) and two ``kefu worker`` started by deploy/kefu-start, on a
PostgreSQL of its own that takes TLS only (verify-full, the runtime role of
deploy/postgres/roles.sql, migrated by the owner role) and a Redis of its own on a TLS port with
the ACL of deploy/redis/users.acl (tests/deploy/backends.py).

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
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kefu.db.engine import make_engine
from tests.deploy.backends import TlsPostgres, TlsRedis, start_postgres, start_redis
from tests.deploy.stack import (
    BROWSER,
    PROXY_PEER,
    START_SCRIPT,
    UPSTREAM_HEADER,
    configure_nginx,
    free_port,
    internal_tls,
    kefu_tls,
    make_tls,
)

START_SECONDS = 120  # four processes loading the analysis models on two shared cores


STACK_CREDENTIALS = (
    "KEFU_SECRET_KEY",
    "KEFU_DATABASE_URL",
    "KEFU_MIGRATE_DATABASE_URL",
    "KEFU_REDIS_URL",
)


@dataclass
class Stack:
    proxy: str  # https://127.0.0.1:PORT, nginx
    plain: str  # http://127.0.0.1:PORT, nginx's redirect to https
    backends: list[str]  # https://127.0.0.1:PORT of each kefu serve
    engine: Engine  # the superuser's, over the cluster's socket: arranging and counting
    tls: ssl.SSLContext  # trusts the test's CA
    internal: ssl.SSLContext  # the same, with a client certificate: for kefu's own ports
    folder: Path
    postgres: TlsPostgres
    redis: TlsRedis
    env: dict[str, str] = field(default_factory=dict)  # what the kefu processes were given
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def credential(self, name: str) -> str:
        """A secret the kefu processes were given as a systemd credential (``kefu-database-url``)."""
        return (Path(self.env["CREDENTIALS_DIRECTORY"]) / name).read_text(encoding="utf-8").strip()

    def browser(self) -> httpx.Client:
        """A client of the public site, connecting from BROWSER."""
        transport = httpx.HTTPTransport(verify=self.tls, local_address=BROWSER)
        return httpx.Client(base_url=self.proxy, transport=transport, timeout=30)

    def session(self) -> Session:
        return sessionmaker(self.engine, expire_on_commit=False)()

    def upstream(self, response: httpx.Response) -> str:
        """The kefu process that answered a request made through nginx (its base URL)."""
        return "https://" + response.headers[UPSTREAM_HEADER]

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")


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
    folder = tmp_path_factory.mktemp("deploy")
    _, _, tls = make_tls(folder)
    postgres = start_postgres(folder)
    redis_server = start_redis(folder)
    backend_ports = [free_port(), free_port()]
    https_port, http_port = free_port(), free_port()
    stack = Stack(
        proxy=f"https://127.0.0.1:{https_port}",
        plain=f"http://127.0.0.1:{http_port}",
        backends=[f"https://127.0.0.1:{port}" for port in backend_ports],
        engine=make_engine(postgres.superuser_url),
        tls=tls,
        internal=internal_tls(folder),
        folder=folder,
        postgres=postgres,
        redis=redis_server,
    )
    # The master key and the database and Redis URLs as the shipped units pass them: systemd
    # credentials, files in $CREDENTIALS_DIRECTORY (deploy/systemd), not variables. The runtime
    # role for everything; the owner only for the schema (docs/deployment.md).
    credentials = folder / "credentials"
    credentials.mkdir(mode=0o700)
    (credentials / "kefu-secret-key").write_text(secrets.token_urlsafe(32) + "\n")
    (credentials / "kefu-database-url").write_text(postgres.url("kefu_app"))
    (credentials / "kefu-migrate-database-url").write_text(postgres.url("kefu_owner"))
    (credentials / "kefu-redis-url").write_text(redis_server.url(ca=folder / "ca.pem"))
    stack.env = env = {
        **{k: v for k, v in os.environ.items() if k not in STACK_CREDENTIALS},
        "KEFU_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(sys.path),  # this checkout's kefu and tests
        "KEFU_ENV": "production",
        "CREDENTIALS_DIRECTORY": str(credentials),
        "KEFU_EVENT_STREAM": f"kefu:test:deploy:{secrets.token_hex(6)}",
        "KEFU_DATA_DIR": str(folder / "data"),
        "KEFU_PUBLIC_URL": stack.proxy,
        "KEFU_TRUSTED_PROXIES": PROXY_PEER,
        "KEFU_OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
        "KEFU_OUTBOUND_HTTP_HOSTS": "127.0.0.1",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_WORKER_THREADS": "4",
        # The workers deliver (tests/deploy/test_stack.py counts what two of them send).
        "KEFU_OUTBOX_RELAY_IN_SERVER": "false",
        "KEFU_OUTBOX_POLL_SECONDS": "0.5",
        "KEFU_OUTBOX_RETRY_FIRST_SECONDS": "0.2",
        "KEFU_OUTBOX_RETRY_MAX_SECONDS": "0.5",
        **kefu_tls(folder),
    }
    try:
        # Both servers at once on an empty database: the migration lock has them take turns.
        for n, port in enumerate(backend_ports, 1):
            _start(stack, f"serve-{n}", "serve", {**env, "KEFU_PORT": str(port)})
        for n, url in enumerate(stack.backends, 1):
            _wait(stack, f"serve-{n}", f"{url}/readyz", verify=stack.internal)
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
        postgres.destroy()
        redis_server.destroy()
