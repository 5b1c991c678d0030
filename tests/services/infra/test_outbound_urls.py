"""The outbound URL guard: checked when saved and again, resolved afresh, when called."""

from __future__ import annotations

import ipaddress

import pytest

from kefu.domain.outbound_urls import AllowList, UrlRefused
from kefu.services.infra.outbound_urls import OutboundGuard, OutboundUrlRefused, guard_of, resolve
from kefu.settings import Settings


class Dns:
    """A name server whose answers a test changes (outside this machine: faked)."""

    def __init__(self, **answers: list[str]) -> None:
        self.answers = {name.replace("_", "."): a for name, a in answers.items()}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list:
        self.asked.append(host)
        return [ipaddress.ip_address(a) for a in self.answers.get(host, [])]


def test_a_public_host_is_saved_and_called_at_the_address_that_was_checked():
    dns = Dns(shop_example_cn=["93.184.216.34"])
    guard = OutboundGuard(resolver=dns)
    assert guard.check_saved("https://shop.example.cn/orders", field="url")
    pinned = guard.pin("https://shop.example.cn:8443/orders?v=1")
    assert pinned.url == "https://93.184.216.34:8443/orders?v=1"
    assert pinned.headers == {"Host": "shop.example.cn:8443"}
    assert pinned.extensions == {"sni_hostname": "shop.example.cn"}  # TLS checks the name


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/orders",
        "http://internal.example.cn/orders",  # resolves to a private address
        "ftp://shop.example.cn/orders",
        "https://admin:pw@shop.example.cn/orders",
    ],
)
def test_internal_addresses_and_bad_urls_are_refused_when_saved(url):
    guard = OutboundGuard(resolver=Dns(internal_example_cn=["192.168.0.10"]))
    with pytest.raises(OutboundUrlRefused) as refused:
        guard.check_saved(url, field="order_lookup_url")
    assert refused.value.status_code == 422
    assert refused.value.details["field"] == "order_lookup_url"


def test_a_name_that_does_not_resolve_yet_is_saved_and_refused_when_called():
    guard = OutboundGuard(resolver=Dns())
    guard.check_saved("https://new-shop.example.cn/orders", field="url")
    with pytest.raises(UrlRefused, match="unresolvable"):
        guard.pin("https://new-shop.example.cn/orders")


def test_a_name_rebound_to_a_private_address_after_it_was_saved_is_not_called():
    dns = Dns(shop_example_cn=["93.184.216.34"])
    guard = OutboundGuard(resolver=dns)
    guard.check_saved("https://shop.example.cn/orders", field="url")
    dns.answers["shop.example.cn"] = ["93.184.216.34", "127.0.0.1"]  # DNS rebinding
    with pytest.raises(UrlRefused, match="private_address"):
        guard.pin("https://shop.example.cn/orders")
    assert dns.asked == ["shop.example.cn", "shop.example.cn"]  # asked afresh at call time


def test_an_allowed_host_is_called_whatever_it_resolves_to():
    dns = Dns(shop_intra=["10.1.2.3"])
    allowed = AllowList.parse("shop.intra, 127.0.0.1")
    guard = OutboundGuard(allowed, resolver=dns, plain_http=allowed)
    guard.check_saved("http://shop.intra/orders", field="url")
    assert guard.pin("http://shop.intra/orders").url == "http://shop.intra/orders"
    assert guard.pin("http://127.0.0.1:9000/cb").url == "http://127.0.0.1:9000/cb"
    assert dns.asked == []
    with pytest.raises(UrlRefused):
        guard.pin("http://127.0.0.2:9000/cb")  # only the address allowed


def test_the_guard_follows_the_settings_and_the_real_resolver_reads_loopback():
    guard = guard_of(Settings(outbound_allow_hosts="localhost", outbound_http_hosts="localhost"))
    assert guard.pin("http://localhost:1/x").url == "http://localhost:1/x"
    assert ipaddress.ip_address("127.0.0.1") in resolve("localhost", 80)
    assert resolve("no-such-host.invalid", 80) == []
    with pytest.raises(UrlRefused, match="private_address"):
        OutboundGuard(plain_http=AllowList.parse("localhost")).pin("http://localhost:1/x")
    with pytest.raises(ValueError, match="not a host name"):
        Settings(outbound_allow_hosts="http://shop.cn/x")


def test_plain_http_is_refused_unless_the_operator_allowed_it_for_the_host():
    """ASVS V12.3.1: https to integrations; http only where KEFU_OUTBOUND_HTTP_HOSTS allows it, by
    name or by network (every address the name resolves to)."""
    dns = Dns(
        shop_example_cn=["93.184.216.34"],
        erp_intra=["10.1.0.5"],
        mixed_intra=["10.1.0.6", "10.2.0.1"],
    )
    strict = OutboundGuard(resolver=dns)
    for url in ("http://shop.example.cn/orders", "http://93.184.216.34/orders"):
        with pytest.raises(OutboundUrlRefused) as refused:
            strict.check_saved(url, field="url")
        assert refused.value.details["reason"] == "https_required"
        with pytest.raises(UrlRefused, match="https_required"):
            strict.pin(url)
    assert strict.pin("https://shop.example.cn/orders").sni_hostname == "shop.example.cn"

    intranet = AllowList.parse("10.1.0.0/16")
    lenient = OutboundGuard(intranet, resolver=dns, plain_http=intranet)
    assert lenient.check_saved("http://erp.intra/orders", field="url") == "http://erp.intra/orders"
    assert lenient.pin("http://10.1.0.9/cb").url == "http://10.1.0.9/cb"
    for url in (
        "http://mixed.intra/orders",
        "http://shop.example.cn/orders",
        "http://unknown.intra/x",
    ):
        with pytest.raises(UrlRefused, match="https_required"):
            lenient.pin(url)  # one address outside the network, or none known, is enough
    named = guard_of(Settings(outbound_http_hosts="shop.example.cn"))
    with pytest.raises(UrlRefused, match="https_required"):
        named.pin("http://other.example.cn/x")
    with pytest.raises(ValueError, match="not a host name"):
        Settings(outbound_http_hosts="http://shop.cn/x")
