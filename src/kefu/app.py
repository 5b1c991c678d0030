"""create_app(settings): wires the database, the API routers, errors and middleware."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kefu import __version__
from kefu.api import (
    agent_status,
    analytics,
    attachments,
    auth,
    automations,
    bot,
    case_library,
    cases,
    chat_offers,
    chat_public,
    contact_bindings,
    customers,
    health,
    inbound,
    integrations,
    kb,
    macros,
    metrics,
    norms,
    notifications,
    outbox,
    password_reset,
    qa,
    receipts,
    retention,
    routing,
    scripts,
    search,
    sessions,
    sla_policies,
    social,
    suggestions,
    ticket_fields,
    tickets,
    tokens,
    two_factor,
    users,
    web_pages,
    webchat_channels,
    webhooks,
    wechat,
)
from kefu.api.access import describe_roles
from kefu.api.chat_origins import ChatOrigins
from kefu.api.database_gate import DatabaseAdmission, DatabaseGate, admission_slots
from kefu.api.errors import install_error_handlers
from kefu.api.health import DatabaseProbe
from kefu.api.limits import BodySizeLimit, RejectNulCharacters
from kefu.api.metrics import metrics_registry
from kefu.api.request_ids import RequestIds
from kefu.api.request_metrics import RequestMeters, RequestMetrics
from kefu.api.security_headers import SecurityHeaders
from kefu.api.server_timing import ServerTiming
from kefu.channels.adapters import close_adapters, process_adapters
from kefu.db.base import utcnow
from kefu.db.engine import database_slots, make_engine, make_session_factory, writer_bind
from kefu.jobs import runner
from kefu.jobs.registry import JobContext, periodic_jobs
from kefu.logs import configure_logging
from kefu.nlp.analysis import analyzer
from kefu.realtime import agent_socket, visitor_socket
from kefu.realtime.bus import make_bus
from kefu.realtime.chat_runtime import WebchatRuntime
from kefu.services.cases.loop import intake_rules
from kefu.services.events import unit_of_work as events
from kefu.services.fields.orders import OrderLookupClient
from kefu.services.infra.intake_writer import IntakeWriter
from kefu.services.infra.ratelimit import RateLimiter, connect_redis
from kefu.services.infra.token_cache import TokenCache
from kefu.services.intake.inbound import AttachmentLimits
from kefu.services.kb.feedback import KbLimits
from kefu.services.outbound import wake
from kefu.services.outbound.service import RelayService
from kefu.settings import Settings, get_settings
from kefu.web.pages import admin as web_admin
from kefu.web.pages import approvals as web_approvals
from kefu.web.pages import assets as web_assets
from kefu.web.pages import auth as web_auth
from kefu.web.pages import board as web_board
from kefu.web.pages import case_library as web_case_library
from kefu.web.pages import cases as web_cases
from kefu.web.pages import customers as web_customers
from kefu.web.pages import dashboard as web_dashboard
from kefu.web.pages import help as web_help
from kefu.web.pages import inbox as web_inbox
from kefu.web.pages import kb as web_kb
from kefu.web.pages import listening as web_listening
from kefu.web.pages import mail_originals as web_mail_originals
from kefu.web.pages import notifications as web_notifications
from kefu.web.pages import password_reset as web_password_reset
from kefu.web.pages import qa as web_qa
from kefu.web.pages import scripts as web_scripts
from kefu.web.pages import search as web_search
from kefu.web.pages import surveys as web_surveys
from kefu.web.pages import tickets as web_tickets
from kefu.web.pages import training as web_training
from kefu.web.pages import two_factor as web_two_factor

UPLOAD_PATHS = (
    "/inbound",
    "/messages",
    "/tickets",
    "/uploads",
    "/kb/import",
)
# The workspace's pages (web/pages/), after the API: "/" leads to the sign-in page.
WORKSPACE_PAGES = (
    web_assets,
    web_auth,
    web_two_factor,
    web_notifications,
    web_search,
    web_customers,
    web_admin,
    web_cases,
    web_case_library,
    web_approvals,
    web_inbox,
    web_board,
    web_dashboard,
    web_listening,
    web_qa,
    web_scripts,
    web_kb,
    web_tickets,
    web_mail_originals,
    web_training,
)
VISITOR_PATHS = ("/chat/",)  # the chat widget's calls admit themselves (realtime/chat_runtime.py)


@dataclass(frozen=True)
class SessionFactories:
    read: sessionmaker[Session]
    write: sessionmaker[Session]  # intake and sweeps: wait for row locks as long as it takes
    request_write: sessionmaker[Session]  # API requests: give up after KEFU_LOCK_TIMEOUT_SECONDS


def settle_heap() -> None:
    """What the process loaded to start (the app, its models, the catalogues) out of the cyclic
    garbage collector's sight: a full collection walked all of it, pausing whichever request
    was running for 80–110 ms (it was the slow tail of the ticket page). Objects made later are
    collected as before."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = engine or make_engine(settings.resolved_database_url)
    worker_threads = settings.worker_threads
    analysis = partial(analyzer, settings.analysis_model, accurate=settings.nlp_accurate)

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads
        await anyio.to_thread.run_sync(analysis)  # load the models now, not on the first message
        settle_heap()
        jobs = None
        if settings.sweeps_in_server:  # the embedded default: no separate `kefu worker` to run
            context = JobContext(
                running.state.session_factories.write,
                utcnow,
                settings,
                running.state.intake.analysis,
                running.state.adapters,
            )
            jobs = asyncio.create_task(
                runner.serve_loop(periodic_jobs(settings), context, running.state.admission.writer)
            )
        relay: RelayService = running.state.outbox
        if settings.outbox_relay_in_server:  # replies leave as soon as they are committed
            relay.start()
        mail_idle = None
        if settings.mail_idle_in_server:  # mail taken in as the IMAP server announces it
            from kefu.services.mail.fetch import IdleLoops

            mail_idle = IdleLoops(running.state.session_factories.write, settings)
            await anyio.to_thread.run_sync(mail_idle.start)
        yield
        if mail_idle is not None:
            await anyio.to_thread.run_sync(mail_idle.stop)
        if jobs is not None:
            jobs.cancel()
            with suppress(asyncio.CancelledError):
                await jobs
        await anyio.to_thread.run_sync(relay.stop)  # a send under way finishes first
        await running.state.intake.close()  # answer what is queued before the process ends
        close_adapters(running.state.adapters)
        running.state.order_lookups.close()
        await running.state.agent_hub.close()
        running.state.bus.close()
        running.state.database_probe.close()

    app = FastAPI(
        lifespan=lifespan,
        title="kefu",
        version=__version__,
        description="客服 — self-hosted customer service for Chinese-language teams. "
        "Authenticate with `Authorization: Bearer <token>` or the session cookie from /api/v1/auth/login.",
        # The API's description and its browsable page for integrators: on in development and
        # tests, off in production unless KEFU_PUBLIC_API_DOCS=true (app.openapi() still works).
        openapi_url="/openapi.json" if settings.api_docs_served else None,
        docs_url="/docs" if settings.api_docs_served else None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    # Committed domain events (services/events/unit_of_work.py), in memory or on Redis.
    app.state.bus = bus = make_bus(settings)
    # What a commit that queued an outbound message rings (services/outbound/wake.py).
    info = {events.BUS: bus, wake.DOORBELL: wake.Doorbell(settings.redis_url)}
    app.state.session_factories = factories = SessionFactories(
        read=make_session_factory(engine, info=info),
        write=make_session_factory(writer_bind(engine), info=info),
        request_write=make_session_factory(
            writer_bind(engine, lock_timeout=settings.lock_timeout_seconds), info=info
        ),
    )
    app.state.adapters = adapters = process_adapters(settings, factories.read, bus.publish)
    app.state.order_lookups = OrderLookupClient.of(settings)
    app.state.outbox = RelayService.from_settings(
        factories.write, adapters, settings, read_sessions=factories.read
    )
    app.state.redis = redis = connect_redis(settings.redis_url)  # /readyz pings it
    app.state.login_limiter = RateLimiter(settings.login_attempts_per_minute, 60, redis=redis)
    app.state.webhook_limiter = RateLimiter(settings.webhook_events_per_minute, 60, redis=redis)
    app.state.reset_limiter = RateLimiter(settings.password_resets_per_hour, 3600, redis=redis)
    app.state.kb_limits = KbLimits(
        settings.kb_searches_per_minute, settings.kb_votes_per_minute, redis=redis
    )

    app.state.token_cache = TokenCache(settings.token_cache_seconds)
    app.state.database_probe = DatabaseProbe(engine)
    admission = DatabaseAdmission(
        slots=admission_slots(pool_slots=database_slots(engine), worker_threads=worker_threads),
        serialize_writes=engine.dialect.name == "sqlite",
    )
    app.state.admission = admission
    app.state.intake = IntakeWriter(
        app.state.session_factories.write,
        AttachmentLimits(settings.attachments_dir, settings.max_attachment_bytes),
        admit=admission.writer,
        analysis=analysis,
        rules=intake_rules(settings),
    )
    app.state.webchat = WebchatRuntime.build(
        settings,
        read_sessions=app.state.session_factories.read,
        write_sessions=app.state.session_factories.request_write,
        admission=admission,
        intake=app.state.intake,
        bus=bus,
        redis=redis,
    )

    install_error_handlers(app)
    _document_roles(app)
    for module in (
        auth,
        sessions,
        two_factor,
        password_reset,
        tickets,
        cases,
        customers,
        search,
        users,
        tokens,
        integrations,
        ticket_fields,
        inbound,
        attachments,
        routing,
        sla_policies,
        notifications,
        outbox,
        receipts,
        agent_status,
        chat_offers,
        webchat_channels,
        norms,
        scripts,
        suggestions,
        macros,
        case_library,
        kb,
        bot,
        contact_bindings,
        social,
        webhooks,
        wechat,
        analytics,
        automations,
        qa,
        retention,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(kb.public_router, prefix="/api/v1")
    app.include_router(chat_public.router)
    app.include_router(visitor_socket.router)

    app.include_router(agent_socket.router, prefix="/api/v1")
    app.state.agent_hub = agent_socket.make_hub(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.state.metrics_registry = registry = metrics_registry(app.state, factories.read)
    app.include_router(web_pages.router)
    for page_module in WORKSPACE_PAGES:
        app.include_router(page_module.router)
    app.include_router(web_help.router)  # public: no session, so not among WORKSPACE_PAGES
    app.include_router(web_surveys.router)  # public likewise: the survey links (/s/{token})
    app.include_router(web_password_reset.router)  # public likewise: the reset links

    # Inside the body limit, so bodies are read before a request takes a database slot.
    app.add_middleware(
        DatabaseGate,
        admission=admission,
        self_admitted=frozenset({"/api/v1/inbound", *web_pages.UNGATED_PATHS}),
        self_admitted_prefixes=(*VISITOR_PATHS, web_assets.STATIC_PREFIX, wechat.PREFIX),
    )
    app.add_middleware(ChatOrigins)  # before any database slot: a refused origin takes none
    app.add_middleware(
        BodySizeLimit,
        default_limit=settings.max_body_bytes,
        upload_limit=settings.max_attachment_bytes * 2,
        upload_paths=UPLOAD_PATHS,
    )
    app.add_middleware(RejectNulCharacters)
    app.add_middleware(SecurityHeaders, hsts_seconds=settings.hsts_seconds_in_force)
    # Outside the gate and the limits: a request refused there or queued for a slot is counted
    # with the time it waited.
    app.add_middleware(RequestMetrics, meters=RequestMeters(registry))
    app.add_middleware(ServerTiming)  # the whole time kefu spent on a request
    app.add_middleware(RequestIds)  # around everything: every log line of a request has its id
    return app


def _document_roles(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_roles(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
