"""Which addresses kefu may call out to (callbacks, order lookups): the pure rules.

A URL that kefu posts to is named by an admin or an integration; left unchecked it lets them
reach what only kefu's machine can (SSRF): the cloud's metadata service, a database on the
private network, kefu's own admin port. So an outbound URL is http or https, carries no
credentials, and its host must resolve only to public unicast addresses — unless the operator
allowed that host by name or address (``KEFU_OUTBOUND_ALLOW_HOSTS``, e.g. a shop system on
the intranet). ``services/infra/outbound_urls.py`` does the resolving, at save and at call time.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class UrlRefused(ValueError):
    """An outbound URL kefu will not call; ``reason`` is a code (scheme, https_required,
    credentials, no_host, private_address, unresolvable, not_a_url)."""

    def __init__(self, reason: str, host: str = "") -> None:
        super().__init__(f"{reason}: {host}" if host else reason)
        self.reason = reason
        self.host = host


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, without brackets
    port: int

    @property
    def literal(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse(url: str) -> Target:
    """The scheme, host and port of an outbound URL, or ``UrlRefused``."""
    if any(c.isspace() for c in url) or len(url) > 2000:
        raise UrlRefused("not_a_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UrlRefused("not_a_url") from e
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused("scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UrlRefused("credentials")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused("no_host")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


def refusal(address: IPAddress) -> str | None:
    """Why kefu does not call this address (None: a public unicast address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for reason, hit in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link_local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not_global", not address.is_global),  # shared (100.64/10), documentation, 6to4 …
    ):
        if hit:
            return reason
    return None


@dataclass(frozen=True)
class AllowList:
    """Hosts the operator allows whatever they resolve to: names, addresses or networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, value: str) -> AllowList:
        """``"127.0.0.1, shop.intra, 10.1.0.0/16"``; a ValueError names a bad entry."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for part in (p.strip().lower().rstrip(".") for p in value.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part.strip("[]"), strict=False))
            except ValueError:
                if not all(c.isalnum() or c in "-._" for c in part):
                    raise ValueError(f"not a host name, address or network: {part!r}") from None
                names.add(part)
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return host.lower() in self.names

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def check_scheme(target: Target, plain: AllowList, addresses: Iterable[IPAddress] = ()) -> None:
    """https always; plain http only to a host the operator allowed it for by name, or whose
    every address (the literal, or what the name resolves to) is in an allowed network
    (``KEFU_OUTBOUND_HTTP_HOSTS``: an on-premise shop system on the intranet)."""
    if target.scheme == "https" or plain.allows_name(target.host):
        return
    literal = target.literal
    found = [literal] if literal is not None else list(addresses)
    if found and all(plain.allows_address(a) for a in found):
        return
    raise UrlRefused("https_required", target.host)


def check_addresses(target: Target, addresses: Iterable[IPAddress], allow: AllowList) -> None:
    """Every address the host resolves to must be callable (one private address is enough to
    refuse: the connection could take it)."""
    found = list(addresses)
    if not found:
        raise UrlRefused("unresolvable", target.host)
    for address in found:
        if allow.allows_address(address):
            continue
        if refusal(address) is not None:
            raise UrlRefused("private_address", target.host)
