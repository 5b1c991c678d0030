"""POST /api/v1/inbound: intake, idempotency on (channel, external_id), raw payload first."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from kefu.db.models import Attachment, AuditEvent, Customer, InboundPayload, Message, Ticket

QUESTION = "请问周末可以上门安装吗？"  # an inquiry: its case takes the short path


def _payload(
    external_id: str = "msg-1",
    sender: str = "wx-openid-1",
    text: str = "我的快递五天了还没到，到底怎么回事？",
    **extra,
):
    return {
        "channel": "api",
        "external_id": external_id,
        "sender": {"external_id": sender, "name": "王小明"},
        "text": text,
        **extra,
    }


def test_inbound_creates_customer_ticket_and_message(integration, api, db):
    response = integration.post("/api/v1/inbound", json=_payload())
    assert response.status_code == 201
    body = response.json()
    ticket = db.get(Ticket, body["ticket_id"])
    assert ticket.status == "new"
    assert ticket.subject.startswith("我的快递五天了")
    message = db.get(Message, body["message_id"])
    assert (message.direction, message.author_type, message.external_id) == (
        "inbound",
        "customer",
        "msg-1",
    )
    assert db.get(Customer, body["customer_id"]).name == "王小明"


def test_redelivery_returns_same_ids_and_stores_nothing_new(integration, api, db):
    first = integration.post("/api/v1/inbound", json=_payload()).json()

    def counts():
        return [
            db.scalar(select(func.count()).select_from(m))
            for m in (Message, Ticket, Customer, InboundPayload, AuditEvent)
        ]

    before = counts()
    again = integration.post("/api/v1/inbound", json=_payload())
    assert again.status_code == 200
    assert again.json() == {**first, "duplicate": True}
    db.rollback()  # end the read snapshot to see what the server committed
    assert counts() == before


def test_concurrent_redeliveries_make_one_message(integration, api, db):
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: integration.post("/api/v1/inbound", json=_payload("same")), range(8))
        )
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["message_id"] for r in results}) == 1
    assert db.scalar(select(func.count()).select_from(Message)) == 1


def test_raw_payload_is_stored_as_received(integration, api, db):
    raw = json.dumps(_payload("raw-1", text="包裹破损了😡！！"), ensure_ascii=False)
    response = integration.post(
        "/api/v1/inbound", content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201
    stored = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "raw-1"))
    assert stored.payload == raw
    assert stored.processed_at is not None and stored.message_id == response.json()["message_id"]


def test_follow_up_message_joins_the_open_ticket(integration, api):
    first = integration.post("/api/v1/inbound", json=_payload("m1")).json()
    second = integration.post("/api/v1/inbound", json=_payload("m2", text="还在等")).json()
    assert second["ticket_id"] == first["ticket_id"]
    assert second["customer_id"] == first["customer_id"]


def test_same_external_id_on_another_channel_is_another_message(integration, api):
    a = integration.post("/api/v1/inbound", json=_payload("x")).json()
    b = integration.post("/api/v1/inbound", json={**_payload("x"), "channel": "wechat"}).json()
    assert a["message_id"] != b["message_id"]


def test_ticket_reference_must_belong_to_the_sender(integration, api):
    mine = integration.post("/api/v1/inbound", json=_payload("a1", sender="alice")).json()
    other = integration.post(
        "/api/v1/inbound", json={**_payload("b1", sender="bob"), "ticket_id": mine["ticket_id"]}
    )
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"


def test_failed_processing_keeps_the_raw_payload(integration, api, db):
    bad = _payload(
        "att-1",
        attachments=[
            {"filename": "a.png", "content_type": "image/png", "content_base64": "@@not-base64@@"}
        ],
    )
    response = integration.post("/api/v1/inbound", json=bad)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_attachment"
    stored = db.scalar(select(InboundPayload).where(InboundPayload.external_id == "att-1"))
    assert stored is not None and stored.error and stored.message_id is None
    assert db.scalar(select(func.count()).select_from(Message)) == 0
    # The sender fixes the payload and redelivers: it is processed now.
    good = _payload(
        "att-1",
        attachments=[
            {"filename": "a.txt", "content_type": "text/plain", "content_base64": "5L2g5aW9"}
        ],
    )
    assert integration.post("/api/v1/inbound", json=good).status_code == 201
    db.rollback()  # end the read snapshot to see what the server committed
    assert (
        db.scalar(select(InboundPayload).where(InboundPayload.external_id == "att-1")).error is None
    )


def test_attachment_is_stored_and_downloadable(integration, api):
    body = _payload(
        "f1",
        attachments=[
            {
                "filename": "../../etc/发票.txt",
                "content_type": "text/plain",
                "content_base64": "5L2g5aW9",
            }
        ],
    )
    accepted = integration.post("/api/v1/inbound", json=body).json()
    ticket = api.get(f"/api/v1/tickets/{accepted['ticket_id']}").json()
    attachment = ticket["messages"][0]["attachments"][0]
    assert attachment["filename"] == "发票.txt" and attachment["size"] == 6
    download = api.get(attachment["url"])
    assert download.status_code == 200
    assert download.content == "你好".encode()
    assert download.headers["x-content-type-options"] == "nosniff"


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


def test_attachment_names_lose_control_characters_and_the_type_follows_the_bytes(
    integration, api, db
):
    """Regression: right-to-left overrides, zero-width characters and CR/LF were stored and
    returned, and the client's content type was stored whatever the bytes were."""
    body = _payload(
        "f2",
        attachments=[
            {
                "filename": "发票\u202egnp.exe\u200b\r\n",
                "content_type": "text/html",
                "content_base64": base64.b64encode(PNG).decode(),
            }
        ],
    )
    accepted = integration.post("/api/v1/inbound", json=body)
    assert accepted.status_code == 201, accepted.text
    ticket = api.get(f"/api/v1/tickets/{accepted.json()['ticket_id']}").json()
    attachment = ticket["messages"][0]["attachments"][0]
    assert (attachment["filename"], attachment["content_type"]) == ("发票gnp.exe", "image/png")
    db.rollback()
    stored = db.get(Attachment, attachment["id"])
    assert (stored.filename, stored.content_type) == ("发票gnp.exe", "image/png")

    download = api.get(attachment["url"])
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "application/octet-stream"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8gnp.exe" in disposition
    assert disposition.isascii() and "\r" not in disposition and "\n" not in disposition


def test_empty_message_is_rejected(integration, api):
    response = integration.post("/api/v1/inbound", json=_payload(text="   "))
    assert response.status_code == 422


def test_html_is_sanitized(integration, api):
    body = _payload(
        "h1",
        html='<p onclick="x()">你好<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>',
    )
    accepted = integration.post("/api/v1/inbound", json=body).json()
    html = api.get(f"/api/v1/tickets/{accepted['ticket_id']}").json()["messages"][0]["body_html"]
    assert "<script" not in html and "onclick" not in html and "javascript:" not in html
    assert "你好" in html


def test_first_messages_at_once_from_a_new_sender_make_one_customer_and_one_ticket(
    integration, api, db
):
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(
                lambda i: integration.post(
                    "/api/v1/inbound", json=_payload(f"burst-{i}", sender="new-sender")
                ),
                range(6),
            )
        )
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    assert len({r.json()["customer_id"] for r in results}) == 1
    assert len({r.json()["ticket_id"] for r in results}) == 1
    assert db.scalar(select(func.count()).select_from(Message)) == 6


def test_messages_at_once_to_a_closed_case_reopen_it_once(integration, api, db):
    first = integration.post(
        "/api/v1/inbound", json=_payload("k-0", sender="known", text=QUESTION)
    ).json()
    assert (
        api.patch(f"/api/v1/tickets/{first['ticket_id']}", json={"status": "closed"}).status_code
        == 200
    )
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(
                lambda i: integration.post(
                    "/api/v1/inbound", json=_payload(f"k-{i + 1}", sender="known", text=QUESTION)
                ),
                range(6),
            )
        )
    assert [r.status_code for r in results] == [201] * 6
    assert {r.json()["ticket_id"] for r in results} == {
        first["ticket_id"]
    }  # within the reopen window
    ticket = api.get(f"/api/v1/tickets/{first['ticket_id']}").json()
    assert (
        ticket["status"] == "open" and ticket["reopen_count"] == 1 and ticket["closed_at"] is None
    )


def test_messages_at_once_after_the_reopen_window_open_one_linked_case(integration, api, db):
    first = integration.post(
        "/api/v1/inbound", json=_payload("w-0", sender="known-late", text=QUESTION)
    ).json()
    assert (
        api.patch(f"/api/v1/tickets/{first['ticket_id']}", json={"status": "closed"}).status_code
        == 200
    )
    closed = db.get(Ticket, first["ticket_id"])
    closed.resolved_at -= timedelta(days=8)
    db.commit()
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(
                lambda i: integration.post(
                    "/api/v1/inbound",
                    json=_payload(f"w-{i + 1}", sender="known-late", text=QUESTION),
                ),
                range(6),
            )
        )
    assert [r.status_code for r in results] == [201] * 6
    tickets = {r.json()["ticket_id"] for r in results}
    assert len(tickets) == 1 and first["ticket_id"] not in tickets
    (new_id,) = tickets
    links = api.get(f"/api/v1/tickets/{new_id}/links").json()
    assert [(link["ticket_id"], link["kind"], link["direction"]) for link in links] == [
        (first["ticket_id"], "follow_up", "earlier")
    ]
    assert api.get(f"/api/v1/tickets/{first['ticket_id']}").json()["reopen_count"] == 0


def test_more_requests_at_once_than_pool_connections_all_complete(integration, api, db, engine):
    """Requests beyond what the connection pool holds queue at the database gate and all
    complete; none waits for a connection while holding the event loop."""
    from kefu.db.engine import database_slots

    n = database_slots(engine) + 20
    with ThreadPoolExecutor(n) as pool:
        results = list(
            pool.map(
                lambda i: integration.post(
                    "/api/v1/inbound", json=_payload(f"flood-{i}", sender=f"s{i}")
                ),
                range(n),
            )
        )
    assert [r.status_code for r in results] == [201] * n
    assert db.scalar(select(func.count()).select_from(Message)) == n


def test_crisis_message_makes_the_ticket_p1_with_its_reason(integration, api, db):
    calm = integration.post(
        "/api/v1/inbound",
        json=_payload("c-1", sender="crisis", text="你好，想问一下这款耳机支持降噪吗？"),
    ).json()
    ticket = api.get(f"/api/v1/tickets/{calm['ticket_id']}").json()
    assert (ticket["priority"], ticket["risks"], ticket["intent"]) == ("P4", [], "inquiry")
    first = ticket["messages"][0]["analysis"]
    assert first["risks"] == [] and first["priority"] == "P4" and first["engine"]

    angry = integration.post(
        "/api/v1/inbound",
        json=_payload("c-2", sender="crisis", text="再不处理我就发微博曝光你们，还要打12315！"),
    )
    assert angry.status_code == 201 and angry.json()["ticket_id"] == calm["ticket_id"]
    ticket = api.get(f"/api/v1/tickets/{calm['ticket_id']}").json()
    assert ticket["priority"] == "P1"
    assert ticket["risks"] == ["media", "regulator"]
    assert (
        ticket["priority_reason"].startswith("P1")
        and "「再不处理我就发微博曝光你们,还要打12315!」" in ticket["priority_reason"]
    )
    assert ticket["emotion"] == "angry" and ticket["sentiment"] == "negative"
    analysis = ticket["messages"][1]["analysis"]
    assert analysis["risks"] == ["media", "regulator"] and analysis["priority"] == "P1"
    why = {e["field"]: e for e in analysis["explanations"]}
    assert why["risks.media"]["span"] == "再不处理我就发微博曝光你们,还要打12315!"
    assert why["priority"]["reason"].startswith("P1")

    # The ticket list shows it too.
    listed = {t["id"]: t for t in api.get("/api/v1/tickets").json()["items"]}[calm["ticket_id"]]
    assert (listed["priority"], listed["risks"]) == ("P1", ["media", "regulator"]) and listed[
        "priority_reason"
    ]

    # The trail says who raised it and why; a later calm message lowers nothing.
    trail = [
        e
        for e in api.get(f"/api/v1/tickets/{calm['ticket_id']}/audit").json()
        if e["action"] == "ticket.triage"
    ]
    assert len(trail) == 1
    assert trail[0]["before"]["priority"] == "P4" and trail[0]["before"]["risks"] == []
    assert trail[0]["after"]["priority"] == "P1"
    assert {"media", "regulator", "priority"} <= set(trail[0]["after"]["reasons"])
    integration.post("/api/v1/inbound", json=_payload("c-3", sender="crisis", text="好的谢谢"))
    ticket = api.get(f"/api/v1/tickets/{calm['ticket_id']}").json()
    assert ticket["priority"] == "P1" and ticket["risks"] == ["media", "regulator"]


def test_a_person_can_lower_the_priority_and_it_is_audited(integration, api, admin):
    body = integration.post(
        "/api/v1/inbound", json=_payload("o-1", sender="o", text="充电宝冒烟了，差点着火")
    ).json()
    url = f"/api/v1/tickets/{body['ticket_id']}"
    assert api.get(url).json()["priority"] == "P1"
    changed = api.patch(url, json={"priority": "P3"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["priority"] == "P3" and "人工调整" in changed.json()["priority_reason"]
    update = [e for e in api.get(f"{url}/audit").json() if e["action"] == "ticket.update"][-1]
    assert update["before"]["priority"] == "P1" and update["after"]["priority"] == "P3"
    # analysis raises it again when a new crisis arrives
    integration.post("/api/v1/inbound", json=_payload("o-2", sender="o", text="我要找律师起诉你们"))
    assert api.get(url).json()["priority"] == "P1"


def test_first_message_with_a_crisis_opens_a_p1_ticket(integration, api):
    body = integration.post(
        "/api/v1/inbound", json=_payload("s-1", sender="s", text="充电宝冒烟了，差点着火")
    ).json()
    ticket = api.get(f"/api/v1/tickets/{body['ticket_id']}").json()
    assert (ticket["priority"], ticket["risks"]) == ("P1", ["safety"])


def test_question_about_12315_is_not_a_crisis(integration, api):
    body = integration.post(
        "/api/v1/inbound", json=_payload("q-1", sender="q", text="请问12315是干嘛的？")
    ).json()
    assert api.get(f"/api/v1/tickets/{body['ticket_id']}").json()["priority"] == "P4"


def test_a_message_the_analyzer_cannot_read_is_stored_answered_and_flagged(settings, engine, db):
    """The analyzer raising on one message (tests/services/infra/test_intake_writer.py builds it):
    the integration still gets its ids, and the message waits for the retry."""
    from fastapi.testclient import TestClient

    from kefu.app import create_app
    from tests import factories
    from tests.services.infra.test_intake_writer import THREAT, PoisonedAnalyzer

    app = create_app(settings, engine=engine)
    poisoned = PoisonedAnalyzer()
    app.state.intake.analysis = lambda: poisoned
    headers = {"Authorization": f"Bearer {factories.make_integration(db)}"}
    with TestClient(app, headers=headers) as client:
        bad = client.post("/api/v1/inbound", json=_payload("bad-1", "p1", THREAT))
        good = client.post("/api/v1/inbound", json=_payload("good-1", "p2"))
        again = client.post("/api/v1/inbound", json=_payload("bad-1", "p1", THREAT))
    assert bad.status_code == 201, bad.text
    assert good.status_code == 201 and again.status_code == 200
    assert again.json() == {**bad.json(), "duplicate": True}
    db.rollback()
    message = db.get(Message, bad.json()["message_id"])
    assert message.body_text == THREAT and message.analysis is None
    assert message.analysis_error and message.analysis_retry_at is not None
    assert db.get(Message, good.json()["message_id"]).analysis is not None
