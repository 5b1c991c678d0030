"""Alerts of social listening: a new mention joins the open alert of its burst or, when its topic
or the whole stream spikes (domain/social_spikes.py) or it carries a crisis signal, raises a new
one — told at once to supervisors and admins in the workspace and by e-mail through the outbox.

Checks run one at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite has one
writer anyway), so two mentions of one burst arriving together make one alert, not two.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry, SocialAlert, SocialMention, User
from kefu.domain import social_spikes as rule
from kefu.domain.notices import Notice
from kefu.domain.priority import RISK_NAMES_ZH
from kefu.domain.roles import Role
from kefu.domain.social_spikes import AlertKind, Spike
from kefu.domain.triage_labels import Category
from kefu.errors import NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.events import notices
from kefu.services.outbound.notices import enqueue_mail_notice
from kefu.services.social import counts

NOTICE_KIND = "social.alert"
MAX_MENTION_IDS = 500  # an alert lists its first mentions; its count goes on
_LOCK_KEY = 0x6B6566755F736F63  # "kefu_soc": one lock for every alert check

TOPIC_NAMES_ZH = {
    Category.LOGISTICS: "物流配送",
    Category.QUALITY: "商品质量",
    Category.RETURN_REFUND: "退换货",
    Category.PRICE_BILLING: "价格费用",
    Category.ORDER_PAYMENT: "订单支付",
    Category.ACCOUNT_PRIVACY: "账户隐私",
    Category.SERVICE: "服务态度",
    Category.PRODUCT_INFO: "售前咨询",
    Category.OTHER: "其他",
}


def check_mention(
    session: Session, mention: SocialMention, *, now: datetime, mail: bool = True
) -> list[SocialAlert]:
    """The alerts ``mention`` raised (new ones only; joining one raises nothing); ``mail``
    False: they are told in the workspace only."""
    _serialize(session)
    raised: list[SocialAlert] = []
    if mention.risks:
        raised += _crisis(session, mention, now, mail)
    alerted = _alerted_topics(session, now)
    if mention.category in alerted:
        _join(_latest(session, AlertKind.SPIKE_TOPIC, mention.category, now), mention, now)
    else:
        spike = _assess(session, now, topic=mention.category)
        if spike is not None:
            raised.append(
                _raise(session, AlertKind.SPIKE_TOPIC, mention.category, spike, now, mail)
            )
            alerted.add(mention.category)
    if mention.category not in alerted:
        overall = _latest(session, AlertKind.SPIKE_OVERALL, None, now)
        if overall is not None:
            _join(overall, mention, now)
        else:
            spike = _assess(session, now, without=alerted)
            if spike is not None:
                raised.append(_raise(session, AlertKind.SPIKE_OVERALL, None, spike, now, mail))
    return raised


def _serialize(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _latest(
    session: Session, kind: AlertKind, topic: str | None, now: datetime
) -> SocialAlert | None:
    """The alert of (kind, topic) a mention at ``now`` joins, if any."""
    query = select(SocialAlert).where(SocialAlert.kind == kind.value)
    query = query.where(
        SocialAlert.topic.is_(None) if topic is None else SocialAlert.topic == topic
    )
    alert = session.scalar(query.order_by(SocialAlert.created_at.desc()).limit(1))
    if alert is None or not rule.joins_alert(kind, alert.created_at, now):
        return None
    return alert


def _alerted_topics(session: Session, now: datetime) -> set[str]:
    since = now - rule.COOLDOWN
    rows = session.scalars(
        select(SocialAlert.topic)
        .where(
            SocialAlert.kind == AlertKind.SPIKE_TOPIC.value,
            SocialAlert.created_at >= since,
        )
        .distinct()
    )
    return {t for t in rows if t is not None}


def _join(alert: SocialAlert | None, mention: SocialMention, now: datetime) -> None:
    if alert is None or mention.id in alert.mention_ids:
        return
    if len(alert.mention_ids) < MAX_MENTION_IDS:
        alert.mention_ids = [*alert.mention_ids, mention.id]
    alert.count += 1
    alert.negative_count += int(mention.negative)
    alert.negative_share = alert.negative_count / alert.count
    alert.last_mention_at = max(alert.last_mention_at, now)
    alert.window_end = max(alert.window_end, now)
    if mention.risks:
        alert.risks = sorted({*alert.risks, *mention.risks})


def _scope(topic: str | None, without: Iterable[str]) -> list[Any]:
    if topic is not None:
        return [SocialMention.category == topic]
    excluded = list(without)
    return [SocialMention.category.not_in(excluded)] if excluded else []


def _assess(
    session: Session, now: datetime, *, topic: str | None = None, without: Iterable[str] = ()
) -> Spike | None:
    """The spike of one topic, or (``topic`` None) of the stream without the topics ``without``
    — unless one topic is behind the stream's rise."""
    edges = rule.window_edges(now)
    since = session.scalar(select(func.min(SocialMention.posted_at)))
    windows = counts.per_window(session, edges, *_scope(topic, without))
    current, previous = rule.split(windows, edges, since)
    spike = rule.assess(current, previous)
    if spike is None or topic is not None:
        return spike
    topics = {}
    for name, windows in counts.per_window_by_topic(session, edges, *_scope(None, without)).items():
        topic_now, topic_before = rule.split(windows, edges, since)
        topics[name] = (topic_now, rule.Baseline.of(topic_before))
    return None if rule.topic_behind(current, spike.baseline, topics) else spike


def _window_mention_ids(
    session: Session, now: datetime, topic: str | None, without: Iterable[str]
) -> list[int]:
    return list(
        session.scalars(
            select(SocialMention.id)
            .where(
                SocialMention.posted_at > now - rule.WINDOW,
                SocialMention.posted_at <= now,
                *_scope(topic, without),
            )
            .order_by(SocialMention.id)
            .limit(MAX_MENTION_IDS)
        )
    )


def _raise(
    session: Session,
    kind: AlertKind,
    topic: str | None,
    spike: Spike,
    now: datetime,
    mail: bool,
) -> SocialAlert:
    without = _alerted_topics(session, now) if topic is None else ()
    alert = SocialAlert(
        kind=kind.value,
        topic=topic,
        window_start=now - rule.WINDOW,
        window_end=now,
        count=spike.current.count,
        negative_count=spike.current.negative,
        negative_share=spike.current.negative_share,
        baseline_mean=spike.baseline.mean,
        baseline_spread=spike.baseline.spread,
        baseline_negative_share=spike.baseline.negative_share,
        reasons=rule.reasons(spike),
        risks=[],
        mention_ids=_window_mention_ids(session, now, topic, without),
        last_mention_at=now,
        created_at=now,
    )
    session.add(alert)
    session.flush()
    _tell(session, alert, mail=mail)
    return alert


def _crisis(
    session: Session, mention: SocialMention, now: datetime, mail: bool
) -> list[SocialAlert]:
    open_alert = _latest(session, AlertKind.CRISIS, None, now)
    if open_alert is not None:
        _join(open_alert, mention, now)
        return []
    alert = SocialAlert(
        kind=AlertKind.CRISIS.value,
        topic=None,
        window_start=now,
        window_end=now,
        count=1,
        negative_count=int(mention.negative),
        negative_share=float(mention.negative),
        reasons=list(mention.risk_reasons.values())[:5],
        risks=sorted(mention.risks),
        mention_ids=[mention.id],
        last_mention_at=now,
        created_at=now,
    )
    session.add(alert)
    session.flush()
    _tell(session, alert, mail=mail)
    return [alert]


# --- telling supervisors and admins ---------------------------------------------------------


def headline(alert: SocialAlert) -> str:
    """One line for the notice and the mail's subject (Chinese, like every notice)."""
    if alert.kind == AlertKind.CRISIS:
        risks = "、".join(RISK_NAMES_ZH.get(r, r) for r in alert.risks)  # type: ignore[call-overload]
        return f"舆情危机预警：社交平台出现{risks or '危机'}信号"
    if alert.kind == AlertKind.SPIKE_TOPIC:
        name = TOPIC_NAMES_ZH.get(alert.topic, alert.topic) if alert.topic else ""  # type: ignore[call-overload]
        return f"舆情预警：「{name}」话题 1 小时内 {alert.count} 条提及"
    return f"舆情预警：社交平台提及量突增，1 小时内 {alert.count} 条"


def _recipients(session: Session) -> list[User]:
    roles = (Role.SUPERVISOR.value, Role.ADMIN.value)
    return list(
        session.scalars(
            select(User).where(User.role.in_(roles), User.is_active.is_(True)).order_by(User.id)
        )
    )


def _tell(session: Session, alert: SocialAlert, *, mail: bool) -> None:
    people = _recipients(session)
    body = "；".join([headline(alert), *alert.reasons])
    notices.write(session, [Notice(u.id, None, NOTICE_KIND, body[:500]) for u in people])
    addresses = [u.email for u in people if u.email]
    if addresses and mail:
        enqueue_alert_mail(session, alert, addresses)


def enqueue_alert_mail(
    session: Session, alert: SocialAlert, addresses: list[str]
) -> OutboxEntry | None:
    """The alert by e-mail to ``addresses``, queued in the caller's transaction as a staff
    notice (services/outbound/notices.py: sent from the default mailbox)."""
    lines = [headline(alert), "", *alert.reasons]
    lines += [
        "",
        f"提及数：{alert.count}，其中负面 {alert.negative_count} 条",
        "请到「舆情」页查看并处理。",
    ]
    return enqueue_mail_notice(
        session, to=addresses, subject=headline(alert), text="\n".join(lines)
    )


# --- the alert history ----------------------------------------------------------------------


def access_alert(session: Session, actor: Actor, alert_id: int) -> SocialAlert:
    """The alert, for supervisors and admins; 404 for anyone else or a missing one."""
    require_listener(actor)
    alert = session.get(SocialAlert, alert_id)
    if alert is None:
        raise NotFound("social_alert")
    return alert


def require_listener(actor: Actor) -> None:
    """Social listening is for supervisors and admins (agents work the cases it makes)."""
    if actor.is_integration or not (actor.is_system or actor.role in (Role.SUPERVISOR, Role.ADMIN)):
        raise PermissionDenied()


def do_acknowledge(session: Session, actor: Actor, alert: SocialAlert, *, note: str) -> SocialAlert:
    """Mark the alert handled, with what was done; a later acknowledgement replaces the note."""
    require_listener(actor)
    before = {"acknowledged_at": alert.acknowledged_at, "note": alert.note}
    alert.acknowledged_by_id = actor.user_id
    alert.acknowledged_at = utcnow()
    alert.note = note.strip()[:2000] or None
    session.flush()
    audit.record(
        session, actor, "social_alert.acknowledge", object_type="social_alert",
        object_id=alert.id, before=before,
        after={"acknowledged_at": alert.acknowledged_at, "note": alert.note},
    )  # fmt: skip
    return alert


def list_alerts(session: Session, actor: Actor, *, limit: int = 50) -> list[SocialAlert]:
    require_listener(actor)
    return list(
        session.scalars(
            select(SocialAlert).order_by(SocialAlert.created_at.desc(), SocialAlert.id.desc())
            .limit(limit)
        )
    )  # fmt: skip


def open_alert_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SocialAlert)
            .where(SocialAlert.acknowledged_at.is_(None))
        )
        or 0
    )
