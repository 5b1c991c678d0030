"""/readyz: ready only when the database answers at the newest migration (and Redis, if set)."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu import __version__
from kefu.api.health import migration_heads
from kefu.app import create_app
from kefu.db.engine import make_engine
from kefu.settings import Settings


def test_ready_when_the_database_is_up(anon: httpx.Client):
    answer = anon.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "version": __version__,
        "database": "ok",
        "redis": "not configured",
    }
    assert "/readyz" not in anon.get("/openapi.json").json()["paths"]  # like /healthz


def test_not_ready_when_the_database_is_unreachable(settings: Settings):
    closed = make_engine("postgresql+psycopg://kefu@127.0.0.1:9/kefu?connect_timeout=1")
    app = create_app(settings, engine=closed)
    answer = TestClient(app).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "not ready"
    assert answer.json()["database"] in ("down", "no answer")
    assert answer.headers["Retry-After"]
    closed.dispose()


def test_not_ready_when_redis_is_unreachable(settings: Settings, engine: Engine):
    app = create_app(
        settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}), engine=engine
    )
    answer = TestClient(app).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["database"] == "ok" and answer.json()["redis"] in ("down", "no answer")


def test_not_ready_when_the_schema_is_behind(settings: Settings, engine: Engine, monkeypatch):
    [head] = migration_heads()  # where the test database stands: at the shipped head
    monkeypatch.setattr("kefu.api.health._heads", ("9999",))
    answer = TestClient(create_app(settings, engine=engine)).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["database"] == f"schema at migration {head}, expected 9999"
