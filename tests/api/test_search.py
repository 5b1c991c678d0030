"""/api/v1/search: Chinese full-text search through the API, as the agent workspace uses it."""

from __future__ import annotations

import pytest

from tests import factories
from tests.checks import api_error


def _search(client, q, **params):
    response = client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def _marked(snippet):
    return [snippet["text"][s:e] for s, e in snippet["spans"]]


def test_a_word_finds_a_longer_word_with_the_match_marked(api, db):
    ticket = factories.make_ticket(db, text="快递员把包裹扔在门口", subject="包裹破损")
    factories.make_ticket(db, text="想换个颜色", subject="换货")
    [hit] = _search(api, "快递")["items"]
    assert (hit["kind"], hit["id"], hit["ticket_id"]) == ("ticket", ticket.id, ticket.id)
    assert _marked(hit["snippet"]) == ["快递"]
    assert hit["matched_messages"] == 1 and _marked(hit["messages"][0]["snippet"]) == ["快递"]


@pytest.mark.parametrize("query", ["快遞員", "ｋｕａｉｄｉ 快递员", "快递员"])
def test_traditional_and_full_width_queries_find_simplified_text(api, db, query):
    ticket = factories.make_ticket(db, text="kuaidi 快递员说已经签收了", subject="未收到")
    assert [h["id"] for h in _search(api, query)["items"]] == [ticket.id]


def test_traditional_text_is_found_by_a_simplified_query(api, db, integration):
    posted = integration.post("/api/v1/inbound", json={
        "channel": "web", "external_id": "tw-1", "sender": {"external_id": "tw-buyer", "name": "陳小姐"},
        "text": "請問我的訂單什麼時候發貨？",
    })  # fmt: skip
    assert posted.status_code == 201, posted.text
    [hit] = _search(api, "订单 发货", kind="message")["items"]
    assert hit["id"] == posted.json()["message_id"]
    assert _marked(hit["snippet"]) == ["訂單", "發貨"]
    [customer] = _search(api, "陈小姐", kind="customer")["items"]
    assert customer["id"] == posted.json()["customer_id"]


def test_order_and_phone_numbers_are_found_exactly(api, db):
    owner = factories.make_customer(db, name="周先生", phone="13912345678")
    order = factories.make_ticket(db, customer=owner, text="订单 SO20240101-001 少发了一件")
    for n in range(4):
        factories.make_ticket(db, text=f"订单 SO20240101-00{n + 2}，电话1391234{n:04d}")
    hits = _search(api, "SO20240101-001")["items"]
    assert [(h["kind"], h["id"]) for h in hits] == [("ticket", order.id)]
    hits = _search(api, "13912345678", kind=["customer", "ticket"])["items"]
    assert [(h["kind"], h["id"]) for h in hits] == [("customer", owner.id)]
    assert _search(api, "1391234")["items"] == []  # part of a phone number: no flood


def test_an_agent_finds_nothing_she_may_not_see(client_for, db):
    ours, theirs = factories.make_group(db), factories.make_group(db)
    agent = client_for(factories.make_user(db, groups=[ours]))
    secret_customer = factories.make_customer(db, name="机密客户")
    secret = factories.make_ticket(db, group=theirs, customer=secret_customer, text="机密的退款")
    factories.make_reply(db, secret, "机密退款已处理")
    mine = factories.make_ticket(db, group=ours, text="普通的退款")
    everything = {"kind": ["ticket", "message", "customer"]}
    found = {(h["kind"], h["id"]) for h in _search(agent, "退款", **everything)["items"]}
    assert found == {("ticket", mine.id), ("message", mine.messages[0].id)}
    assert _search(agent, "机密", **everything)["items"] == []


def test_the_tickets_list_q_filter_uses_the_index(api, db):
    ticket = factories.make_ticket(db, text="空调外机噪音很大", subject="噪音")
    factories.make_ticket(db, text="别的事", subject="咨询")
    response = api.get("/api/v1/tickets", params={"q": "噪聲"})  # traditional 声
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    response = api.get("/api/v1/tickets", params={"q": "外機"})
    assert [t["id"] for t in response.json()["items"]] == [ticket.id]


def test_pages_come_with_a_cursor(api, db):
    made = {factories.make_ticket(db, text=f"第{n}次问保修").id for n in range(5)}
    first = _search(api, "保修", limit=2)
    second = _search(api, "保修", limit=2, cursor=first["next_cursor"])
    third = _search(api, "保修", limit=2, cursor=second["next_cursor"])
    seen = [h["id"] for page in (first, second, third) for h in page["items"]]
    assert sorted(seen) == sorted(made) and third["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": ""}, 422, "query_empty"),
        ({"q": "   "}, 422, "query_empty"),
        ({"q": "退" * 1000}, 422, "query_too_long"),
        ({"q": "退" * 1001}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"q": "退款", "kind": "order"}, 422, "validation_error"),
        ({"q": "退款", "limit": 0}, 422, "validation_error"),
        ({"q": "退款", "cursor": "not-a-cursor"}, 400, "invalid_cursor"),
    ],
)
def test_bad_input_is_a_clear_4xx(api, params, status, code):
    api_error(api.get("/api/v1/search", params=params), status, code)


@pytest.mark.parametrize("query", ["！？。…", "😡😡", "'\"\\*():-", "AND OR NOT", "NEAR(a b)"])
def test_punctuation_and_query_syntax_find_nothing_or_plain_words(api, db, query):
    factories.make_ticket(db, text="！！！？？？ 😡")
    body = _search(api, query)
    assert body == {"items": [], "next_cursor": None}
