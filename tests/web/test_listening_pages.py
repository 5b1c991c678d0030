"""The listening page and the feeds admin page over HTTP: who may open them, what they show,
a mention made a case, an alert acknowledged, hostile text escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Notification, SocialAlert, SocialFeed, SocialMention, Ticket
from tests import factories
from tests.services.social.helpers import NEGATIVE_LOGISTICS, post, send
from tests.web.conftest import SignIn

# Alerts queue mail to supervisors: the relays are held meanwhile (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("held_outbox")


@pytest.mark.parametrize("role", ["agent", "specialist"])
def test_agents_get_no_listening_page_and_no_actions(
    db: Session, sign_in: SignIn, role: str
) -> None:
    mention_id = send(db, post("我要向12315投诉，还要找媒体曝光", at=utcnow()), at=utcnow())
    alert_id = db.scalar(select(SocialAlert.id))
    browser = sign_in(factories.make_user(db, role=role))
    assert browser.client.get("/listening").status_code == 403
    assert browser.form(f"/listening/mentions/{mention_id}/case").status_code == 403
    assert (
        browser.form(f"/listening/alerts/{alert_id}/acknowledge", {"note": "x"}).status_code == 403
    )
    assert browser.client.get("/admin/social-feeds").status_code == 403
    db.rollback()  # a fresh snapshot (SQLite keeps a read transaction's view)
    assert db.get(SocialMention, mention_id).ticket_id is None  # type: ignore[union-attr]
    assert db.get(SocialAlert, alert_id).acknowledged_at is None  # type: ignore[union-attr]


def test_the_page_shows_mentions_topics_alerts_and_makes_a_case(
    db: Session, sign_in: SignIn
) -> None:
    supervisor = factories.make_user(db, role="supervisor")
    now = utcnow()
    for k in range(6):
        at = now - timedelta(minutes=30 - k)
        send(db, post(NEGATIVE_LOGISTICS[k % 3], at=at, platform="douyin"), at=at)
    hostile = send(db, post("<script>alert(1)</script>质量太差", at=now, handle="<b>x</b>"), at=now)
    browser = sign_in(supervisor)
    page = browser.client.get("/listening")
    assert page.status_code == 200
    html = page.text
    assert 'id="listening-chart"' in html and "chart.umd.min.js" in html
    assert "物流配送" in html and "话题突增" in html  # the top topic, the alert
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html
    filtered = browser.client.get("/listening?platform=douyin&tone=negative&topic=logistics")
    assert filtered.text.count('class="mention negative"') == 6
    assert 'href="/listening"' in browser.client.get("/inbox").text  # in the navigation

    made = browser.form(f"/listening/mentions/{hostile}/case")
    assert made.status_code == 303 and made.headers["location"].startswith("/tickets/")
    db.rollback()  # a fresh snapshot (SQLite keeps a read transaction's view)
    ticket_id = db.get(SocialMention, hostile).ticket_id  # type: ignore[union-attr]
    assert made.headers["location"] == f"/tickets/{ticket_id}"
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None and ticket.channel == "social"
    assert ticket.first_response_due_at is not None

    alert_id = db.scalar(select(SocialAlert.id).where(SocialAlert.kind == "spike_topic"))
    done = browser.form(f"/listening/alerts/{alert_id}/acknowledge", {"note": "已回复抖音评论"})
    assert done.status_code == 303
    db.rollback()  # a fresh snapshot (SQLite keeps a read transaction's view)
    alert = db.get(SocialAlert, alert_id)
    assert alert is not None and alert.note == "已回复抖音评论"
    assert alert.acknowledged_by_id == supervisor.id
    assert "已回复抖音评论" in browser.client.get("/listening").text


def test_admins_add_feeds_and_private_addresses_are_refused(db: Session, sign_in: SignIn) -> None:
    admin = sign_in(factories.make_user(db, role="admin"))
    assert admin.client.get("/admin/social-feeds").status_code == 200
    refused = admin.form(
        "/admin/social-feeds",
        {
            "name": "内网",
            "url": "http://10.1.2.3/feed.json",
            "interval_minutes": "15",
            "enabled": "on",
        },
    )
    assert refused.status_code == 422 and 'id="error-url"' in refused.text
    made = admin.form(
        "/admin/social-feeds",
        {
            "name": "品牌监测",
            "url": "http://127.0.0.1:9/feed.json",
            "interval_minutes": "5",
            "enabled": "on",
        },
    )
    assert made.status_code == 303
    feed = db.scalar(select(SocialFeed))
    assert feed is not None and (feed.name, feed.interval_minutes) == ("品牌监测", 5)
    assert "品牌监测" in admin.client.get("/admin/social-feeds").text
    assert admin.client.get(f"/admin/social-feeds/{feed.id}").status_code == 200
    assert admin.form(f"/admin/social-feeds/{feed.id}/delete").status_code == 303
    db.rollback()  # a fresh snapshot (SQLite keeps a read transaction's view)
    assert db.scalar(select(SocialFeed)) is None


def test_an_alert_notice_opens_the_alert_history(db: Session, sign_in: SignIn) -> None:
    supervisor = factories.make_user(db, role="supervisor")
    send(db, post("我要向12315投诉，还要找媒体曝光", at=utcnow()), at=utcnow())
    notice = db.scalar(select(Notification).where(Notification.user_id == supervisor.id))
    assert notice is not None and notice.kind == "social.alert" and "舆情危机预警" in notice.body
    browser = sign_in(supervisor)
    assert "舆情危机预警" in browser.client.get("/notifications").text
    opened = browser.form(f"/notifications/{notice.id}/read")
    assert (opened.status_code, opened.headers["location"]) == (303, "/listening#alerts")
