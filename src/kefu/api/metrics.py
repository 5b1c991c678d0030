"""/metrics: kefu's state for Prometheus, to the configured addresses only.

Who may read it is ``KEFU_METRICS_ALLOW`` (addresses or networks; loopback by default). The
client is found as for the login limits (api/client_address.py): X-Forwarded-For counts only
from ``KEFU_TRUSTED_PROXIES``. Anyone else gets 404, as if there were nothing here.

The request counters and the socket, intake and pool gauges are this process's; the backlog and
lag gauges are read from the database at scrape time, each with one indexed query (a ``MIN``
over an index or a count of the few rows an index finds), so a scrape stays cheap at a million
tickets. Every process answers the same database figures: scrape each for its own counters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kefu.api.client_address import Network, client_address
from kefu.db.base import utcnow
from kefu.db.models import JobRun, Mailbox, Message, OutboxEntry, Survey, Ticket
from kefu.db.models.analytics import kpi_stale
from kefu.domain.delivery import DeliveryState

log = logging.getLogger(__name__)

router = APIRouter()

BACKLOG_STATES = (DeliveryState.QUEUED.value, DeliveryState.FAILED.value)


def may_read_metrics(address: str, allowed: Sequence[Network]) -> bool:
    """Whether ``address`` (a client's, as found) is inside one of the ``allowed`` networks."""
    try:
        parsed: IPv4Address | IPv6Address = ip_address(address)
    except ValueError:
        return False
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped  # a dual-stack socket's ::ffff:a.b.c.d
    return any(parsed in network for network in allowed)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if not may_read_metrics(
        client_address(request, settings.trusted_proxy_networks), settings.metrics_networks
    ):
        return PlainTextResponse("Not Found", status_code=404)
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class ProcessState(Collector):
    """What this process holds now: sockets, the intake queue, the database pool."""

    def __init__(self, state: Any) -> None:
        self.state = state  # the app's state, read at scrape time

    def collect(self) -> Iterator[Metric]:
        sockets = GaugeMetricFamily(
            "kefu_open_sockets", "WebSockets open in this process", labels=("kind",)
        )
        sockets.add_metric(("agent",), self.state.agent_hub.listeners)
        sockets.add_metric(("visitor",), self.state.webchat.hub.listeners)
        yield sockets
        yield GaugeMetricFamily(
            "kefu_intake_queue",
            "Inbound messages waiting for the intake writer's next batch",
            value=self.state.intake.pending,
        )
        pool = self.state.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        if callable(checked_out):
            yield GaugeMetricFamily(
                "kefu_db_pool_checked_out",
                "Database connections of this process's pool in use",
                value=checked_out(),
            )
        if callable(size):
            yield GaugeMetricFamily(
                "kefu_db_pool_size", "Connections the pool keeps open at most", value=size()
            )


class DatabaseState(Collector):
    """Backlogs and lags read from the database at scrape time."""

    def __init__(self, sessions: Callable[[], Session], now: Callable[[], datetime] = utcnow):
        self.sessions, self.now = sessions, now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "kefu_metrics_database_up", "Whether the database answered this scrape's queries"
        )
        try:
            with self.sessions() as session:
                found = list(self._figures(session, self.now()))
        except Exception as e:  # an unreachable database: say so, and the process figures stand
            log.warning("metrics: database figures unavailable: %s", e)
            up.add_metric((), 0)
            yield up
            return
        up.add_metric((), 1)
        yield up
        yield from found

    def _figures(self, session: Session, now: datetime) -> Iterator[Metric]:
        def age(moment: datetime | None) -> float:
            return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0

        backlog = OutboxEntry.state.in_(BACKLOG_STATES)  # ix_outbox_state_next_attempt_at
        yield GaugeMetricFamily(
            "kefu_outbox_backlog",
            "Outbound messages queued or waiting for a retry",
            value=session.scalar(select(func.count()).where(backlog)) or 0,
        )
        yield GaugeMetricFamily(
            "kefu_outbox_oldest_age_seconds",
            "Age of the oldest outbound message still queued or retrying (0: none)",
            value=age(session.scalar(select(func.min(OutboxEntry.created_at)).where(backlog))),
        )

        lag = GaugeMetricFamily(
            "kefu_job_lag_seconds",
            "How long the oldest row due for a periodic job has been due (0: nothing due)",
            labels=("job",),
        )
        for job, query in _due_queries(now).items():
            lag.add_metric((job,), age(session.scalar(query)))
        yield lag

        yield GaugeMetricFamily(
            "kefu_analysis_retries_pending",
            "Messages whose analysis failed, waiting to be analyzed again",
            value=session.scalar(select(func.count()).where(Message.analysis_retry_at.is_not(None)))
            or 0,
        )

        mail = GaugeMetricFamily(
            "kefu_mail_fetch_age_seconds",
            "Time since each enabled mailbox was last read (since it was added, if never)",
            labels=("mailbox",),
        )
        mailboxes = session.execute(
            select(Mailbox.id, Mailbox.last_polled_at, Mailbox.created_at).where(
                Mailbox.enabled.is_(True)
            )
        )
        for mailbox_id, polled_at, created_at in mailboxes:
            mail.add_metric((str(mailbox_id),), age(polled_at or created_at))
        yield mail

        last = GaugeMetricFamily(
            "kefu_job_last_success_age_seconds",
            "Time since each periodic job last finished a round without failing",
            labels=("job",),
        )
        for run in session.scalars(select(JobRun).order_by(JobRun.name)):
            last.add_metric((run.name,), age(run.last_success_at))
        yield last


def _due_queries(now: datetime) -> dict[str, Select[Any]]:
    """Per job, the moment its oldest due row fell due: each a MIN over an indexed column."""
    return {
        "sla": select(func.min(Ticket.sla_check_at)).where(Ticket.sla_check_at <= now),
        "automations": select(func.min(Ticket.auto_due_at)).where(Ticket.auto_due_at <= now),
        "qa_reviews": select(func.min(Ticket.qa_due_at)).where(Ticket.qa_due_at <= now),
        "surveys": select(func.min(Survey.due_at)).where(Survey.due_at <= now),
        "analysis": select(func.min(Message.analysis_retry_at)).where(
            Message.analysis_retry_at <= now
        ),
        "outbox": select(func.min(OutboxEntry.next_attempt_at)).where(
            OutboxEntry.state.in_(BACKLOG_STATES), OutboxEntry.next_attempt_at <= now
        ),
        # Rows are marked in order: the lowest id is the oldest mark (no index on marked_at).
        "kpi_rollup": select(kpi_stale.c.marked_at).order_by(kpi_stale.c.id).limit(1),
    }


def metrics_registry(state: Any, sessions: Callable[[], Session]) -> CollectorRegistry:
    """A registry of this app's own (not the library's global one: tests make many apps)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProcessState(state))
    registry.register(DatabaseState(sessions))
    return registry
