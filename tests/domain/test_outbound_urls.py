"""The outbound URL rules: schemes, credentials, and the addresses kefu never calls."""

from __future__ import annotations

import ipaddress

import pytest

from kefu.domain.outbound_urls import AllowList, UrlRefused, check_addresses, parse, refusal


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://shop.cn/orders", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://shop.cn", "scheme"),
        ("https://user:pw@shop.cn/orders", "credentials"),
        ("https://token@shop.cn/orders", "credentials"),
        ("https:///orders", "no_host"),
        ("https://shop.cn/a b", "not_a_url"),
        ("https://shop.cn:99999/", "not_a_url"),
    ],
)
def test_urls_kefu_does_not_call(url, reason):
    with pytest.raises(UrlRefused) as refused:
        parse(url)
    assert refused.value.reason == reason


def test_a_url_names_its_host_and_port():
    target = parse("HTTPS://Shop.EXAMPLE.cn./orders?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "shop.example.cn", 443)
    assert parse("http://[::1]:8080/x").literal == ipaddress.ip_address("::1")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link_local"),  # the cloud's metadata service
        ("fe80::1", "link_local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "private"),  # reserved (Python counts it as private too)
        ("100.64.0.1", "not_global"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),
        ("fd00::1", "private"),
    ],
)
def test_internal_addresses_are_refused(address, reason):
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "114.114.114.114", "2400:3200::1"])
def test_public_addresses_are_callable(address):
    assert refusal(ipaddress.ip_address(address)) is None


def test_one_private_address_among_the_answers_refuses_the_host():
    target = parse("https://shop.cn/")
    public, private = ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.5")
    check_addresses(target, [public], AllowList())
    with pytest.raises(UrlRefused, match="private_address"):
        check_addresses(target, [public, private], AllowList())
    with pytest.raises(UrlRefused, match="unresolvable"):
        check_addresses(target, [], AllowList())
    check_addresses(target, [public, private], AllowList.parse("10.0.0.0/8"))


def test_the_allow_list_reads_names_addresses_and_networks():
    allow = AllowList.parse(" Shop.Intra., 127.0.0.1 ,10.1.0.0/16, [::1]")
    assert allow.allows_name("shop.intra") and not allow.allows_name("other.intra")
    assert allow.allows_address(ipaddress.ip_address("10.1.9.9"))
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert not allow.allows_address(ipaddress.ip_address("10.2.0.1"))
    with pytest.raises(ValueError, match="not a host name"):
        AllowList.parse("shop.cn/path")
