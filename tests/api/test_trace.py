"""TRACE (and other methods kefu does not serve) echo nothing back (ASVS V13.4.4)."""

from __future__ import annotations

import httpx


def test_trace_is_refused_everywhere_and_echoes_nothing(anon: httpx.Client, api: httpx.Client):
    secret = "trace-me-7f3a"
    for client in (anon, api):
        for path in ("/login", "/api/v1/tickets", "/healthz", "/static/workspace/admin.css"):
            answer = client.request("TRACE", path, headers={"x-probe": secret})
            assert answer.status_code in (404, 405), (path, answer.status_code)
            assert secret not in answer.text and "x-probe" not in answer.text.lower(), path
