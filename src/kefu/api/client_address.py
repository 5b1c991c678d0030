"""Who sent a request: the address that connected, or the client a trusted proxy names.

X-Forwarded-For is a list each proxy appends the address it saw to; anyone can send the header
with whatever they like in it. So it is read only when the connecting peer is one of
``KEFU_TRUSTED_PROXIES``, and then from the right: the first address that is not a trusted proxy
is the client, and what lies to its left is that client's own claim. Login limits and the
addresses recorded on login sessions use this.

``kefu serve`` runs uvicorn without its own proxy-header handling (cli.py), which would believe
the header from any loopback peer and hide the real peer from us.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from fastapi import Request

Network = IPv4Network | IPv6Network


def client_address(request: Request, trusted: Sequence[Network]) -> str:
    peer = request.client.host if request.client else "unknown"
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), trusted)


def forwarded_client(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address given the peer and the X-Forwarded-For headers, in order."""
    if not _is_trusted(_parsed(peer), trusted):
        return peer
    nearest = peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parsed(hop)
        if address is None:
            # A trusted proxy wrote something that is not an address: the last hop we could
            # name is as far as we know. (Never the garbage itself: it would be a fresh key.)
            return nearest
        if not _is_trusted(address, trusted):
            return str(address)
        nearest = str(address)
    return nearest  # every hop a trusted proxy: the furthest one is the best we know


def _parsed(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; match it against IPv4 networks.
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    return mapped or address


def _is_trusted(address: IPv4Address | IPv6Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)
