"""The OpenAPI document integrators generate clients from: readable, unique names throughout."""

from __future__ import annotations

from collections import Counter

METHODS = {"get", "post", "put", "patch", "delete"}


def test_schema_names_are_unique_and_readable(anon):
    response = anon.get("/openapi.json")
    assert response.status_code == 200
    names = list(response.json()["components"]["schemas"])
    # FastAPI qualifies a name with its module path (kefu__api__cases__X) when two models share it.
    assert [name for name in names if "__" in name] == []
    assert {"TicketTimelineEntry", "CustomerTimelineEntry"} <= set(names)


def test_every_operation_has_a_unique_operation_id_and_a_summary(anon):
    paths = anon.get("/openapi.json").json()["paths"]
    operations = [
        (method, path, operation)
        for path, item in paths.items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(operations) > 50
    ids = Counter(operation.get("operationId") for _, _, operation in operations)
    assert [name for name, count in ids.items() if count > 1 or not name] == []
    assert [(m, p) for m, p, operation in operations if not operation.get("summary")] == []
