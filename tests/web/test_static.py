"""The workspace's files: served by kefu itself, versioned, nothing outside static/."""

from __future__ import annotations

import re

import httpx


def test_a_versioned_asset_is_cached_for_long_and_revalidated_by_etag(anon: httpx.Client) -> None:
    page = anon.get("/login")
    match = re.search(r'href="(/static/workspace/workspace\.css\?v=[0-9a-f]+)"', page.text)
    assert match
    css = anon.get(match.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    again = anon.get(match.group(1), headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    htmx = re.search(r'src="(/static/vendor/htmx\.min\.js\?v=[0-9a-f]+)"', page.text)
    assert htmx and anon.get(htmx.group(1)).status_code == 200


def test_nothing_outside_the_static_folder_is_served(anon: httpx.Client) -> None:
    for path in (
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/workspace/../../templates/workspace/base.html",
        "/static/workspace/missing.js",
        "/static/.hidden.css",
    ):
        assert anon.get(path).status_code == 404, path
