"""Every answer with a body says what it is, with its charset for text and XML (ASVS V4.1.1)."""

from __future__ import annotations

import httpx


def _check(answer: httpx.Response, where: str, seen: set[str]) -> None:
    if not answer.content:
        return
    kind = answer.headers.get("content-type", "")
    assert kind, where
    media = kind.split(";")[0].strip()
    seen.add(media)
    if media.startswith("text/") or media.endswith("xml"):
        assert "charset=utf-8" in kind.lower().replace(" ", ""), (where, kind)
    if media == "application/json":
        answer.json()  # the body is what the header says
    if media == "text/html":
        assert answer.text.lstrip().lower().startswith("<!doctype html"), where


def test_every_get_and_page_names_its_type_and_charset(anon: httpx.Client, api: httpx.Client):
    spec = anon.get("/openapi.json").json()
    paths = [p for p, item in spec["paths"].items() if "get" in item and "{" not in p]
    assert len(paths) > 20
    seen: set[str] = set()
    for path in paths:
        _check(api.get(path), path, seen)
        _check(anon.get(path), f"{path} (anonymous)", seen)
    for path in ("/login", "/help", "/healthz", "/no-such-page", "/api/v1/no-such-route", "/docs"):
        _check(anon.get(path), path, seen)
    for path in ("/inbox", "/account", "/static/workspace/admin.css", "/static/workspace/admin.js"):
        _check(api.get(path), path, seen)
    assert {"application/json", "text/html", "text/css"} <= seen, seen
