from kefu import __version__


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
