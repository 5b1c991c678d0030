"""Placeholder until the demo data set lands."""

from __future__ import annotations

from sqlalchemy.orm import Session

DEMO_PASSWORD = "kefu-demo-2026"  # noqa: S105 - demo accounts only
DEMO_USERS: list[tuple[str, str, str, list[str]]] = []


def load_demo(session: Session) -> bool:
    return False
