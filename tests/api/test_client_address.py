"""Which address a request comes from: X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kefu.api.client_address import forwarded_client
from kefu.settings import Settings

PROXIES = Settings(trusted_proxies=" 127.0.0.1, 10.0.0.0/8 ,::1").trusted_proxy_networks


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # Not from a trusted proxy: the header is the sender's own claim.
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        ("testclient", ["198.51.100.1"], "testclient"),
        # From a trusted proxy: the right-most address no trusted proxy stands for.
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
        ("127.0.0.1", ["198.51.100.1, 203.0.113.7"], "203.0.113.7"),
        ("127.0.0.1", ["198.51.100.1, 203.0.113.7, 10.1.2.3"], "203.0.113.7"),
        ("127.0.0.1", ["198.51.100.1", "203.0.113.7, 10.1.2.3"], "203.0.113.7"),
        ("::1", ["2001:db8::5"], "2001:db8::5"),
        ("::ffff:127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
        # Only proxies in the chain: the furthest one is the best we know.
        ("127.0.0.1", ["10.0.0.2, 10.0.0.1"], "10.0.0.2"),
        # A hop that is no address ends the walk at the last one we could name.
        ("127.0.0.1", ["203.0.113.7, not-an-address"], "127.0.0.1"),
        ("127.0.0.1", ["<script>, 10.0.0.1"], "10.0.0.1"),
    ],
)
def test_the_client_is_the_peer_unless_a_trusted_proxy_names_it(peer, forwarded_for, client):
    assert forwarded_client(peer, forwarded_for, PROXIES) == client


def test_nobody_is_trusted_by_default():
    assert Settings().trusted_proxy_networks == ()
    assert forwarded_client("127.0.0.1", ["203.0.113.7"], ()) == "127.0.0.1"


def test_a_trusted_proxy_that_is_no_address_is_refused_at_start():
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies="127.0.0.1, proxy.internal")
