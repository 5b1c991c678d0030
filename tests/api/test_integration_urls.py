"""An integration's outbound URLs (callback, order lookup) pass the outbound URL guard when
saved; the order lookup gets the signing secret callbacks use."""

from __future__ import annotations

import pytest

from tests.checks import api_error


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/orders",
        "http://[::1]:8000/orders",
        "https://user:secret@shop.example.cn/orders",
    ],
)
@pytest.mark.parametrize("name", ["callback_url", "order_lookup_url"])
def test_internal_addresses_are_refused_when_saved(api, url, name):
    body = {"name": "内网探测", "channels": ["api"], name: url}
    error = api_error(api.post("/api/v1/integrations", json=body), 422, "outbound_url_refused")
    assert error["details"]["field"] == name
    assert api.get("/api/v1/integrations").json() == []


def test_an_order_lookup_url_gets_a_signing_secret_shown_once(api):
    made = api.post("/api/v1/integrations", json={
        "name": "商城", "channels": ["api"], "order_lookup_url": "http://127.0.0.1:9/orders",
    })  # fmt: skip
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["order_lookup_url"] == "http://127.0.0.1:9/orders"  # loopback: allowed in tests
    assert created["callback_secret"].startswith("kefu_cb_")
    url = f"/api/v1/integrations/{created['id']}"
    kept = api.patch(url, json={"callback_url": "http://127.0.0.1:9/cb"}).json()
    assert kept["callback_secret"] is None  # the same secret signs both
    api_error(api.patch(url, json={"order_lookup_url": "http://192.168.1.20/orders"}),
              422, "outbound_url_refused")  # fmt: skip
    assert (
        api.get("/api/v1/integrations").json()[0]["order_lookup_url"] == "http://127.0.0.1:9/orders"
    )
    cleared = api.patch(url, json={"order_lookup_url": None, "callback_url": None}).json()
    assert cleared["order_lookup_url"] is None and cleared["callback_url"] is None
