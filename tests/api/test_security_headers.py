"""Every answer carries the security headers: each GET operation of the API document (without
path parameters) and the workspace's public pages answer with nosniff and a referrer policy; JSON
with a CSP that forbids framing and running anything and no caching; pages with their own CSP without inline
script; HSTS only when kefu is served over https."""

from __future__ import annotations

import asyncio

import httpx

from kefu.api.security_headers import SecurityHeaders
from kefu.settings import Settings


def _check(response: httpx.Response, where: str) -> None:
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "same-origin", where
    assert "strict-transport-security" not in headers, where  # the test server is plain http
    csp = headers.get("content-security-policy", "")
    if headers.get("content-type", "").startswith("application/json"):
        assert "frame-ancestors 'none'" in csp, where
        assert headers.get("cache-control") == "no-store", where
    elif headers.get("content-type", "").startswith("text/html"):
        assert (
            "script-src" in csp
            and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        ), where
        assert "frame-ancestors" in csp, where


def test_every_get_and_the_public_pages_carry_the_headers(anon: httpx.Client, api: httpx.Client):
    spec = anon.get("/openapi.json").json()
    paths = [p for p, item in spec["paths"].items() if "get" in item and "{" not in p]
    assert len(paths) > 20
    for path in paths:
        _check(api.get(path), path)
        _check(anon.get(path), f"{path} (anonymous)")
    for path in ("/login", "/help", "/healthz", "/no-such-page", "/api/v1/no-such-route"):
        _check(anon.get(path), path)


def test_hsts_only_over_https_and_an_answers_own_header_is_kept():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-security-policy", b"sandbox")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"{}"})

    async def call(hsts: int) -> dict[bytes, bytes]:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        await SecurityHeaders(app, hsts_seconds=hsts)({"type": "http"}, None, send)
        return dict(sent[0]["headers"])

    secure = asyncio.run(call(31_536_000))
    assert secure[b"strict-transport-security"] == b"max-age=31536000; includeSubDomains"
    assert secure[b"content-security-policy"] == b"sandbox"  # its own, not replaced
    assert b"strict-transport-security" not in asyncio.run(call(0))
    assert Settings(public_url="https://kefu.example.cn").hsts_seconds_in_force == 31_536_000
    assert Settings(public_url="http://127.0.0.1:8000").hsts_seconds_in_force == 0
