"""/metrics: Prometheus text for the allowed addresses, 404 for everyone else."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kefu.api.metrics import may_read_metrics
from kefu.app import create_app
from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry
from kefu.settings import Settings


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_address_check():
    loopback = (ip_network("127.0.0.1"), ip_network("::1"))
    assert may_read_metrics("127.0.0.1", loopback)
    assert may_read_metrics("::1", loopback)
    assert may_read_metrics("::ffff:127.0.0.1", loopback)  # a dual-stack socket's IPv4 peer
    assert not may_read_metrics("127.0.0.2", loopback)
    assert not may_read_metrics("10.1.2.3", loopback)
    assert not may_read_metrics("unknown", loopback)
    assert not may_read_metrics("testclient", loopback)
    assert may_read_metrics("10.1.2.3", (ip_network("10.0.0.0/8"),))


def test_the_setting_is_checked_at_start():
    assert Settings().metrics_networks == (ip_network("127.0.0.1"), ip_network("::1"))
    try:
        Settings(metrics_allow="10.0.0.0/8, prometheus")
    except ValueError as e:
        assert "prometheus" in str(e)
    else:
        raise AssertionError("a typo in KEFU_METRICS_ALLOW was accepted")


def test_a_loopback_scrape_gets_the_metrics(anon: httpx.Client):
    anon.get("/healthz")
    anon.get("/api/v1/tickets/12345")  # 401: counted under its template, not its id
    answer = anon.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)
    names = {name for name, _ in found}
    for expected in (
        "kefu_http_requests_total",
        "kefu_http_request_duration_seconds_bucket",
        "kefu_outbox_backlog",
        "kefu_outbox_oldest_age_seconds",
        "kefu_job_lag_seconds",
        "kefu_analysis_retries_pending",
        "kefu_open_sockets",
        "kefu_intake_queue",
        "kefu_metrics_database_up",
    ):
        assert expected in names, expected
    assert found[("kefu_metrics_database_up", ())] == 1
    ticket = (
        "kefu_http_requests_total",
        (("method", "GET"), ("route", "/api/v1/tickets/{ticket_id}"), ("status", "4xx")),
    )
    assert found[ticket] >= 1
    assert not any("12345" in dict(labels).get("route", "") for _, labels in found)
    lags = {dict(labels)["job"] for name, labels in found if name == "kefu_job_lag_seconds"}
    assert {"sla", "automations", "qa_reviews", "surveys", "kpi_rollup", "outbox"} <= lags
    sockets = {dict(labels)["kind"] for name, labels in found if name == "kefu_open_sockets"}
    assert sockets == {"agent", "visitor"}


def test_a_request_moves_the_counter(anon: httpx.Client):
    key = (
        "kefu_http_requests_total",
        (("method", "GET"), ("route", "/healthz"), ("status", "2xx")),
    )
    before = samples(anon.get("/metrics").text).get(key, 0.0)
    anon.get("/healthz")
    anon.get("/healthz")
    assert samples(anon.get("/metrics").text)[key] == before + 2


def test_the_outbox_gauges_see_a_queued_row(anon: httpx.Client, db: Session, held_outbox: None):
    now = utcnow()
    db.add(
        OutboxEntry(
            channel="api",
            idempotency_key="metrics-test-1",
            state="queued",
            next_attempt_at=now - timedelta(seconds=60),
            created_at=now - timedelta(seconds=120),
        )
    )
    db.commit()
    found = samples(anon.get("/metrics").text)
    assert found[("kefu_outbox_backlog", ())] == 1
    assert found[("kefu_outbox_oldest_age_seconds", ())] >= 120
    assert found[("kefu_job_lag_seconds", (("job", "outbox"),))] >= 60


def test_an_address_outside_the_setting_is_refused(settings: Settings, engine: Engine):
    app = create_app(settings.model_copy(update={"metrics_allow": "10.0.0.0/8"}), engine=engine)
    refused = TestClient(app, client=("127.0.0.1", 40000)).get("/metrics")
    assert refused.status_code == 404
    assert "kefu_" not in refused.text
    allowed = TestClient(app, client=("10.2.3.4", 40000)).get("/metrics")
    assert allowed.status_code == 200 and "kefu_http_requests_total" in allowed.text


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(settings: Settings, engine: Engine):
    app = create_app(settings, engine=engine)  # loopback allowed, no trusted proxy
    spoofed = {"X-Forwarded-For": "127.0.0.1"}
    assert (
        TestClient(app, client=("203.0.113.9", 40000)).get("/metrics", headers=spoofed).status_code
        == 404
    )
    proxied = create_app(
        settings.model_copy(update={"trusted_proxies": "127.0.0.1"}), engine=engine
    )
    outside = {"X-Forwarded-For": "203.0.113.9"}  # the public proxy relaying an outsider's scrape
    assert (
        TestClient(proxied, client=("127.0.0.1", 40000))
        .get("/metrics", headers=outside)
        .status_code
        == 404
    )
