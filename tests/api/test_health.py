from kefu import __version__


def test_health_and_docs(anon):
    assert anon.get("/healthz").json() == {"status": "ok", "version": __version__}
    assert anon.get("/docs").status_code == 200
    spec = anon.get("/openapi.json").json()
    assert (
        "/api/v1/inbound" in spec["paths"] and "/api/v1/tickets/{ticket_id}/claim" in spec["paths"]
    )
    assert "客服" in anon.get("/").text
