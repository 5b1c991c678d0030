"""Every periodic job of kefu, listed in one place.

A job is one round of an idempotent sweep over deadline columns ("the database is the
clock"): it finds what is due, handles it in transactions of its own and returns counts for
the log. Its logic lives in ``services/`` (the SLA sweep: ``services/sla/clocks.py``, the outbox:
``services/outbound/``); this module only names the jobs and how often they run. Every job is
safe with several workers at once on PostgreSQL (rows are taken with ``FOR UPDATE SKIP
LOCKED``), so ``kefu worker`` may run on as many machines as needed; on SQLite ``kefu serve``
runs them itself (``jobs/runner.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kefu.channels.base import Adapters
from kefu.nlp.analysis import Analyzer, analyzer
from kefu.settings import Settings

Counts = Mapping[str, int]
JOB_WATCH_SECONDS = 60.0
RETENTION_SECONDS = 6 * 3600.0  # periods are days: four rounds a day are plenty


@dataclass(frozen=True)
class JobContext:
    """What a job's round needs: sessions (one transaction each), the clock and the settings."""

    sessions: Callable[[], Session]
    now: Callable[[], datetime]
    settings: Settings
    analysis: Callable[[], Analyzer] = analyzer  # the analyzer messages are read with (intake's)
    adapters: Adapters | None = None  # the process's outbound adapters (None: made for the round)


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds between rounds
    run: Callable[[JobContext], Counts]
    summary: str = ""


def _sla_sweep(context: JobContext) -> Counts:
    from kefu.services.sla.clocks import SweepSettings, sweep_until_done

    settings = SweepSettings(reassign_on_breach=context.settings.sla_reassign_on_breach)
    return asdict(sweep_until_done(context.sessions, context.now, settings))


def _analysis_retry(context: JobContext) -> Counts:
    from kefu.services.cases.loop import intake_rules
    from kefu.services.intake.analysis_retry import retry_until_done

    window = intake_rules(context.settings).repeat_window
    return asdict(
        retry_until_done(context.sessions, context.analysis, context.now, repeat_window=window)
    )


def _outbox_sweep(context: JobContext) -> Counts:
    """The safety net under the relays (services/outbound/service.py): whatever a wake-up missed
    or a dead relay left behind, delivered by the same code."""
    from kefu.channels.adapters import close_adapters, process_adapters
    from kefu.services.outbound.service import relay_for

    adapters = context.adapters or process_adapters(context.settings, context.sessions)
    relay = relay_for(context.sessions, adapters, context.settings, role="sweep")
    try:
        return asdict(relay.run_until_idle())
    finally:
        relay.close()
        if context.adapters is None:
            close_adapters(adapters)


def _chat_offers(context: JobContext) -> Counts:
    from kefu.services.webchat import offers
    from kefu.services.webchat.visitors import forget_expired_nonces

    report = offers.offer_until_done(
        context.sessions, context.now, offers.rules_of(context.settings)
    )
    with context.sessions() as session:
        forgotten = forget_expired_nonces(session, context.now())
        session.commit()
    return {**asdict(report), "nonces_forgotten": forgotten}


def _order_lookups(context: JobContext) -> Counts:
    from kefu.services.fields.orders import OrderLookupClient, lookup_due

    client = OrderLookupClient.of(context.settings)
    try:
        return lookup_due(context.sessions, client, context.now())
    finally:
        client.close()


def _bot_idle(context: JobContext) -> Counts:
    from kefu.services.bot.service import sweep_idle

    with context.sessions() as session:
        counts = sweep_idle(session, context.now())
        session.commit()
    return counts


def _customer_joins(context: JobContext) -> Counts:
    from kefu.services.customers.joins import sweep_until_done

    return sweep_until_done(context.sessions, context.now, secret_key=context.settings.secret_key)


def _mail_poll(context: JobContext) -> Counts:
    """Mailboxes read by polling (their server has no IDLE, or no IDLE loop runs): a mailbox an
    IDLE loop holds is skipped (its lease)."""
    from kefu.services.mail.fetch import Fetcher, fetcher_name

    # One name for the polling job of this process, apart from its IDLE loops' names (the lease
    # keeps them apart), and the same from round to round (a round that could not release a
    # lease, the database away, takes it back in the next).
    fetcher = Fetcher(
        context.sessions, context.settings, now=context.now, owner=fetcher_name("poll")
    )
    return fetcher.fetch_all().counts()


def _webhook_receipts(context: JobContext) -> Counts:
    from kefu.services.webhooks.inbound import forget_old_receipts

    with context.sessions() as session:
        forgotten = forget_old_receipts(session, context.now())
        session.commit()
    return {"forgotten": forgotten}


def _wechat_media(context: JobContext) -> Counts:
    from kefu.channels.wechat.adapter import WechatAccounts, WechatAdapter
    from kefu.services.wechat.media import Storage, fetch_due

    adapter = context.adapters.get("wechat") if context.adapters else None
    accounts = (
        adapter.accounts
        if isinstance(adapter, WechatAdapter)
        else WechatAccounts(context.sessions, context.settings.secret_key)
    )
    storage = Storage(context.settings.attachments_dir, context.settings.max_attachment_bytes)
    try:
        return fetch_due(context.sessions, accounts, storage, context.now)
    finally:
        if adapter is None:
            accounts.close()


def _social_feeds(context: JobContext) -> Counts:
    from kefu.services.social.feeds import FeedReader, poll_due

    reader = FeedReader.of(context.settings)
    report = poll_due(
        context.sessions, reader, context.now, max_posts=context.settings.social_feed_max_posts
    )
    return report.counts()


def _surveys(context: JobContext) -> Counts:
    from kefu.services.surveys.send import Links, send_until_done

    links = Links(context.settings.secret_key, context.settings.public_url)
    return send_until_done(context.sessions, context.now, links)


def _automations(context: JobContext) -> Counts:
    from kefu.services.automations import lifecycle, timing

    with context.sessions() as session:  # the team's timing as admins set it, read once a run
        policy = timing.current(session, context.settings).lifecycle()
    return asdict(lifecycle.sweep_until_done(context.sessions, context.now, policy))


def _kpi_rollup(context: JobContext) -> Counts:
    from kefu.services.analytics.rollup import refresh_until_done

    return refresh_until_done(context.sessions)


def _qa_reviews(context: JobContext) -> Counts:
    from kefu.services.qa.reviews import sweep_until_done

    return asdict(sweep_until_done(context.sessions, context.now))


def _retention(context: JobContext) -> Counts:
    from kefu.services.actors import SYSTEM
    from kefu.services.retention import policy, sweep

    with context.sessions() as session:  # the periods as admins set them, read once a run
        periods = policy.current(session)
    root = context.settings.attachments_dir
    return sweep.run(context.sessions, policy=periods, now=context.now(), actor=SYSTEM,
                     attachments_root=root)  # fmt: skip


def _job_watch(context: JobContext) -> Counts:
    """The other jobs' last successes checked; a stalled one told to the admins once."""
    from kefu.domain.job_stalls import StallRule
    from kefu.services.infra.job_runs import alert_stalled

    settings = context.settings
    watched = [
        (j.name, j.every, j.summary) for j in periodic_jobs(settings) if j.name != "job_watch"
    ]
    rule = StallRule(settings.job_stall_factor, settings.job_stall_min_seconds)
    return {"alerted": len(alert_stalled(context.sessions, watched, rule, context.now()))}


def periodic_jobs(settings: Settings) -> list[Job]:
    """The jobs to run, in order."""
    return [
        Job("sla", settings.sla_sweep_seconds, _sla_sweep,
            "SLA: deadlines, warnings at 80 %, breaches escalated; routes the shared queue"),
        Job("analysis", settings.sla_sweep_seconds, _analysis_retry,
            "messages whose analysis failed, analyzed again with a growing delay"),
        Job("outbox", settings.outbox_poll_seconds, _outbox_sweep,
            "outbound messages a relay's wake-up missed or a stopped relay left, delivered"),
        Job("chat_offers", settings.chat_offer_sweep_seconds, _chat_offers,
            "web chats: an offer not taken in time goes to the next agent; waiting chats offered"),
        Job("orders", settings.sla_sweep_seconds, _order_lookups,
            "orders: a new order number's order fetched from the shop's system"),
        Job("bot_idle", settings.sla_sweep_seconds, _bot_idle,
            "the answering bot: conversations the customer left end (to the agents, or resolved)"),
        Job("customer_joins", settings.sla_sweep_seconds, _customer_joins,
            "one customer: new e-mail and phone identities compared, joins made or suggested"),
        Job("mail", settings.mail_poll_seconds, _mail_poll,
            "e-mail: mailboxes without IMAP IDLE polled; new mail stored, then taken in"),
        Job("webhook_receipts", 3600, _webhook_receipts,
            "webhooks: the event ids taken more than 30 days ago forgotten"),
        Job("wechat_media", settings.sla_sweep_seconds, _wechat_media,
            "WeChat: pictures and voices of customer messages fetched into attachments"),
        Job("social_feeds", settings.social_feed_sweep_seconds, _social_feeds,
            "social listening: feeds whose time has come polled through the outbound URL guard"),
        Job("surveys", settings.sla_sweep_seconds, _surveys,
            "surveys and follow-ups fallen due sent: inline in web chat, by link, on WeChat"),
        Job("automations", settings.automation_sweep_seconds, _automations,
            "automations: resolved cases closed, waiting customers nudged, time triggers fired"),
        Job("kpi_rollup", settings.sla_sweep_seconds, _kpi_rollup,
            "KPI figures: the cases changed since the last round rolled up again (per day)"),
        Job("qa_reviews", settings.sla_sweep_seconds, _qa_reviews,
            "quality review: each case resolved (a complaint archived) reviewed and scored"),
        Job("retention", RETENTION_SECONDS, _retention,
            "personal data past its retention period erased or deleted, audited with counts"),
        Job("job_watch", JOB_WATCH_SECONDS, _job_watch,
            "monitoring: a job without a successful round for too long told to the admins"),
    ]  # fmt: skip
