"""The start-up check of kefu serve and kefu worker (services/infra/backends.py): a refusal that
is the configuration's stops the process, an outage is only warned about."""

from __future__ import annotations

import logging

import pytest

from kefu.services.infra import backends
from kefu.settings import Settings


def test_an_unreachable_database_or_redis_is_warned_about_not_refused(caplog):
    caplog.set_level(logging.WARNING, logger="kefu.services.infra.backends")
    settings = Settings(
        database_url="postgresql+psycopg://kefu@127.0.0.1:1/kefu?connect_timeout=1",
        redis_url="redis://127.0.0.1:1/0",
    )
    backends.check_backends(settings)  # no exception: kefu rides out outages
    assert "database is not reachable yet" in caplog.text
    assert "Redis is not reachable yet" in caplog.text


@pytest.mark.parametrize(
    "message",
    [
        "connection failed: SSL error: certificate verify failed",
        'FATAL:  password authentication failed for user "kefu_app"',
        'FATAL:  no pg_hba.conf entry for host "127.0.0.1", user "kefu_app", no encryption',
        "WRONGPASS invalid username-password pair or user is disabled.",
    ],
)
def test_a_refusal_of_tls_or_credentials_is_the_configurations(message):
    try:
        raise ConnectionError("wrapped") from OSError(message)
    except ConnectionError as e:
        assert backends._refused(e)


def test_an_outage_is_not_the_configurations():
    refused = OSError('connection to server at "127.0.0.1", port 1 failed: Connection refused')
    assert not backends._refused(refused)


def test_a_certificate_goes_with_its_key():
    with pytest.raises(ValueError, match="KEFU_SSL_KEYFILE"):
        Settings(ssl_certfile="/etc/kefu/kefu.pem")
