"""/api/v1/customers: suggested joins decided by agents, verification codes, and an
integration's verified identity joining profiles."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import Customer, CustomerJoin
from kefu.services.customers import joins
from tests import factories


def _pair_for(db, agent_group):
    a = factories.make_customer(db, name="陈晨", phone="13711112222")
    b = factories.make_customer(db, name="陈晨 短信", identities=[("sms", "+86 137 1111 2222")])
    for customer in (a, b):
        factories.make_ticket(db, customer=customer, group=agent_group)
    joins.sweep(db, utcnow())
    db.commit()
    return a, b


def test_an_agent_lists_and_confirms_a_suggestion(db, client_for) -> None:
    group = factories.make_group(db)
    agent = factories.make_user(db, role="agent", groups=[group])
    a, b = _pair_for(db, group)
    client = client_for(agent)
    [suggestion] = client.get(f"/api/v1/customers/{a.id}/join-suggestions").json()
    assert suggestion["other_customer_id"] == b.id
    assert suggestion["join"]["evidence"]["other_proof"] in {"sender", "typed"}
    done = client.post(f"/api/v1/customers/joins/{suggestion['join']['id']}/confirm")
    assert done.status_code == 200 and done.json()["state"] == "joined"
    again = client.post(f"/api/v1/customers/joins/{suggestion['join']['id']}/dismiss")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "customer_join_decided"
    db.expire_all()
    assert db.get(Customer, b.id).merged_into_id == a.id


def test_an_agent_who_cannot_see_both_gets_404_and_nothing_changes(db, client_for) -> None:
    group = factories.make_group(db)
    a, b = _pair_for(db, group)
    outsider = client_for(factories.make_user(db, role="agent"))
    [row] = db.scalars(select(CustomerJoin))
    for action in ("confirm", "dismiss"):
        answer = outsider.post(f"/api/v1/customers/joins/{row.id}/{action}")
        assert answer.status_code == 404
    db.expire_all()
    assert db.get(CustomerJoin, row.id).state == "suggested"


def test_verification_codes(db, api) -> None:
    customer = factories.make_customer(db, name="赵敏")
    phone = api.post(
        f"/api/v1/customers/{customer.id}/verifications",
        json={"kind": "phone", "value": "139-0000-3333"},
    )
    assert phone.status_code == 201
    assert phone.json()["code_to_tell"].isdigit()
    mail = api.post(
        f"/api/v1/customers/{customer.id}/verifications",
        json={"kind": "email", "value": "zhao@example.com"},
    )
    assert mail.status_code == 201 and mail.json()["code_to_tell"] is None
    bad = api.post(
        f"/api/v1/customers/{customer.id}/verifications", json={"kind": "email", "value": "nope"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_email"


def test_a_number_a_person_ticked_as_verified_joins_nothing(db, api) -> None:
    """Only proof joins: an agent's or admin's "verified" tick is a claim like any other."""
    older = factories.make_customer(db, name="孙丽")
    newer = factories.make_customer(db, name="孙丽 微信")
    for customer, number in ((older, "13600004444"), (newer, "+86 136 0000 4444")):
        answer = api.patch(
            f"/api/v1/customers/{customer.id}",
            json={"identities": [{"channel": "sms" if customer is newer else "phone",
                                  "external_id": number, "verified": True}]},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
    joins.sweep(db, utcnow())
    db.commit()
    assert [j.state for j in db.scalars(select(CustomerJoin))] == ["suggested"]
    db.expire_all()
    assert db.get(Customer, newer.id).merged_into_id is None


def test_an_integration_binds_a_phone_to_a_wechat_follower_and_profiles_join(
    db, integration
) -> None:
    """The company's member system knows the mobile bound to a WeChat follower: a proven contact.
    The web-chat profile whose site signed the same number is the same customer."""
    from kefu.domain.customer_joins import ContactKind, Proof

    chatting = factories.make_customer(db, name="网页用户")
    joins.record_verified_contact(
        db, chatting.id, ContactKind.PHONE, "13811110000", Proof.SIGNED_CLAIM
    )
    db.commit()
    follower = factories.make_customer(db, name="微信粉丝", identities=[("wechat", "oFollower-1")])
    bound = integration.post(
        "/api/v1/contact-bindings",
        json={"channel": "wechat", "external_id": "oFollower-1", "phone": "+86 138 1111 0000"},
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["customer_id"] == chatting.id and len(bound.json()["joined"]) == 1
    db.expire_all()
    assert db.get(Customer, follower.id).merged_into_id == chatting.id
    unknown = integration.post(
        "/api/v1/contact-bindings",
        json={"channel": "wechat", "external_id": "oNobody", "phone": "13811110000"},
    )
    assert unknown.status_code == 404
    short = integration.post(
        "/api/v1/contact-bindings",
        json={"channel": "wechat", "external_id": "oFollower-1", "phone": "123"},
    )
    assert short.status_code == 422 and short.json()["error"]["code"] == "invalid_phone"
    empty = integration.post(
        "/api/v1/contact-bindings", json={"channel": "wechat", "external_id": "oFollower-1"}
    )
    assert empty.status_code == 422
