"""Error shapes: malformed JSON, wrong types, unknown fields, oversize bodies, unknown ids."""

from __future__ import annotations

import warnings

import pytest

from tests import factories
from tests.checks import api_error as _error


def test_malformed_json(api):
    response = api.post(
        "/api/v1/customers",
        content='{"name": "张三",'.encode(),
        headers={"content-type": "application/json"},
    )
    _error(response, 400, "invalid_json")


def test_wrong_types_name_the_fields(api):
    error = _error(
        api.post("/api/v1/customers", json={"name": 123, "tags": "VIP"}), 422, "validation_error"
    )
    assert {tuple(d["loc"]) for d in error["details"]} == {("body", "name"), ("body", "tags")}


def test_unknown_fields_are_rejected(api):
    error = _error(
        api.post("/api/v1/customers", json={"name": "张三", "vip": True}), 422, "validation_error"
    )
    assert error["details"][0]["type"] == "extra_forbidden"


def test_oversize_body(api):
    response = api.post(
        "/api/v1/customers",
        content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert _error(response, 413, "payload_too_large")["details"] == {"limit": 1_048_576}


def test_oversize_chunked_body(api):
    def chunks():
        yield b'{"name": "'
        for _ in range(300):
            yield b"x" * 8192
        yield b'"}'

    response = api.post(
        "/api/v1/customers", content=chunks(), headers={"content-type": "application/json"}
    )
    _error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/424242",
        "/api/v1/customers/424242",
        "/api/v1/users/424242",
        "/api/v1/groups/424242",
        "/api/v1/attachments/424242",
    ],
)
def test_unknown_ids(api, path):
    _error(api.get(path), 404, "not_found")


def test_ids_out_of_range_are_validation_errors(api):
    _error(api.get("/api/v1/tickets/0"), 422, "validation_error")
    _error(api.get("/api/v1/tickets/abc"), 422, "validation_error")
    _error(api.get("/api/v1/tickets/99999999999999999999999"), 422, "validation_error")


def test_unknown_route_and_method(api):
    _error(api.get("/api/v1/nothing-here"), 404, "route_not_found")
    _error(api.put("/api/v1/tickets"), 405, "method_not_allowed")


def test_message_language_follows_accept_language(db, api):
    zh = _error(api.get("/api/v1/tickets/424242"), 404, "not_found")
    en = _error(
        api.get("/api/v1/tickets/424242", headers={"Accept-Language": "en-US,en;q=0.9"}),
        404,
        "not_found",
    )
    assert zh["message"] == "工单不存在或无权访问"
    assert en["message"] == "Ticket not found"


def test_missing_or_bad_credentials(anon):
    _error(anon.get("/api/v1/tickets"), 401, "not_authenticated")
    _error(
        anon.get("/api/v1/tickets", headers={"Authorization": "Bearer kefu_wrong"}),
        401,
        "not_authenticated",
    )
    _error(
        anon.get("/api/v1/tickets", headers={"Authorization": "Basic abc"}),
        401,
        "not_authenticated",
    )


def test_failed_request_writes_nothing(db, api):
    customer = factories.make_customer(db, name="原名")
    response = api.patch(
        f"/api/v1/customers/{customer.id}",
        json={
            "name": "新名",
            "identities": [{"channel": "wechat", "external_id": "x", "verified": "maybe"}],
        },
    )
    _error(response, 422, "validation_error")
    assert api.get(f"/api/v1/customers/{customer.id}").json()["name"] == "原名"


def test_nul_character_is_refused_with_422_not_stored(integration, api, db):
    from kefu.db.models import InboundPayload

    body = {"external_id": "nul-1", "sender": {"external_id": "s"}, "text": "订单\u0000号"}
    response = integration.post("/api/v1/inbound", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert db.query(InboundPayload).count() == 0


def test_nul_character_in_a_query_is_not_a_server_error(api):
    for path in (
        "/api/v1/tickets?q=%E8%AE%A2%00",
        "/api/v1/customers?q=%00",
        "/api/v1/tickets/1%00",
    ):
        response = api.get(path)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["code"] == "validation_error"


def test_an_unexpected_error_is_logged_with_its_stack_and_answers_only_internal_error(
    settings, engine, tmp_path, caplog
):
    with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what we have
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from kefu.app import create_app
    from kefu.settings import Settings

    app = create_app(
        Settings(env="test", data_dir=tmp_path, database_url=settings.resolved_database_url,
                 log_level="WARNING", sla_sweep_in_server=False),
        engine=engine,
    )  # fmt: skip

    @app.get("/api/v1/test-boom")
    def boom() -> None:
        raise RuntimeError("the internals\r\nFAKE LINE")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/test-boom")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "internals" not in answer.text and "Traceback" not in answer.text
    (record,) = [r for r in caplog.records if r.name == "kefu.api"]
    assert record.getMessage() == "unhandled error on GET /api/v1/test-boom"
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


# --- an unexpected error in production (ASVS V13.4.2) -------------------------------------------

SECRET_DETAIL = "boom at /etc/kefu/kefu.env KEFU_SECRET_KEY=never-shown"


def _failing_production_app(settings, engine, tmp_path):
    """A production app with two routes of this test's own that fail as a bug would."""
    from fastapi.responses import HTMLResponse

    from kefu.app import create_app
    from kefu.settings import Settings

    production = Settings(
        env="production",
        secret_key="a-production-secret-key-for-the-test",
        data_dir=tmp_path,
        database_url=settings.resolved_database_url,
        log_level="CRITICAL",
        sla_sweep_in_server=False,
    )
    app = create_app(production, engine=engine)

    def fail() -> dict[str, str]:
        raise RuntimeError(SECRET_DETAIL)

    def fail_page() -> HTMLResponse:
        raise KeyError(SECRET_DETAIL)

    app.add_api_route("/api/v1/test-failure", fail)
    app.add_api_route("/test-failure", fail_page, response_class=HTMLResponse)
    return app


def _shows_nothing_of_the_failure(text: str) -> None:
    for leak in (SECRET_DETAIL, "RuntimeError", "KeyError", "Traceback", 'File "', "test_errors"):
        assert leak not in text


def test_an_unexpected_error_in_production_answers_without_a_traceback(settings, engine, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    app = _failing_production_app(settings, engine, tmp_path)
    assert app.debug is False
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/test-failure", headers={"accept-language": "en"})
        page = client.get("/test-failure", headers={"accept": "text/html"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": {
            "code": "internal_error",
            "message": answer.json()["error"]["message"],
            "details": None,
        }
    }
    assert answer.json()["error"]["message"]
    _shows_nothing_of_the_failure(answer.text)
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text and "internal_error" in page.text
    _shows_nothing_of_the_failure(page.text)
