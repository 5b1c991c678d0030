"""Alerts from mentions against the real database: a burst raises one alert, crises at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Notification, OutboxEntry, SocialAlert, SocialMention
from kefu.services.social import alerts
from kefu.services.staff import auth
from tests import factories
from tests.services.social.helpers import NEGATIVE_LOGISTICS, NOW, post, quiet_day, send


def _alerts(db: Session) -> list[SocialAlert]:
    return list(db.scalars(select(SocialAlert).order_by(SocialAlert.id)))


def test_a_burst_of_negative_mentions_raises_one_alert_not_one_per_mention(db: Session) -> None:
    supervisor = factories.make_user(db, role="supervisor", email="lead@example.cn")
    admin = factories.make_user(db, role="admin", email="boss@example.cn")
    factories.make_user(db, role="agent")
    quiet_day(db, until=NOW)
    assert _alerts(db) == []
    burst = []
    for k in range(12):
        at = NOW - timedelta(minutes=40) + timedelta(minutes=3 * k)
        text = NEGATIVE_LOGISTICS[k % len(NEGATIVE_LOGISTICS)]
        burst.append(send(db, post(text, at=at), at=at))

    [alert] = _alerts(db)
    assert (alert.kind, alert.topic) == ("spike_topic", "logistics")
    assert alert.count == 12 and alert.negative_count == 12
    assert sorted(alert.mention_ids) == sorted(burst)
    assert alert.baseline_mean < 1.5 and alert.reasons
    # Told once: one notice per supervisor and admin, one mail to both.
    notices = db.scalars(
        select(Notification.user_id).where(Notification.kind == "social.alert")
    ).all()
    assert sorted(notices) == sorted([supervisor.id, admin.id])
    [mail] = db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice")).all()
    assert mail.channel == "email" and mail.state == "queued" and mail.ticket_id is None
    assert sorted(mail.target["to"]) == ["boss@example.cn", "lead@example.cn"]
    assert "物流配送" in mail.target["subject"] and mail.target["text"]


def test_a_burst_after_the_cooldown_raises_a_new_alert(db: Session) -> None:
    factories.make_user(db, role="supervisor")
    quiet_day(db, until=NOW - timedelta(hours=5))
    for start in (NOW - timedelta(hours=5), NOW):
        for k in range(6):
            at = start + timedelta(minutes=k)
            send(db, post(NEGATIVE_LOGISTICS[0], at=at), at=at)
    assert [a.count for a in _alerts(db)] == [6, 6]


def test_a_few_posts_in_a_quiet_hour_are_no_spike(db: Session) -> None:
    quiet_day(db, until=NOW)
    for k in range(3):
        at = NOW - timedelta(minutes=k)
        send(db, post(NEGATIVE_LOGISTICS[1], at=at), at=at)
    assert _alerts(db) == []


def test_a_crisis_mention_alerts_at_once_and_the_next_ones_join_it(db: Session) -> None:
    factories.make_user(db, role="supervisor")
    first = send(db, post("我要向12315投诉，还要找媒体曝光", at=NOW), at=NOW)
    [alert] = _alerts(db)
    assert alert.kind == "crisis" and alert.mention_ids == [first]
    assert set(alert.risks) >= {"media", "regulator"}
    later = NOW + timedelta(minutes=10)
    second = send(db, post("已经联系律师准备起诉你们", at=later), at=later)
    [alert] = _alerts(db)
    assert alert.mention_ids == [first, second] and alert.count == 2
    much_later = NOW + timedelta(hours=3)
    send(db, post("我要向12315投诉", at=much_later), at=much_later)
    assert [a.kind for a in _alerts(db)] == ["crisis", "crisis"]


def test_an_alert_is_acknowledged_with_a_note_by_supervisors_only(db: Session) -> None:
    supervisor = factories.make_user(db, role="supervisor")
    agent = factories.make_user(db, role="agent")
    send(db, post("我要向12315投诉，还要找媒体曝光", at=NOW), at=NOW)
    [alert] = _alerts(db)
    as_agent = auth.actor_for(agent, via="session")
    try:
        alerts.access_alert(db, as_agent, alert.id)
        raise AssertionError("an agent read an alert")
    except Exception as e:  # noqa: BLE001 - which refusal is checked below
        assert getattr(e, "status_code", None) == 403
    as_supervisor = auth.actor_for(supervisor, via="session")
    alerts.do_acknowledge(db, as_supervisor, alert, note="已联系博主，私信致歉")
    db.commit()
    db.refresh(alert)
    assert alert.acknowledged_by_id == supervisor.id and alert.note == "已联系博主，私信致歉"


def test_mentions_are_kept_with_their_analysis(db: Session) -> None:
    mention_id = send(db, post(NEGATIVE_LOGISTICS[0], at=NOW), at=NOW)
    mention = db.get(SocialMention, mention_id)
    assert mention is not None
    assert (mention.category, mention.sentiment, mention.negative) == (
        "logistics",
        "negative",
        True,
    )


def test_a_burst_on_one_topic_over_a_busy_stream_raises_only_its_topic_alert(
    db: Session,
) -> None:
    quiet_day(db, until=NOW, per_hour=3)
    for k in range(3):  # the current hour's ordinary mentions
        at = NOW - timedelta(minutes=55 - k)
        send(db, post("请问这款面霜适合干皮吗", at=at), at=at)
    for k in range(8):
        at = NOW - timedelta(minutes=40 - 4 * k)
        send(db, post(NEGATIVE_LOGISTICS[k % 3], at=at), at=at)
    assert [(a.kind, a.topic) for a in _alerts(db)] == [("spike_topic", "logistics")]


def test_a_rise_spread_over_topics_raises_one_overall_alert(db: Session) -> None:
    quiet_day(db, until=NOW)
    texts = ["客服态度太差了，爱理不理", "面霜用了一周就起球，质量太差", "退款申请了半个月还没到账"]
    for k in range(9):
        at = NOW - timedelta(minutes=45 - 5 * k)
        send(db, post(texts[k % 3], at=at), at=at)
    [alert] = _alerts(db)
    assert (alert.kind, alert.topic) == ("spike_overall", None)
    assert alert.count == 9 and len(alert.mention_ids) == 9  # raised at the fifth, four joined
