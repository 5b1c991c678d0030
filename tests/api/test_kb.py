"""/api/v1/kb: editing as versions, publishing, restore, search; validation and permissions."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests import factories
from tests.checks import api_error
from tests.kb_data import publish_shelf


@pytest.fixture
def people(db, client_for):
    agent = factories.make_user(db, role="agent")
    supervisor = factories.make_user(db, role="supervisor")
    return supervisor, client_for(agent), client_for(supervisor)


NEW = {"title": "退款多久到账", "body": "退款**原路退回**，1-3 个工作日到账。", "category": "return_refund",
       "tags": ["退款", "到账"], "synonyms": ["钱什么时候退回来"]}  # fmt: skip


def test_an_editor_writes_edits_publishes_and_restores_an_article(db, people):
    supervisor, agent_api, api = people
    made = api.post("/api/v1/kb/articles", json=NEW)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert (key, made.json()["status"], made.json()["current_version"]) == ("kb-001", "draft", 1)
    assert agent_api.get(f"/api/v1/kb/articles/{key}").status_code == 404  # a draft
    edited = api.patch(
        f"/api/v1/kb/articles/{key}", json={"title": "退款到账时间", "note": "改标题"}
    )
    assert edited.json()["current_version"] == 2
    published = api.post(f"/api/v1/kb/articles/{key}/status", json={"status": "published"})
    assert published.json()["published_at"] is not None
    assert agent_api.get(f"/api/v1/kb/articles/{key}").json()["title"] == "退款到账时间"
    versions = api.get(f"/api/v1/kb/articles/{key}/versions").json()
    assert [(v["number"], v["title"], v["author_id"], v["note"]) for v in versions] == [
        (2, "退款到账时间", supervisor.id, "改标题"), (1, "退款多久到账", supervisor.id, "")]  # fmt: skip
    restored = api.post(f"/api/v1/kb/articles/{key}/restore", json={"version": 1})
    assert (restored.json()["title"], restored.json()["current_version"]) == ("退款多久到账", 3)
    listed = api.get(
        "/api/v1/kb/articles", params={"status": "published", "category": "return_refund"}
    )
    assert [a["key"] for a in listed.json()] == [key]


def test_agents_search_published_articles_and_may_not_edit(db, people):
    _, agent_api, api = people
    publish_shelf(db)
    api.post("/api/v1/kb/articles", json=NEW | {"status": "published"})
    found = agent_api.get("/api/v1/kb/search", params={"q": "退款多久能到账"}).json()
    assert found["answered"] and found["hits"][0]["title"] == "退款多久到账"
    assert found["hits"][0]["url"] == "/help/a/kb-005"
    api_error(agent_api.post("/api/v1/kb/articles", json=NEW), 403, "forbidden")
    api_error(agent_api.patch("/api/v1/kb/articles/kb-001", json={"title": "x"}), 403, "forbidden")
    api_error(agent_api.get("/api/v1/kb/export"), 403, "forbidden")
    api_error(agent_api.get("/api/v1/kb/articles/kb-404"), 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": " "}, "body"),
        ({"category": "weather"}, "category"),
        ({"status": "archived"}, "status"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": [str(i) for i in range(31)]}, "tags"),
        ({"key": "../etc"}, "key"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_a_422_and_writes_nothing(db, people, payload, field):
    *_, api = people
    answer = api.post("/api/v1/kb/articles", json=NEW | payload)
    error = api_error(answer, 422, "validation_error")
    assert field in str(error["details"])
    assert api.get("/api/v1/kb/articles").json() == []


def test_bad_edits_statuses_keys_and_queries_are_refused(db, people):
    *_, api = people
    api.post("/api/v1/kb/articles", json=NEW | {"key": "faq-1"})
    api_error(api.post("/api/v1/kb/articles", json=NEW | {"key": "faq-1"}), 409, "key_taken")
    api_error(api.patch("/api/v1/kb/articles/faq-1", json={"title": None}), 422, "validation_error")
    api_error(
        api.post("/api/v1/kb/articles/faq-1/status", json={"status": "gone"}),
        422,
        "validation_error",
    )
    api_error(api.post("/api/v1/kb/articles/faq-1/restore", json={"version": 7}), 404, "not_found")
    api_error(api.get("/api/v1/kb/search", params={"q": ""}), 422, "validation_error")
    api_error(api.get("/api/v1/kb/search", params={"q": "退" * 201}), 422, "validation_error")
    assert api.get("/api/v1/kb/articles/faq-1").json()["current_version"] == 1


def test_export_is_a_zip_of_front_matter_files(db, people):
    *_, api = people
    api.post("/api/v1/kb/articles", json=NEW)
    answer = api.get("/api/v1/kb/export")
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.namelist() == ["kb-001.md"]
    text = archive.read("kb-001.md").decode()
    assert text.startswith("---\nid: kb-001\ntitle: 退款多久到账\n") and "status: draft" in text


def test_import_takes_md_and_zip_files_all_or_nothing(db, people):
    _, agent_api, api = people
    good = "---\nid: faq-1\ntitle: 发票怎么开\n---\n在订单详情申请。\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("faq-2.md", "---\nid: faq-2\ntitle: 会员\nstatus: draft\n---\n积分。\n")
    uploads = [("files", ("faq-1.md", good.encode(), "text/markdown")),
               ("files", ("more.zip", buffer.getvalue(), "application/zip"))]  # fmt: skip
    answer = api.post("/api/v1/kb/import", files=uploads)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 2, "updated": 0, "unchanged": 0}
    broken = api.post("/api/v1/kb/import", files=[
        ("files", ("faq-1.md", good.replace("订单详情", "别处").encode(), "text/markdown")),
        ("files", ("x.md", b"---\ntitle: [\n---\nbody", "text/markdown"))])  # fmt: skip
    error = api_error(broken, 422, "invalid_kb_import")
    assert [p.split(":")[0] for p in error["details"]["problems"]] == ["x.md"]
    assert api.get("/api/v1/kb/articles/faq-1").json()["current_version"] == 1
    api_error(agent_api.post("/api/v1/kb/import", files=uploads), 403, "forbidden")
    api_error(api.post("/api/v1/kb/import", files=[("files", ("a.zip", b"nope", "application/zip"))]),
              422, "invalid_kb_import")  # fmt: skip
