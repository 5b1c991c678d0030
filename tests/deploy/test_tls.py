"""TLS and least privilege inside the deployment (docs/deployment.md, "TLS inside the deployment",
"Database roles"): the stack of conftest.py runs every link over verified TLS; here, what each
link refuses — a plain connection to PostgreSQL, a certificate of another CA at kefu's start,
nginx's proxy without kefu's CA, the runtime role's DDL and audit deletions, Redis commands and
keys outside kefu's ACL — and that no second request is smuggled through nginx to kefu."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import uuid
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import redis
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kefu.db.engine import make_engine
from kefu.db.models import AuditEvent
from tests.deploy.conftest import Stack
from tests.deploy.stack import (
    BROWSER,
    START_SCRIPT,
    configure_nginx,
    free_port,
    issue,
    make_ca,
)

pytestmark = pytest.mark.deploy


def test_every_kefu_link_of_the_stack_is_tls(stack):
    """The URLs kefu runs on: the database verified (verify-full) as the runtime role, Redis over
    TLS as an ACL user, kefu serve on https; the request through nginx of test_stack.py works on
    them, and PostgreSQL says each kefu connection is encrypted."""
    env = stack.env
    database_url = stack.credential("kefu-database-url")
    assert "sslmode=verify-full" in database_url and "kefu_app:" in database_url
    assert "kefu_owner:" in stack.credential("kefu-migrate-database-url")
    assert stack.credential("kefu-redis-url").startswith("rediss://kefu:")
    assert all(url.startswith("https://") for url in stack.backends)
    assert env["KEFU_SSL_CLIENT_CA"]  # and they serve nginx alone (the test below)
    with stack.browser() as browser:
        assert browser.get("/readyz").status_code == 200  # database and Redis, through nginx
    with stack.engine.connect() as connection:
        links = connection.execute(
            text(
                "SELECT a.usename, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s "
                "ON s.pid = a.pid WHERE a.datname = 'kefu' AND a.client_addr IS NOT NULL"
            )
        ).all()
    assert links and all(ssl for _user, ssl in links)
    assert {user for user, _ssl in links} == {"kefu_app"}


def test_kefu_serves_only_clients_with_a_certificate_of_the_internal_ca(stack, tmp_path):
    """ASVS V13.2.1: nginx shows its certificate to kefu (proxy_ssl_certificate); a client
    without one, or with one of another CA, gets no answer from a kefu port."""
    other = make_ca(tmp_path, "other-ca")
    issue(tmp_path, "stranger", other, ["stranger.internal"], usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger = ssl.create_default_context(cafile=str(stack.folder / "ca.pem"))
    stranger.load_cert_chain(tmp_path / "stranger.pem", tmp_path / "stranger-key.pem")
    url = f"{stack.backends[0]}/healthz"
    for context in (stack.tls, stranger):
        with pytest.raises(httpx.TransportError):  # the handshake, or TLS 1.3's first read
            httpx.get(url, verify=context, timeout=10)
    assert httpx.get(url, verify=stack.internal, timeout=10).status_code == 200


def test_postgres_refuses_a_plain_connection(stack):
    plain = stack.postgres.url("kefu_app", sslmode="disable").replace("+psycopg", "")
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain, connect_timeout=5).close()


def _start_refused(stack: Stack, tmp_path, **given: str) -> subprocess.CompletedProcess[str]:
    """A worker started as the stack's, with the credentials ``given`` (``kefu_database_url=``)
    in place of the stack's own."""
    credentials = tmp_path / f"credentials-{uuid.uuid4().hex[:8]}"
    shutil.copytree(stack.env["CREDENTIALS_DIRECTORY"], credentials)
    for name, value in given.items():
        (credentials / name.replace("_", "-")).write_text(value, encoding="utf-8")
    return subprocess.run(
        [str(START_SCRIPT), "worker"],
        env={**stack.env, "CREDENTIALS_DIRECTORY": str(credentials)},
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip


def test_kefu_refuses_to_start_when_a_certificate_does_not_verify(stack, tmp_path):
    make_ca(tmp_path, "other-ca")
    other = tmp_path / "other-ca.pem"
    database = _start_refused(
        stack, tmp_path, kefu_database_url=stack.postgres.url("kefu_app", ca=other)
    )
    assert database.returncode == 78, database.stderr
    assert "the database refused the connection" in database.stderr
    assert "certificate verify failed" in database.stderr
    cache = _start_refused(stack, tmp_path, kefu_redis_url=stack.redis.url(ca=other))
    assert cache.returncode == 78, cache.stderr
    assert "Redis refused the connection" in cache.stderr
    assert "certificate verify failed" in cache.stderr


def test_nginx_answers_502_when_kefus_certificate_is_not_of_its_ca(stack, tmp_path):
    """proxy_ssl_verify is on: the same site with another CA as the trusted one reaches no kefu."""
    make_ca(tmp_path, "ca")  # nginx's configuration below trusts this one, not kefu's issuer
    for name in ("cert.pem", "cert-key.pem", "nginx.pem", "nginx-key.pem"):
        (tmp_path / name).write_bytes((stack.folder / name).read_bytes())
    ports = [int(urlsplit(url).port or 0) for url in stack.backends]
    https_port = free_port()
    command = configure_nginx(tmp_path, ports, https_port, free_port())
    nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        transport = httpx.HTTPTransport(verify=stack.tls, local_address=BROWSER, retries=20)
        with httpx.Client(transport=transport, timeout=30) as browser:
            answer = browser.get(f"https://127.0.0.1:{https_port}/healthz")
    finally:
        nginx.terminate()
        nginx.wait(10)
    assert answer.status_code == 502
    assert "upstream SSL certificate verify error" in (tmp_path / "nginx-error.log").read_text()


def test_the_runtime_role_cannot_change_the_schema_nor_delete_or_rewrite_audit_events(stack):
    with stack.engine.begin() as connection:  # one audit event of now, as the superuser
        event_id = connection.execute(
            text(
                "INSERT INTO audit_events (actor_type, via, action, object_type, object_id, "
                "created_at) VALUES ('system', 'system', 'test.tls', 'test', 1, now()) RETURNING id"
            )
        ).scalar_one()
    runtime = make_engine(stack.credential("kefu-database-url"))
    refused = (
        "CREATE TABLE kefu_intruder (id integer)",
        "DROP TABLE tickets",
        "ALTER TABLE tickets ADD COLUMN intruder integer",
        "TRUNCATE audit_events",
        f"DELETE FROM audit_events WHERE id = {event_id}",
        f"UPDATE audit_events SET action = 'forged' WHERE id = {event_id}",
        "UPDATE alembic_version SET version_num = 'forged'",
    )
    try:
        for statement in refused:
            with runtime.connect() as connection, pytest.raises(DBAPIError) as error:
                connection.execute(text(statement))
            assert isinstance(error.value.orig, psycopg.errors.InsufficientPrivilege), statement
        with runtime.begin() as connection:
            # Erasure rewrites the snapshots (the columns it may update); the sweep's function
            # deletes no event younger than a day.
            connection.execute(
                text("UPDATE audit_events SET after = NULL WHERE id = :id"), {"id": event_id}
            )
            expired = connection.execute(
                text("SELECT kefu_expire_audit_events(CAST(:ids AS bigint[]))"), {"ids": [event_id]}
            ).scalar_one()
        assert expired == 0
    finally:
        runtime.dispose()
    with stack.session() as db:
        event = db.get(AuditEvent, event_id)
        assert event is not None and event.action == "test.tls" and event.after is None
        assert db.scalar(select(func.count()).select_from(AuditEvent)) >= 1


def test_kefus_redis_user_reaches_only_its_keys_and_commands(stack):
    client = redis.Redis.from_url(stack.credential("kefu-redis-url"))
    try:
        assert client.incr(f"kefu:rl:test:{uuid.uuid4().hex}") == 1
        for refused in (
            lambda: client.set("someone-else", 1),
            lambda: client.get("kefu:rl:x"),  # a key of kefu's, a command kefu never sends
            lambda: client.flushall(),
            lambda: client.config_get("*"),
            lambda: client.keys("*"),
        ):
            with pytest.raises(redis.exceptions.NoPermissionError):
                refused()
    finally:
        client.close()
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis.from_url(
            stack.credential("kefu-redis-url").replace("rediss://kefu:", "rediss://kefu:x")
        ).ping()


# --- request smuggling (ASVS V4.2.1) ------------------------------------------------------------

SMUGGLED = "DELETE /api/v1/users/{user_id}"  # kefu's security log names a refused call's route


def _raw(stack: Stack, request: bytes) -> bytes:
    """``request`` sent as it is to nginx over TLS; what came back until nginx closed or went
    quiet."""
    address = urlsplit(stack.proxy)
    host, port = address.hostname or "", address.port or 443
    answer = b""
    with (
        socket.create_connection((host, port), timeout=10, source_address=(BROWSER, 0)) as raw,
        stack.tls.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(request)
        tls.settimeout(3)
        try:
            while chunk := tls.recv(65536):
                answer += chunk
        except (TimeoutError, OSError):
            pass
    return answer


def _smuggled_seen(stack: Stack) -> int:
    return sum(stack.log(f"serve-{n}").count(SMUGGLED) for n in (1, 2))


def _smuggle(marker: str) -> bytes:
    return (
        f"DELETE /api/v1/users/{marker} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    "framing",
    ["content_length_and_chunked", "two_content_lengths", "obs_fold_transfer_encoding"],
)
def test_ambiguous_framing_smuggles_no_request_to_kefu(stack, framing):
    before = _smuggled_seen(stack)
    inner = _smuggle("9" + str(uuid.uuid4().int)[:8])
    head = "POST /api/v1/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if framing == "content_length_and_chunked":
        body = b"0\r\n\r\n" + inner
        request = (head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n").encode() + body
    elif framing == "two_content_lengths":
        request = (
            head + "Content-Length: 0\r\n" + f"Content-Length: {len(inner)}\r\n\r\n"
        ).encode() + inner
    else:
        body = b"0\r\n\r\n" + inner
        request = (
            head + "Content-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
        ).encode() + body
    answer = _raw(stack, request)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]  # nginx refuses the request whole
    assert _smuggled_seen(stack) == before  # kefu never saw the request inside the body

    # The probe can see it: the same request sent openly reaches kefu and is in its log.
    with stack.browser() as browser:
        browser.delete("/api/v1/users/1")
    assert _smuggled_seen(stack) == before + 1
