import pytest
from starlette.testclient import TestClient

from kefu import __version__
from kefu.app import create_app
from kefu.settings import Settings


def test_health_and_docs(anon):
    health = anon.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "version": __version__, "database": "ok"}
    assert anon.get("/docs").status_code == 200
    spec = anon.get("/openapi.json").json()
    assert (
        "/api/v1/inbound" in spec["paths"] and "/api/v1/tickets/{ticket_id}/claim" in spec["paths"]
    )
    assert "客服" in anon.get("/", follow_redirects=True).text  # the sign-in page


PRODUCTION_KEY = "a-production-key-for-the-docs-test-0123456789"


@pytest.mark.parametrize(
    ("env", "public", "served"),
    [("production", None, False), ("production", True, True), ("test", None, True),
     ("test", False, False)],
)  # fmt: skip
def test_the_api_description_is_served_only_on_purpose(env, public, served, tmp_path):
    """Production hides /docs and /openapi.json unless KEFU_PUBLIC_API_DOCS=true; the app still
    describes itself (app.openapi(), for tests and for an admin exporting it)."""
    app = create_app(Settings(env=env, public_api_docs=public, secret_key=PRODUCTION_KEY,
                              data_dir=tmp_path / "data"))  # fmt: skip
    client = TestClient(app, base_url="https://kefu.example.cn")  # no lifespan: no database
    for path in ("/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect"):
        status = client.get(path).status_code
        assert status == (200 if served and path != "/redoc" else 404), path
    assert "/api/v1/inbound" in app.openapi()["paths"]
