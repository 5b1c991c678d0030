"""Assertions shared by the API tests."""

from __future__ import annotations

from typing import Any


def api_error(response: Any, status: int, code: str) -> dict:
    """Assert the one error shape of the API and return its ``error`` object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]
