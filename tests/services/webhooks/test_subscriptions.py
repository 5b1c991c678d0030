"""Subscriptions' URLs are checked when saved: no loopback, private, link-local or reserved
address unless the admin allowlist names it; secrets are shown once and stored sealed."""

from __future__ import annotations

import ipaddress

import pytest

from kefu.db.models import WebhookSubscription
from kefu.domain.outbound_urls import AllowList
from kefu.services.actors import SYSTEM
from kefu.services.infra.outbound_urls import OutboundGuard, OutboundUrlRefused
from kefu.services.infra.sealed_columns import opened
from kefu.services.webhooks import subscriptions

# Plain http to any address: these tests are about the address checks, not the scheme
# (tests/services/infra/test_outbound_urls.py).
PLAIN_HTTP = AllowList.parse("0.0.0.0/0, ::/0")

KEY = "test-secret-key"


class Dns:
    def __init__(self, **answers: list[str]) -> None:
        self.answers = {name.replace("_", "."): a for name, a in answers.items()}

    def __call__(self, host: str, port: int) -> list:
        return [ipaddress.ip_address(a) for a in self.answers.get(host, [])]


def _create(db, url: str, guard: OutboundGuard):
    return subscriptions.do_create_subscription(
        db, SYSTEM, url=url, events=["ticket.created"], guard=guard, secret_key=KEY
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://intranet.example.cn/hook",  # a name that resolves to a private address
    ],
)
def test_internal_addresses_are_refused_at_save_time(db, url):
    guard = OutboundGuard(plain_http=PLAIN_HTTP, resolver=Dns(intranet_example_cn=["192.168.1.20"]))
    with pytest.raises(OutboundUrlRefused) as refused:
        _create(db, url, guard)
    assert refused.value.status_code == 422 and refused.value.details["field"] == "url"


def test_the_allowlist_lets_a_company_reach_its_own_systems(db):
    guard = OutboundGuard(AllowList.parse("127.0.0.1"), resolver=Dns(), plain_http=PLAIN_HTTP)
    secret, made = _create(db, "http://127.0.0.1:8000/hook", guard)
    assert secret.startswith("whsec_")
    assert opened(KEY, made, WebhookSubscription.secret_sealed) == secret
    assert secret not in made.secret_sealed


def test_a_public_url_is_saved_and_unknown_events_are_refused(db):
    guard = OutboundGuard(plain_http=PLAIN_HTTP, resolver=Dns(hooks_example_cn=["93.184.216.34"]))
    _, made = _create(db, "https://hooks.example.cn/kefu", guard)
    assert made.events == ["ticket.created"]
    with pytest.raises(Exception) as refused:  # noqa: PT011 - KefuError with its field
        subscriptions.do_update_subscription(
            db, SYSTEM, made, {"events": ["ticket.deleted"]}, guard=guard, secret_key=KEY
        )
    assert refused.value.details == {"field": "events"}  # type: ignore[attr-defined]
