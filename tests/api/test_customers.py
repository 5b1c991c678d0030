"""/api/v1/customers: profiles, search, the cross-channel timeline, merge and undo."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from kefu.db.models import AuditEvent, Customer, CustomerMerge, Identity, Message, Ticket
from tests import factories
from tests.checks import api_error as _error


def _inbound(
    client, channel: str, sender: str, external_id: str, text: str = "你好，我想问一下订单"
) -> dict:
    response = client.post(
        "/api/v1/inbound",
        json={
            "channel": channel,
            "external_id": external_id,
            "sender": {"external_id": sender, "name": sender},
            "text": text,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _owners(db, customer_ids: list[int]) -> dict:
    """Where every identity, ticket and customer-authored message of these customers is."""
    db.rollback()  # end the read snapshot to see what the server committed
    identities = db.execute(
        select(Identity.id, Identity.customer_id).where(Identity.customer_id.in_(customer_ids))
    )
    tickets = db.execute(
        select(Ticket.id, Ticket.customer_id).where(Ticket.customer_id.in_(customer_ids))
    )
    messages = db.execute(
        select(Message.id, Message.author_customer_id).where(
            Message.author_customer_id.in_(customer_ids)
        )
    )
    merged = db.execute(
        select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(customer_ids))
    )
    return {
        "identities": dict(identities.all()),
        "tickets": dict(tickets.all()),
        "messages": dict(messages.all()),
        "merged_into": dict(merged.all()),
    }


# --- create, get, update ----------------------------------------------------------------


def test_create_with_identities_on_several_channels_and_tags(api, db, admin):
    body = {
        "name": "王小明",
        "email": "Wang.XM@Example.CN",
        "phone": "+86 138-0013-8000",
        "note": "老客户",
        "tags": ["VIP", "投诉", "VIP"],
        "identities": [
            {"channel": "wechat", "external_id": "wx-openid-1"},
            {"channel": "email", "external_id": "wang.xm@example.cn", "verified": True},
            {"channel": "phone", "external_id": "13800138000"},
        ],
    }
    response = api.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "王小明"
    assert created["email"] == "wang.xm@example.cn"
    assert created["phone"] == "+86 138-0013-8000"
    assert created["language"] == "zh-CN"
    assert created["merged_into_id"] is None
    assert sorted(created["tags"]) == ["VIP", "投诉"]
    assert [(i["channel"], i["external_id"], i["verified"]) for i in created["identities"]] == [
        ("wechat", "wx-openid-1", False),
        ("email", "wang.xm@example.cn", True),
        ("phone", "13800138000", False),
    ]
    rows = db.scalars(select(Identity).where(Identity.customer_id == created["id"])).all()
    assert len(rows) == 3
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "customer.create", AuditEvent.customer_id == created["id"]
        )
    )
    assert event.actor_id == admin.id and event.via == "token"
    assert sorted(event.after["identities"]) == [
        "email:wang.xm@example.cn",
        "phone:13800138000",
        "wechat:wx-openid-1",
    ]

    fetched = api.get(f"/api/v1/customers/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_get_unknown_customer_is_404(api):
    error = _error(api.get("/api/v1/customers/999999"), 404, "not_found")
    assert error["message"] == "客户不存在或无权访问"


def test_create_rejects_unknown_fields_and_bad_phone(api, db):
    _error(api.post("/api/v1/customers", json={"name": "甲", "vip": True}), 422, "validation_error")
    _error(
        api.post("/api/v1/customers", json={"name": "甲", "phone": "call me"}),
        422,
        "validation_error",
    )
    _error(api.post("/api/v1/customers", json={"name": "   "}), 422, "validation_error")
    assert db.scalar(select(Customer.id)) is None


def test_update_changes_fields_replaces_tags_and_adds_identities(api, db):
    customer = factories.make_customer(
        db, name="李雷", identities=[("wechat", "wx-li")], tags=["新客"]
    )
    response = api.patch(
        f"/api/v1/customers/{customer.id}",
        json={
            "name": "李雷（北京）",
            "email": "LI@example.cn",
            "tags": ["VIP", "复购"],
            "identities": [
                {"channel": "email", "external_id": "li@example.cn"},
                {"channel": "wechat", "external_id": "wx-li"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "李雷（北京）"
    assert body["email"] == "li@example.cn"
    assert sorted(body["tags"]) == ["VIP", "复购"]
    assert [(i["channel"], i["external_id"]) for i in body["identities"]] == [
        ("wechat", "wx-li"),
        ("email", "li@example.cn"),
    ]
    assert api.get(f"/api/v1/customers/{customer.id}").json() == body
    db.rollback()
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "customer.update", AuditEvent.customer_id == customer.id
        )
    )
    assert event.before["name"] == "李雷" and event.after["name"] == "李雷（北京）"
    assert "note" not in event.after  # only the fields that changed


def test_update_with_null_for_required_fields_is_refused(api, db):
    customer = factories.make_customer(db, name="韩梅梅", email="han@example.cn", tags=["VIP"])
    for field in ("name", "note", "language", "tags", "identities"):
        error = _error(
            api.patch(f"/api/v1/customers/{customer.id}", json={field: None}),
            422,
            "validation_error",
        )
        assert field in str(error["details"])
    after = api.get(f"/api/v1/customers/{customer.id}").json()
    assert (after["name"], after["tags"], after["language"]) == ("韩梅梅", ["VIP"], "zh-CN")
    # email is optional: null clears it.
    cleared = api.patch(f"/api/v1/customers/{customer.id}", json={"email": None})
    assert cleared.status_code == 200 and cleared.json()["email"] is None


def test_identity_owned_by_another_customer_is_409(api, db):
    owner = factories.make_customer(db, name="原主", identities=[("wechat", "wx-owned")])
    other = factories.make_customer(db, name="别人")

    created = api.post(
        "/api/v1/customers",
        json={
            "name": "新客户",
            "identities": [
                {"channel": "email", "external_id": "new@example.cn"},
                {"channel": "wechat", "external_id": "wx-owned"},
            ],
        },
    )
    error = _error(created, 409, "identity_taken")
    assert error["details"] == {
        "channel": "wechat",
        "external_id": "wx-owned",
        "customer_id": owner.id,
    }
    db.rollback()
    assert db.scalar(select(Customer.id).where(Customer.name == "新客户")) is None
    assert db.scalar(select(Identity.id).where(Identity.external_id == "new@example.cn")) is None

    updated = api.patch(
        f"/api/v1/customers/{other.id}",
        json={"name": "改名", "identities": [{"channel": "wechat", "external_id": "wx-owned"}]},
    )
    _error(updated, 409, "identity_taken")
    assert (
        api.get(f"/api/v1/customers/{other.id}").json()["name"] == "别人"
    )  # the whole update rolled back
    owned = api.get(f"/api/v1/customers/{owner.id}").json()["identities"]
    assert [(i["channel"], i["external_id"]) for i in owned] == [("wechat", "wx-owned")]


def test_concurrent_claims_of_one_identity_make_one_customer(api, db):
    body = {
        "name": "抢注",
        "identities": [
            {"channel": "wechat", "external_id": "wx-race"},
            {"channel": "sms", "external_id": "13300133000"},
        ],
    }
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: api.post("/api/v1/customers", json=body), range(6)))
    assert sorted(r.status_code for r in results) == [201] + [409] * 5, [r.text for r in results]
    winner = next(r.json()["id"] for r in results if r.status_code == 201)
    for response in results:
        if response.status_code == 409:
            assert _error(response, 409, "identity_taken")["details"]["customer_id"] == winner
    db.rollback()
    assert db.scalars(select(Customer.id)).all() == [winner]


def test_same_external_id_on_another_channel_is_not_taken(api, db):
    factories.make_customer(db, identities=[("wechat", "shared-id")])
    response = api.post(
        "/api/v1/customers",
        json={"name": "乙", "identities": [{"channel": "sms", "external_id": "shared-id"}]},
    )
    assert response.status_code == 201, response.text


# --- search -------------------------------------------------------------------------------


def test_search_by_name_phone_email_and_identity(api, db):
    wang = factories.make_customer(
        db,
        name="王小明",
        phone="13800138000",
        email="wang@example.cn",
        identities=[("wechat", "wx-openid-777")],
    )
    li = factories.make_customer(
        db,
        name="李小红",
        phone="13900139000",
        email="li@example.cn",
        identities=[("email", "li-alt@example.cn")],
    )
    zhao = factories.make_customer(
        db, name="赵强", phone="13700137000", identities=[("api", "crm-42")]
    )

    def ids(q: str) -> list[int]:
        response = api.get("/api/v1/customers", params={"q": q})
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()]

    assert ids("小") == [li.id, wang.id]  # name substring, newest first
    assert ids("小明") == [wang.id]
    assert ids("0013800") == [wang.id]  # phone substring
    assert ids("13700137000") == [zhao.id]
    assert ids("WANG@EXAMPLE") == [wang.id]  # email, case-insensitive
    assert ids("wx-openid-777") == [wang.id]  # identity external id
    assert ids("crm-42") == [zhao.id]
    assert ids("li-alt@") == [li.id]
    assert ids("nobody") == []
    assert sorted(ids("")) == sorted([wang.id, li.id, zhao.id])
    assert len(api.get("/api/v1/customers", params={"limit": 1}).json()) == 1


def test_search_treats_like_wildcards_literally(api, db):
    factories.make_customer(db, name="张三")
    percent = factories.make_customer(db, name="满100减50%")
    under = factories.make_customer(db, name="user_1")
    factories.make_customer(db, name="userA1")
    assert [c["id"] for c in api.get("/api/v1/customers", params={"q": "%"}).json()] == [percent.id]
    assert [c["id"] for c in api.get("/api/v1/customers", params={"q": "_"}).json()] == [under.id]
    assert [c["id"] for c in api.get("/api/v1/customers", params={"q": "r_1"}).json()] == [under.id]


def test_search_hides_merged_customers_unless_asked(api, db):
    target = factories.make_customer(db, name="周杰")
    source = factories.make_customer(db, name="周杰（重复）", identities=[("wechat", "wx-zhou")])
    assert (
        api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id}).status_code
        == 201
    )
    assert [c["id"] for c in api.get("/api/v1/customers", params={"q": "周杰"}).json()] == [
        target.id
    ]
    both = api.get("/api/v1/customers", params={"q": "周杰", "include_merged": "true"}).json()
    assert [c["id"] for c in both] == [source.id, target.id]
    assert both[0]["merged_into_id"] == target.id
    # The moved identity now finds the target.
    assert [c["id"] for c in api.get("/api/v1/customers", params={"q": "wx-zhou"}).json()] == [
        target.id
    ]


# --- timeline -----------------------------------------------------------------------------


def test_timeline_across_channels_after_merge(integration, api, db, client_for):
    wechat = _inbound(integration, "wechat", "wx-openid-a", "wx-m1", "快递五天了还没到")
    email_first = _inbound(integration, "email", "chen@example.cn", "mail-1", "邮件：我的快递呢")
    email_second = _inbound(integration, "email", "chen@example.cn", "mail-2", "邮件：还在等")
    assert email_second["ticket_id"] == email_first["ticket_id"]
    target, source = wechat["customer_id"], email_first["customer_id"]
    assert target != source
    assert (
        api.post(f"/api/v1/customers/{target}/merge", json={"source_id": source}).status_code == 201
    )

    response = api.get(f"/api/v1/customers/{target}/timeline")
    assert response.status_code == 200, response.text
    timeline = response.json()
    assert timeline["customer"]["id"] == target
    assert {(i["channel"], i["external_id"]) for i in timeline["customer"]["identities"]} == {
        ("wechat", "wx-openid-a"),
        ("email", "chen@example.cn"),
    }
    entries = timeline["tickets"]
    assert [e["ticket"]["id"] for e in entries] == [
        email_first["ticket_id"],
        wechat["ticket_id"],
    ]  # newest first
    assert [e["ticket"]["channel"] for e in entries] == ["email", "wechat"]
    assert all(e["ticket"]["customer_id"] == target for e in entries)
    assert [m["id"] for m in entries[0]["messages"]] == [
        email_first["message_id"],
        email_second["message_id"],
    ]
    assert [m["body_text"] for m in entries[0]["messages"]] == ["邮件：我的快递呢", "邮件：还在等"]
    assert [m["body_text"] for m in entries[1]["messages"]] == ["快递五天了还没到"]
    assert all(m["author_customer_id"] == target for e in entries for m in e["messages"])

    source_timeline = api.get(f"/api/v1/customers/{source}/timeline").json()
    assert source_timeline["customer"]["merged_into_id"] == target
    assert source_timeline["tickets"] == []


def test_timeline_shows_an_agent_only_the_tickets_of_their_groups(api, db, client_for):
    pre_sales, after_sales = factories.make_group(db, "售前"), factories.make_group(db, "售后")
    customer = factories.make_customer(db, identities=[("wechat", "wx-g")])
    mine = factories.make_ticket(db, customer=customer, group=pre_sales, text="售前咨询")
    theirs = factories.make_ticket(
        db, customer=customer, group=after_sales, text="退货", channel="email"
    )
    intake = factories.make_ticket(db, customer=customer, text="没分组的", channel="phone")
    agent = factories.make_user(db, role="agent", groups=[pre_sales])
    supervisor = factories.make_user(db, role="supervisor")

    seen = client_for(agent).get(f"/api/v1/customers/{customer.id}/timeline")
    assert seen.status_code == 200, seen.text
    assert [e["ticket"]["id"] for e in seen.json()["tickets"]] == [intake.id, mine.id]
    assert theirs.id not in {m["ticket_id"] for e in seen.json()["tickets"] for m in e["messages"]}

    everything = client_for(supervisor).get(f"/api/v1/customers/{customer.id}/timeline").json()
    assert [e["ticket"]["id"] for e in everything["tickets"]] == [intake.id, theirs.id, mine.id]

    # Assigned to the agent personally: visible although routed to another group.
    assert (
        api.post(f"/api/v1/tickets/{theirs.id}/assign", json={"assignee_id": agent.id}).status_code
        == 200
    )
    seen = client_for(agent).get(f"/api/v1/customers/{customer.id}/timeline").json()
    assert [e["ticket"]["id"] for e in seen["tickets"]] == [intake.id, theirs.id, mine.id]


def test_timeline_of_unknown_customer_is_404(api):
    _error(api.get("/api/v1/customers/424242/timeline"), 404, "not_found")


# --- merge and undo -----------------------------------------------------------------------


def test_merge_moves_identities_and_tickets_and_is_audited(api, db, admin):
    target = factories.make_customer(db, name="主档案", identities=[("wechat", "wx-main")])
    own_ticket = factories.make_ticket(db, customer=target, text="主档案的工单")
    source = factories.make_customer(
        db, name="重复档案", identities=[("email", "dup@example.cn"), ("sms", "13500135000")]
    )
    moved = [
        factories.make_ticket(db, customer=source, text=f"重复档案的工单{n}", channel="email")
        for n in range(2)
    ]
    source_identity_ids = [i.id for i in source.identities]

    response = api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id})
    assert response.status_code == 201, response.text
    merge = response.json()
    assert (merge["target_id"], merge["source_id"], merge["merged_by_id"]) == (
        target.id,
        source.id,
        admin.id,
    )
    assert sorted(merge["identity_ids"]) == sorted(source_identity_ids)
    assert sorted(merge["ticket_ids"]) == sorted(t.id for t in moved)
    assert merge["undone_at"] is None and merge["undone_by_id"] is None

    owners = _owners(db, [target.id, source.id])
    assert set(owners["identities"].values()) == {target.id}
    assert len(owners["identities"]) == 3
    assert owners["tickets"] == {
        own_ticket.id: target.id,
        moved[0].id: target.id,
        moved[1].id: target.id,
    }
    assert set(owners["messages"].values()) == {
        target.id
    }  # the customer's messages moved with the tickets
    assert owners["merged_into"] == {target.id: None, source.id: target.id}
    assert api.get(f"/api/v1/customers/{source.id}").json()["merged_into_id"] == target.id

    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "customer.merge")).all()
    assert len(events) == 1
    assert (
        events[0].object_type,
        events[0].object_id,
        events[0].customer_id,
        events[0].actor_id,
    ) == ("customer", target.id, target.id, admin.id)
    assert events[0].after["merge_id"] == merge["id"] and events[0].after["source_id"] == source.id
    for ticket in moved:
        trail = api.get(f"/api/v1/tickets/{ticket.id}/audit")
        assert trail.status_code == 200
        merges = [e for e in trail.json() if e["action"] == "ticket.customer_merge"]
        assert len(merges) == 1
        assert merges[0]["before"] == {"customer_id": source.id}
        assert merges[0]["after"] == {"customer_id": target.id, "merge_id": merge["id"]}
        assert merges[0]["actor_id"] == admin.id
    own_trail = api.get(f"/api/v1/tickets/{own_ticket.id}/audit").json()
    assert "ticket.customer_merge" not in [e["action"] for e in own_trail]


def test_merge_into_itself_is_refused(api, db):
    customer = factories.make_customer(db)
    error = _error(
        api.post(f"/api/v1/customers/{customer.id}/merge", json={"source_id": customer.id}),
        422,
        "merge_same_customer",
    )
    assert error["message"] == "不能把客户合并到自身"
    db.rollback()
    assert db.scalar(select(CustomerMerge.id)) is None


def test_merge_of_already_merged_customers_is_refused(api, db):
    target, source, third = (factories.make_customer(db) for _ in range(3))
    assert (
        api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id}).status_code
        == 201
    )
    _error(
        api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id}),
        409,
        "merge_already_merged",
    )
    _error(
        api.post(f"/api/v1/customers/{third.id}/merge", json={"source_id": source.id}),
        409,
        "merge_already_merged",
    )
    _error(
        api.post(f"/api/v1/customers/{source.id}/merge", json={"source_id": third.id}),
        409,
        "merge_already_merged",
    )
    _error(
        api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": 987654}),
        404,
        "not_found",
    )
    _error(
        api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": 0}),
        422,
        "validation_error",
    )
    db.rollback()
    assert len(db.scalars(select(CustomerMerge)).all()) == 1
    assert _owners(db, [third.id])["merged_into"] == {third.id: None}


def test_opposite_merges_at_once_leave_no_cycle(api, db):
    for _ in range(5):
        a, b = factories.make_customer(db), factories.make_customer(db)
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(
                    lambda pair: api.post(
                        f"/api/v1/customers/{pair[0]}/merge", json={"source_id": pair[1]}
                    ),
                    [(a.id, b.id), (b.id, a.id)],
                )
            )
        assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
        merged_into = _owners(db, [a.id, b.id])["merged_into"]
        assert merged_into in ({a.id: None, b.id: a.id}, {a.id: b.id, b.id: None})


def test_a_merged_away_customer_takes_no_new_identities(integration, api, db):
    target, source = factories.make_customer(db, name="主"), factories.make_customer(db, name="副")
    assert (
        api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id}).status_code
        == 201
    )
    refused = api.patch(
        f"/api/v1/customers/{source.id}",
        json={"identities": [{"channel": "wechat", "external_id": "wx-late"}]},
    )
    assert _error(refused, 409, "customer_merged")["details"] == {"merged_into_id": target.id}
    # A message from that identity then opens a profile that can be found, not a hidden one.
    landed = _inbound(integration, "wechat", "wx-late", "late-1")
    assert landed["customer_id"] not in (source.id, target.id)
    assert [c["id"] for c in api.get("/api/v1/customers", params={"q": "wx-late"}).json()] == [
        landed["customer_id"]
    ]


def test_undo_moves_everything_back_exactly(api, db, admin):
    target = factories.make_customer(db, name="主", identities=[("wechat", "wx-t")])
    factories.make_ticket(db, customer=target, text="主的工单")
    source = factories.make_customer(
        db, name="副", identities=[("email", "s@example.cn"), ("phone", "13600136000")]
    )
    for n in range(2):
        factories.make_ticket(db, customer=source, text=f"副的工单{n}", channel="phone")
    before = _owners(db, [target.id, source.id])

    merge = api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id}).json()
    assert _owners(db, [target.id, source.id]) != before

    undone = api.post(f"/api/v1/customers/merges/{merge['id']}/undo")
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_by_id"] == admin.id and undone.json()["undone_at"] is not None
    assert _owners(db, [target.id, source.id]) == before
    assert api.get(f"/api/v1/customers/{source.id}").json()["merged_into_id"] is None

    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "customer.unmerge")).all()
    assert [(e.customer_id, e.before) for e in events] == [(target.id, {"merge_id": merge["id"]})]
    for ticket_id in merge["ticket_ids"]:
        actions = [e["action"] for e in api.get(f"/api/v1/tickets/{ticket_id}/audit").json()]
        assert actions[-2:] == ["ticket.customer_merge", "ticket.customer_unmerge"]

    _error(api.post(f"/api/v1/customers/merges/{merge['id']}/undo"), 409, "merge_already_undone")
    assert _owners(db, [target.id, source.id]) == before
    _error(api.post("/api/v1/customers/merges/99999/undo"), 404, "not_found")
    # Undone, the two may be merged again.
    assert (
        api.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id}).status_code
        == 201
    )


def test_inbound_after_merge_lands_on_the_target(integration, api, db):
    first = _inbound(integration, "wechat", "wx-source", "wx-1", "我要退货")
    target = factories.make_customer(db, name="合并后的主档案")
    merge = api.post(
        f"/api/v1/customers/{target.id}/merge", json={"source_id": first["customer_id"]}
    ).json()

    again = _inbound(integration, "wechat", "wx-source", "wx-2", "退货进度怎么样了")
    assert again["customer_id"] == target.id
    assert again["ticket_id"] == first["ticket_id"]  # the open ticket moved with the merge
    db.rollback()
    assert db.get(Message, again["message_id"]).author_customer_id == target.id
    assert (
        db.scalar(
            select(Customer.id).where(
                Customer.name == "wx-source", Customer.id != first["customer_id"]
            )
        )
        is None
    )

    # After undo the identity, its ticket and both messages are the source's again.
    assert api.post(f"/api/v1/customers/merges/{merge['id']}/undo").status_code == 200
    third = _inbound(integration, "wechat", "wx-source", "wx-3", "还在吗")
    assert third["customer_id"] == first["customer_id"]
    assert third["ticket_id"] == first["ticket_id"]
    db.rollback()
    authors = set(
        db.scalars(
            select(Message.author_customer_id).where(Message.ticket_id == first["ticket_id"])
        )
    )
    assert authors == {first["customer_id"]}


# --- who may see and change a customer ------------------------------------------------------


def test_agent_cannot_reach_a_customer_whose_tickets_are_all_in_another_group(db, client_for):
    """Regression: any agent could read, change and open tickets for any customer."""
    pre_sales, after_sales = factories.make_group(db, "售前"), factories.make_group(db, "售后")
    agent = factories.make_user(db, role="agent", groups=[pre_sales])
    customer = factories.make_customer(db, name="售后客户", identities=[("wechat", "wx-after")])
    factories.make_ticket(db, customer=customer, group=after_sales, text="退货")
    client = client_for(agent)
    base = f"/api/v1/customers/{customer.id}"

    for response in (
        client.get(base),
        client.patch(base, json={"note": "改一下"}),
        client.get(f"{base}/timeline"),
    ):
        error = _error(response, 404, "not_found")
        assert error["message"] == "客户不存在或无权访问"
    opened = client.post("/api/v1/tickets", json={"customer_id": customer.id, "text": "来电咨询"})
    _error(opened, 404, "not_found")
    db.rollback()
    assert db.get(Customer, customer.id).note == ""
    assert db.scalar(select(Ticket.id).where(Ticket.group_id.is_(None))) is None

    # One ticket she may see (here in the shared intake queue) makes the customer hers to serve.
    factories.make_ticket(db, customer=customer, text="又来问了")
    assert client.get(base).status_code == 200
    changed = client.patch(base, json={"note": "改一下"})
    assert changed.status_code == 200 and changed.json()["note"] == "改一下"
    assert len(client.get(f"{base}/timeline").json()["tickets"]) == 1


def test_an_agent_creates_a_customer_and_opens_a_ticket_for_them(db, client_for):
    """A customer with no ticket yet (a phone call just taken) is visible to all staff."""
    pre_sales, after_sales = factories.make_group(db, "售前"), factories.make_group(db, "售后")
    agent = factories.make_user(db, role="agent", groups=[pre_sales])
    other = factories.make_user(db, role="agent", groups=[after_sales])
    client = client_for(agent)
    created = client.post("/api/v1/customers", json={"name": "来电客户"})
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    assert client.get(f"/api/v1/customers/{customer_id}").status_code == 200
    opened = client.post(
        "/api/v1/tickets",
        json={"customer_id": customer_id, "text": "电话咨询发票", "group_id": pre_sales.id},
    )
    assert opened.status_code == 201, opened.text
    # Now the customer is seen through that ticket: its group, not the other agent's.
    assert client.get(f"/api/v1/customers/{customer_id}").status_code == 200
    _error(client_for(other).get(f"/api/v1/customers/{customer_id}"), 404, "not_found")


def test_search_lists_only_the_customers_an_agent_may_see(db, client_for):
    pre_sales, after_sales = factories.make_group(db, "售前"), factories.make_group(db, "售后")
    agent = factories.make_user(db, role="agent", groups=[pre_sales])
    hidden = factories.make_customer(db, name="张三丰", identities=[("wechat", "wx-zsf")])
    factories.make_ticket(db, customer=hidden, group=after_sales)
    shown = factories.make_customer(db, name="张三", identities=[("wechat", "wx-zs")])
    factories.make_ticket(db, customer=shown, group=pre_sales)
    new = factories.make_customer(db, name="张三妹")  # no ticket yet: everyone's
    client = client_for(agent)

    assert [c["id"] for c in client.get("/api/v1/customers", params={"q": "张三"}).json()] == [
        new.id,
        shown.id,
    ]
    assert client.get("/api/v1/customers", params={"q": "wx-zsf"}).json() == []
    assert {c["id"] for c in client.get("/api/v1/customers").json()} == {new.id, shown.id}
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    assert [c["id"] for c in supervisor.get("/api/v1/customers", params={"q": "张三"}).json()] == [
        new.id,
        shown.id,
        hidden.id,
    ]


def test_an_identity_conflict_does_not_name_a_hidden_customer(db, client_for):
    pre_sales, after_sales = factories.make_group(db, "售前"), factories.make_group(db, "售后")
    agent = factories.make_user(db, role="agent", groups=[pre_sales])
    hidden = factories.make_customer(db, identities=[("wechat", "wx-hidden")])
    factories.make_ticket(db, customer=hidden, group=after_sales)
    mine = factories.make_customer(db)
    factories.make_ticket(db, customer=mine, group=pre_sales)
    body = {"identities": [{"channel": "wechat", "external_id": "wx-hidden"}]}

    error = _error(
        client_for(agent).patch(f"/api/v1/customers/{mine.id}", json=body), 409, "identity_taken"
    )
    assert error["details"]["customer_id"] is None
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    error = _error(
        supervisor.patch(f"/api/v1/customers/{mine.id}", json=body), 409, "identity_taken"
    )
    assert error["details"]["customer_id"] == hidden.id


def test_only_supervisors_and_admins_merge_and_undo(db, client_for):
    """Regression: any agent could merge any two customers and undo another's merge."""
    group = factories.make_group(db, "售前")
    agent = factories.make_user(db, role="agent", groups=[group])
    specialist = factories.make_user(db, role="specialist", groups=[group])
    supervisor = factories.make_user(db, role="supervisor")
    target = factories.make_customer(db, name="主档案")
    factories.make_ticket(db, customer=target, group=group)
    source = factories.make_customer(db, name="重复档案")
    moved = factories.make_ticket(db, customer=source, group=group)
    merge_body = {"source_id": source.id}

    for user in (agent, specialist):
        refused = client_for(user).post(f"/api/v1/customers/{target.id}/merge", json=merge_body)
        _error(refused, 403, "forbidden")
    db.rollback()
    assert db.get(Customer, source.id).merged_into_id is None

    merged = client_for(supervisor).post(f"/api/v1/customers/{target.id}/merge", json=merge_body)
    assert merged.status_code == 201, merged.text
    assert merged.json()["ticket_ids"] == [moved.id]
    merge_id = merged.json()["id"]
    for user in (agent, specialist):
        _error(client_for(user).post(f"/api/v1/customers/merges/{merge_id}/undo"), 403, "forbidden")
    undone = client_for(supervisor).post(f"/api/v1/customers/merges/{merge_id}/undo")
    assert undone.status_code == 200, undone.text


def test_a_merged_away_customer_is_seen_through_the_tickets_it_passed_on(db, client_for):
    pre_sales, after_sales = factories.make_group(db, "售前"), factories.make_group(db, "售后")
    agent = factories.make_user(db, role="agent", groups=[pre_sales])
    other = factories.make_user(db, role="agent", groups=[after_sales])
    target = factories.make_customer(db, name="主档案")
    source = factories.make_customer(db, name="重复档案")
    factories.make_ticket(db, customer=source, group=pre_sales)
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    merged = supervisor.post(f"/api/v1/customers/{target.id}/merge", json={"source_id": source.id})
    assert merged.status_code == 201, merged.text

    assert client_for(agent).get(f"/api/v1/customers/{source.id}").status_code == 200
    # Without tickets of its own it is not everyone's, as a new customer would be.
    _error(client_for(other).get(f"/api/v1/customers/{source.id}"), 404, "not_found")
