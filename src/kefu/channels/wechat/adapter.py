"""The WeChat adapter: an agent's or the bot's reply sent as a customer-service message, or,
past the 48-hour window, as the account's template message (the outbox target says which).

The target (services/outbound/enqueue.py): ``{"account_id", "openid"}`` and ``"template": true``
for a template message. What WeChat's answer means: errcode 0 — sent (its msgid kept for a
template message); 45015 (the customer last wrote more than 48 hours ago) and 45047 (too many
messages since) — permanent, with that reason; other errcodes — permanent, except "busy" and the
daily quota; an HTTP 5xx, a timeout or no connection — temporary. A token WeChat refuses is
refreshed once and the call tried again (channels/wechat/client.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from kefu.channels.base import DeliveryFailed, OutboundDelivery, SendResult
from kefu.channels.wechat.client import Fetch, WechatApi, WechatApiError
from kefu.db.base import utcnow
from kefu.db.engine import writer_bind
from kefu.db.models import WechatAccount
from kefu.domain.delivery import DeliveryState
from kefu.domain.tickets import Channel
from kefu.services.infra.outbound_urls import OutboundGuard, guard_of, outbound_client
from kefu.services.wechat.accounts import AccountKeys, keys_of
from kefu.services.wechat.tokens import TokenStore


class WechatAccounts:
    """What the adapter and the media fetcher share: the accounts' keys, an HTTP client and the
    token store. ``sessions`` may be readers' sessions: the store writes through a writer's."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        secret_key: str,
        *,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = utcnow,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.sessions = sessions
        self.guard = guard or guard_of()
        self.secret_key = secret_key
        self.timeout = timeout
        self._http = http
        self.clock = clock
        self._store: TokenStore | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = outbound_client(self.timeout)
        return self._http

    @property
    def store(self) -> TokenStore:
        if self._store is None:
            with self.sessions() as session:
                bind = session.get_bind()
            writers = sessionmaker(bind=writer_bind(bind), expire_on_commit=False)  # type: ignore[arg-type]
            self._store = TokenStore(writers, self.secret_key, self.clock, reads=self.sessions)
        return self._store

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def keys(self, account_id: object) -> AccountKeys | None:
        if not isinstance(account_id, int):
            return None
        with self.sessions() as session:
            account = session.get(WechatAccount, account_id)
            return keys_of(account, self.secret_key) if account is not None else None

    def api(self, account: AccountKeys) -> WechatApi:
        store = self.store

        def tokens(fetch: Fetch, stale: str | None) -> str:
            return store.token(account.id, fetch, stale=stale)

        return WechatApi(
            self.http, base_url=account.api_base_url, app_id=account.app_id,
            app_secret=account.app_secret, tokens=tokens, guard=self.guard,
        )  # fmt: skip


class WechatAdapter:
    channel = Channel.WECHAT.value

    def __init__(self, accounts: WechatAccounts) -> None:
        self.accounts = accounts

    def close(self) -> None:
        self.accounts.close()

    def send(self, delivery: OutboundDelivery) -> SendResult:
        target = delivery.target
        account = self.accounts.keys(target.get("account_id"))
        openid = target.get("openid")
        if account is None or not isinstance(openid, str) or not openid:
            raise DeliveryFailed("the WeChat account or follower is gone", permanent=True)
        if not account.enabled or not account.app_secret:
            raise DeliveryFailed(
                "the WeChat account is disabled or has no AppSecret", permanent=True
            )
        text = _text_of(delivery)
        api = self.accounts.api(account)
        started = time.monotonic()
        try:
            if target.get("template"):
                if not account.template_id:
                    raise DeliveryFailed("the account has no template message set", permanent=True)
                answer = api.send_template(openid, account.template_id, text)
            else:
                answer = api.send_text(openid, text)
        except WechatApiError as e:
            took = time.monotonic() - started
            raise DeliveryFailed(f"{e.reason} ({took:.1f} s)", permanent=not e.temporary) from e
        msgid = answer.get("msgid")
        return SendResult(DeliveryState.SENT, external_ref=str(msgid) if msgid else None)


def _text_of(delivery: OutboundDelivery) -> str:
    """The reply's text; its files named (WeChat's text message carries no attachment)."""
    names = [f"[附件] {a.filename}" for a in delivery.attachments]
    return "\n".join([delivery.text, *names]) if names else delivery.text
