"""The deployment test's own PostgreSQL and Redis, both over TLS only, as docs/deployment.md sets
them up: PostgreSQL with ``ssl = on``, the roles of deploy/postgres/roles.sql and ``hostssl``
lines alone in pg_hba.conf (a plain TCP connection has no line, so it is refused); Redis with a
TLS port and no plain one, the ACL of deploy/redis/users.acl. Their certificates come from the
test's CA (stack.make_tls). The servers are started like the fault tests' (tests/faults/servers.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.deploy.stack import REPO
from tests.faults.servers import (
    PG_BIN,
    REDIS_SERVER,
    Postgres,
    _as_postgres,
    free_port,
)

ROLES_SQL = REPO / "deploy" / "postgres" / "roles.sql"
REDIS_ACL = REPO / "deploy" / "redis" / "users.acl"
HBA = "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
START_SECONDS = 30


@dataclass
class TlsPostgres:
    """A cluster answering TLS only, with the owner and runtime roles and the database kefu."""

    server: Postgres
    ca: Path
    owner_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    app_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def url(self, role: str, *, ca: Path | None = None, sslmode: str = "verify-full") -> str:
        password = self.owner_password if role == "kefu_owner" else self.app_password
        query = f"sslmode={sslmode}"
        if sslmode.startswith("verify"):
            query += f"&sslrootcert={quote(str(ca or self.ca))}"
        return (
            f"postgresql+psycopg://{role}:{quote(password)}@127.0.0.1:{self.server.port}/kefu"
            f"?{query}"
        )

    @property
    def superuser_url(self) -> str:
        """postgres over the cluster's socket (the test's own arranging and counting)."""
        return (
            f"postgresql+psycopg://postgres@/kefu?host={self.server.root}&port={self.server.port}"
        )

    def destroy(self) -> None:
        self.server.destroy()


def start_postgres(folder: Path) -> TlsPostgres:
    """The cluster with the certificate of ``folder``, TLS only; roles.sql makes its roles and
    the database kefu."""

    def answer_tls_only(server: Postgres) -> None:
        root = server.root
        for name in ("postgres.pem", "postgres-key.pem"):
            shutil.copy(folder / name, root / name)
        (root / "postgres-key.pem").chmod(0o600)
        (server.data / "pg_hba.conf").write_text(HBA)
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"ssl = on\nssl_cert_file = '{root}/postgres.pem'\n"
                f"ssl_key_file = '{root}/postgres-key.pem'\n"
                "ssl_min_protocol_version = 'TLSv1.2'\npassword_encryption = 'scram-sha-256'\n"
            )

    server = Postgres.create(configure=answer_tls_only, database=None, prefix="kefu-deploy-pg-")
    root = server.root
    cluster = TlsPostgres(server, folder / "ca.pem")
    subprocess.run(  # noqa: S603 - the shipped roles.sql, as its header says to run it
        [*_as_postgres(), str(PG_BIN / "psql"), "-h", str(root), "-p", str(server.port),
         "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
         "-v", f"owner_password={cluster.owner_password}",
         "-v", f"app_password={cluster.app_password}", "-f", "-"],
        input=ROLES_SQL.read_bytes(),  # on stdin: the user postgres may not read this checkout
        check=True, capture_output=True,
    )  # fmt: skip
    return cluster


@dataclass
class TlsRedis:
    root: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]

    def url(self, *, ca: Path) -> str:
        return (
            f"rediss://kefu:{quote(self.password)}@127.0.0.1:{self.port}/0"
            f"?ssl_ca_certs={quote(str(ca))}"
        )

    def destroy(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def start_redis(folder: Path) -> TlsRedis:
    """Redis on a TLS port only (``--port 0``), with the shipped ACL and a fresh password."""
    root = Path(tempfile.mkdtemp(prefix="kefu-deploy-redis-"))
    password = secrets.token_urlsafe(16)
    digest = hashlib.sha256(password.encode()).hexdigest()
    acl = REDIS_ACL.read_text()
    assert acl.count("#" + "0" * 64) == 1, "deploy/redis/users.acl: the password's placeholder"
    (root / "users.acl").write_text(acl.replace("#" + "0" * 64, "#" + digest))
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed binary, our own options
        [REDIS_SERVER, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(folder / "redis.pem"),
         "--tls-key-file", str(folder / "redis-key.pem"),
         "--tls-ca-cert-file", str(folder / "ca.pem"), "--tls-auth-clients", "no",
         "--aclfile", str(root / "users.acl"), "--save", "", "--appendonly", "no",
         "--dir", str(root)],
        stdout=(root / "redis.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + START_SECONDS
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError((root / "redis.log").read_text(errors="replace"))
        time.sleep(0.05)
    return TlsRedis(root, port, password, process)
