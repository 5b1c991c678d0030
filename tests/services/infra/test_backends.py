"""The start-up check of kefu serve and kefu worker (services/infra/backends.py): a refusal that
is the configuration's stops the process, an outage is only warned about. Each kind is met on a
real server where this machine can stage it: the test PostgreSQL, a private Redis with a
password and an ACL user; libpq's words for what cannot be staged here (a server starting up, a
connection cut during the handshake) are given as psycopg reports them."""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from kefu.services.infra import backends
from kefu.services.infra.ratelimit import connect_redis
from kefu.settings import Settings
from tests.faults.servers import REDIS_SERVER, _listening, free_port, wait_until

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"  # the machine's (trust authentication)


def test_an_unreachable_database_or_redis_is_warned_about_not_refused(caplog):
    caplog.set_level(logging.WARNING, logger="kefu.services.infra.backends")
    settings = Settings(
        database_url=f"postgresql+psycopg://kefu@127.0.0.1:{free_port()}/kefu?connect_timeout=1",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
    )
    backends.check_backends(settings)  # no exception: kefu rides out outages
    assert "database is not reachable yet" in caplog.text
    assert "Redis is not reachable yet" in caplog.text


def _connect_error(url: str) -> psycopg.OperationalError:
    with pytest.raises(psycopg.OperationalError) as failed:
        psycopg.connect(url, connect_timeout=3).close()
    return failed.value


@pytest.mark.parametrize(
    "change",
    [
        {"username": "kefu_nobody"},  # role "kefu_nobody" does not exist
        {"database": "kefu_no_such_database"},
        {"query": {"sslmode": "require"}},  # the machine's server has no TLS
    ],
)
def test_a_database_that_refuses_this_processs_settings_stops_the_start(change):
    assert _listening(5432), "the machine's PostgreSQL on 127.0.0.1:5432"
    url = make_url(POSTGRES).set(**change).render_as_string(hide_password=False)
    assert backends.database_refused(_connect_error(url))
    with pytest.raises(backends.BackendRefused, match="the database refused the connection"):
        backends.check_database(url.replace("postgresql://", "postgresql+psycopg://"))


@pytest.mark.parametrize(
    "message",
    [
        'connection to server at "db.internal" (10.0.0.5), port 5432 failed: SSL error: '
        "certificate verify failed",
        'connection to server at "db.internal", port 5432 failed: server certificate for '
        '"other.internal" does not match host name "db.internal"',
        'connection to server at "db.internal", port 5432 failed: FATAL:  password '
        'authentication failed for user "kefu_app"',
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  no pg_hba.conf entry '
        'for host "127.0.0.1", user "kefu_app", database "kefu", no encryption',
    ],
)
def test_libpqs_words_for_a_refused_certificate_or_password_are_a_refusal(message):
    try:
        raise RuntimeError("wrapped") from psycopg.OperationalError(message)
    except RuntimeError as e:
        assert backends.database_refused(e)


@pytest.mark.parametrize(
    "message",
    [
        'connection to server at "127.0.0.1", port 1 failed: Connection refused',
        'connection to server at "db.internal", port 5432 failed: FATAL:  the database system '
        "is starting up",
        # A cut during the handshake names SSL, and is no setting of kefu's.
        'connection to server at "db.internal", port 5432 failed: SSL SYSCALL error: EOF detected',
        'connection to server at "db.internal", port 5432 failed: FATAL:  sorry, too many '
        "clients already",
        'connection to server at "db.internal", port 5432 failed: timeout expired',
    ],
)
def test_libpqs_words_for_an_outage_are_not_a_refusal(message):
    assert not backends.database_refused(psycopg.OperationalError(message))


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[int]:
    """A private Redis whose default user needs the password "right", and a user "limited"
    with the password "pw" that may run no command."""
    root = Path(tempfile.mkdtemp(prefix="kefu-backends-redis-"))
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed binary, our own options
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(root), "--requirepass", "right"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: _listening(port), 15, f"redis on {port}")
        admin = redis.Redis.from_url(f"redis://:right@127.0.0.1:{port}/0")
        admin.execute_command("ACL", "SETUSER", "limited", "on", ">pw", "-@all")
        admin.close()
        yield port
    finally:
        process.kill()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    "credentials",
    ["", ":wrong@", "kefu:wrong@", "limited:pw@"],
    ids=["no password", "wrong password", "unknown user", "user without the command"],
)
def test_a_redis_that_refuses_this_processs_credentials_stops_the_start(locked_redis, credentials):
    url = f"redis://{credentials}127.0.0.1:{locked_redis}/0"
    with pytest.raises(redis.RedisError) as failed:
        connect_redis(url).ping()
    assert backends.redis_refused(failed.value)
    with pytest.raises(backends.BackendRefused, match="Redis refused the connection"):
        backends.check_redis(url)
    backends.check_redis(f"redis://:right@127.0.0.1:{locked_redis}/0")  # the right one passes


def test_a_redis_handshake_cut_short_is_an_outage_a_certificate_refused_is_not():
    try:
        raise redis.ConnectionError("Error connecting") from ssl.SSLEOFError(8, "EOF occurred")
    except redis.ConnectionError as e:
        assert not backends.redis_refused(e)
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed: unable to get issuer")
    try:
        raise redis.ConnectionError("Error connecting") from verify
    except redis.ConnectionError as e:
        assert backends.redis_refused(e)


def test_a_certificate_goes_with_its_key():
    with pytest.raises(ValueError, match="KEFU_SSL_KEYFILE"):
        Settings(ssl_certfile="/etc/kefu/kefu.pem")
