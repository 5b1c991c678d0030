"""/api/v1/social: supervisors read mentions and alerts, make cases and acknowledge alerts;
agents are refused; the filters and pages hold."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kefu.db.base import utcnow
from tests import factories
from tests.services.social.helpers import NEGATIVE_LOGISTICS, post, send

# Alerts queue mail to supervisors: the relays are held meanwhile (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("held_outbox")


def test_supervisors_read_filter_and_act_on_mentions_and_alerts(db, client_for):
    now = utcnow()
    made = [
        send(db, post(NEGATIVE_LOGISTICS[k % 3], at=now - timedelta(minutes=30 - k)), at=now)
        for k in range(5)
    ]
    praise = send(db, post("客服小姐姐很耐心，点赞", at=now, platform="xiaohongshu"), at=now)
    api = client_for(factories.make_user(db, role="supervisor"))

    page = api.get("/api/v1/social/mentions").json()
    assert [m["id"] for m in page["items"]] == [praise, *reversed(made)]
    assert page["next_before"] is None
    negative = api.get("/api/v1/social/mentions", params={"negative": True}).json()["items"]
    assert [m["id"] for m in negative] == list(reversed(made))
    assert all(m["category"] == "logistics" and m["negative"] for m in negative)
    assert [m["id"] for m in api.get(
        "/api/v1/social/mentions", params={"platform": "xiaohongshu"}
    ).json()["items"]] == [praise]  # fmt: skip
    older = api.get("/api/v1/social/mentions", params={"before": made[2]}).json()["items"]
    assert [m["id"] for m in older] == [made[1], made[0]]

    [alert] = api.get("/api/v1/social/alerts").json()
    assert (alert["kind"], alert["topic"], alert["count"]) == ("spike_topic", "logistics", 5)
    done = api.post(f"/api/v1/social/alerts/{alert['id']}/acknowledge", json={"note": "已处理"})
    assert done.status_code == 200 and done.json()["note"] == "已处理"
    assert done.json()["acknowledged_at"] is not None

    case = api.post(f"/api/v1/social/mentions/{made[0]}/case")
    assert case.status_code == 200
    again = api.post(f"/api/v1/social/mentions/{made[0]}/case")
    assert again.json() == case.json()
    ticket = api.get(f"/api/v1/tickets/{case.json()['ticket_id']}").json()
    assert ticket["channel"] == "social"


def test_agents_and_bad_input_are_refused(db, client_for):
    mention = send(db, post(NEGATIVE_LOGISTICS[0], at=utcnow()), at=utcnow())
    agent = client_for(factories.make_user(db, role="agent"))
    assert agent.get("/api/v1/social/mentions").status_code == 403
    assert agent.post(f"/api/v1/social/mentions/{mention}/case").status_code == 403
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    assert supervisor.get("/api/v1/social/mentions", params={"platform": "x"}).status_code == 422
    assert supervisor.post("/api/v1/social/mentions/999999/case").status_code == 404
    refused = supervisor.post("/api/v1/social/alerts/1/acknowledge", json={"note": "x" * 2001})
    assert refused.status_code == 422


def test_a_signed_social_webhook_becomes_a_mention_once(db, client_for, anon):
    """The whole way in: a Standard Webhooks post of a source (api/webhooks.py) to social
    listening, in the receiver's documented body; the same event again stores nothing new."""
    from tests.api.test_webhooks import _post, _source

    admin = client_for(factories.make_user(db, role="admin"))
    source = _source(admin, ["social.post", "social.comment"], key="weibo-listen")
    event = {"type": "social.post", "data": {
        "platform": "weibo", "id": "wb-77", "author_handle": "小红", "author_name": "小红",
        "text": "快递一个星期还没到，差评！", "url": "https://weibo.com/1/wb-77"}}  # fmt: skip
    taken = _post(anon, "weibo-listen", source["secret"], event, msg_id="evt_77")
    assert taken.status_code == 200, taken.text
    mention_id = taken.json()["mention_id"]
    again = _post(anon, "weibo-listen", source["secret"], event, msg_id="evt_77")
    assert again.status_code == 200
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    [mention] = supervisor.get("/api/v1/social/mentions").json()["items"]
    assert mention["id"] == mention_id and mention["source"] == f"webhook:{source['id']}"
    assert (mention["author_handle"], mention["category"]) == ("小红", "logistics")
