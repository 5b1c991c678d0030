"""The outbound URL guard: every URL kefu calls (an integration's callback, a shop's order
lookup) is checked when it is saved and again, with a fresh DNS answer, when it is called.

At save time a host name that does not resolve yet is accepted (a shop may register before its
DNS is live); one that resolves to a loopback, private, link-local, multicast or reserved address
is refused. At call time the name is resolved again and every address checked, and the request
is sent to the address that was checked (the TLS name check and SNI still use the host name), so
a DNS answer that changes between the check and the connection (DNS rebinding) cannot point the
call at an internal address. Hosts in ``KEFU_OUTBOUND_ALLOW_HOSTS`` skip the address check.
The pure rules are in ``domain/outbound_urls.py``.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import httpx

from kefu import __version__
from kefu.domain import outbound_urls as rules
from kefu.domain.outbound_urls import AllowList, IPAddress, Target, UrlRefused
from kefu.errors import KefuError
from kefu.settings import Settings, get_settings

Resolver = Callable[[str, int], Sequence[IPAddress]]

__all__ = ["OutboundGuard", "OutboundUrlRefused", "PinnedCall", "UrlRefused", "guard_of"]


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to (empty when it does not)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


class OutboundUrlRefused(KefuError):
    """422 ``outbound_url_refused`` with the reason, at the field the caller names."""

    def __init__(self, refused: UrlRefused, *, field: str) -> None:
        super().__init__(
            "outbound_url_refused",
            status_code=422,
            details={"field": field, "reason": refused.reason},
            reason=refused.reason,
        )


@dataclass(frozen=True)
class PinnedCall:
    """Where to send a request: ``url`` names the checked address; ``host`` goes into the Host
    header and ``sni_hostname`` into TLS (None when the URL is used as it is)."""

    url: str
    host: str | None = None
    sni_hostname: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Host": self.host} if self.host else {}

    @property
    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.sni_hostname} if self.sni_hostname else {}


@dataclass(frozen=True)
class OutboundGuard:
    allow: AllowList = AllowList()
    resolver: Resolver = field(default=resolve)
    # Where plain http is allowed (KEFU_OUTBOUND_HTTP_HOSTS); everywhere else https only.
    plain_http: AllowList = AllowList()

    def _check_scheme(self, target: Target) -> None:
        if target.scheme == "https" or self.plain_http.allows_name(target.host):
            return
        literal = target.literal
        addresses = [] if literal is not None else self.resolver(target.host, target.port)
        rules.check_scheme(target, self.plain_http, addresses)

    def check_saved(self, url: str, *, field: str) -> str:
        """``url`` as it may be saved, or ``OutboundUrlRefused`` (422)."""
        try:
            target = rules.parse(url)
            self._check_scheme(target)
            if self._allowed(target):
                return url
            literal = target.literal
            addresses = (
                [literal] if literal is not None else self.resolver(target.host, target.port)
            )
            if addresses:  # a name that does not resolve yet is checked when it is called
                rules.check_addresses(target, addresses, self.allow)
        except UrlRefused as refused:
            raise OutboundUrlRefused(refused, field=field) from refused
        return url

    def pin(self, url: str) -> PinnedCall:
        """The call to make now to ``url``: its host resolved and checked at this moment.
        Raises ``UrlRefused``."""
        target = rules.parse(url)
        self._check_scheme(target)
        if self._allowed(target):
            return PinnedCall(url)
        literal = target.literal
        addresses = (
            [literal] if literal is not None else list(self.resolver(target.host, target.port))
        )
        rules.check_addresses(target, addresses, self.allow)
        if literal is not None:
            return PinnedCall(url)
        return _pinned(url, target, addresses[0])

    def _allowed(self, target: Target) -> bool:
        literal = target.literal
        if literal is not None:
            return self.allow.allows_address(literal) or self.allow.allows_name(target.host)
        return self.allow.allows_name(target.host)


def _pinned(url: str, target: Target, address: IPAddress) -> PinnedCall:
    parts = urlsplit(url)
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    host = f"{target.host}:{parts.port}" if parts.port else target.host
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return PinnedCall(
        pinned, host=host, sni_hostname=target.host if target.scheme == "https" else None
    )


def guard_of(settings: Settings | None = None) -> OutboundGuard:
    """The guard under these settings (default: the process's)."""
    settings = settings or get_settings()
    return OutboundGuard(
        AllowList.parse(settings.outbound_allow_hosts),
        plain_http=AllowList.parse(settings.outbound_http_hosts),
    )


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """One TLS context for every outbound client of the process: loading the CA bundle is the
    costly part of making a client."""
    return httpx.create_ssl_context()


def outbound_client(timeout: float) -> httpx.Client:
    """An HTTP client for calls to the URLs this module checks: redirects never followed (each
    hop would need the check again), kefu named in the User-Agent."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": f"kefu/{__version__}"},
        verify=_tls(),
    )
