"""Posting to a URL an admin or an integration registered, through the outbound URL guard.

Every adapter that calls out to a registered URL (an integration's callback, a webhook
subscription) posts through ``GuardedPoster``: the URL is checked again, with a fresh DNS answer,
before each attempt and the request goes to the checked address (services/infra/outbound_urls.py);
redirects are never followed. What a failure means for the relay:

- the URL is refused (an address that is private, loopback, link-local or reserved): permanent;
  a name that does not resolve any more: temporary (it may come back);
- a timeout or a connection error: temporary;
- an answer: the caller reads its status (``status_failure`` maps the usual meanings).
"""

from __future__ import annotations

import httpx

from kefu.channels.base import DeliveryFailed
from kefu.domain.outbound_urls import UrlRefused
from kefu.services.infra.outbound_urls import OutboundGuard, guard_of, outbound_client

TEMPORARY_STATUSES = frozenset({408, 425, 429})


class GuardedPoster:
    """An HTTP client made at the first post (its TLS set-up costs tens of milliseconds; most
    processes that build adapters never post) and the guard each post goes through."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.timeout = timeout
        self.guard = guard or guard_of()
        self._client = client

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = outbound_client(self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def post(
        self, url: str, *, content: bytes, headers: dict[str, str], what: str
    ) -> httpx.Response:
        """The answer of ``url`` to a POST of ``content``; ``DeliveryFailed`` when there is none.
        ``what`` names the URL in failure reasons ("the callback URL")."""
        try:
            pinned = self.guard.pin(url)
        except UrlRefused as e:  # a name that stopped resolving may come back; an address won't
            raise DeliveryFailed(
                f"{what} is refused: {e.reason}", permanent=e.reason != "unresolvable"
            ) from e
        try:
            return self.client.post(
                pinned.url,
                content=content,
                headers={**headers, **pinned.headers},
                extensions=pinned.extensions,
            )
        except httpx.TimeoutException as e:
            raise DeliveryFailed(f"no answer within {self.timeout:g} s ({type(e).__name__})") from e
        except httpx.HTTPError as e:
            raise DeliveryFailed(f"{type(e).__name__}: {e}") from e


def status_failure(response: httpx.Response) -> DeliveryFailed | None:
    """None for a 2xx answer; else the failure it is: 408, 425, 429 and 5xx temporary, any
    other status (4xx, a redirect) permanent."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    reason = f"HTTP {status}: {response.text[:300]}".strip()
    if status >= 500 or status in TEMPORARY_STATUSES:
        return DeliveryFailed(reason)
    if 300 <= status < 400:
        reason += " (redirects are not followed; register the final URL)"
    return DeliveryFailed(reason, permanent=True)
