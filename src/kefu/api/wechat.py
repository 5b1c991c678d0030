"""The WeChat Official Account callback, ``/api/v1/channels/wechat/{key}`` (the URL pasted into
the account's console; services/wechat/callback.py does the work).

- ``GET``: URL verification; the echostr back when the signature verifies.
- ``POST``: a follower's message or event; "success" or the passive reply (XML, encrypted in
  safe mode). A forged or stale signature gets 401 and nothing is stored.

Public (WeChat signs, nobody logs in), rate-limited per account and address, and self-admitted
to the database (it waits for intake's writer instead of holding a connection).
"""

from __future__ import annotations

import functools
import time
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import PlainTextResponse, Response

from kefu.api.access import ANYONE, allow
from kefu.api.client_address import client_address
from kefu.channels.wechat.adapter import WechatAdapter
from kefu.db.base import utcnow
from kefu.errors import NotFound
from kefu.services.infra.ratelimit import RateLimiter, connect_redis
from kefu.services.wechat import accounts, callback, media
from kefu.services.wechat.accounts import AccountKeys
from kefu.settings import Settings

router = APIRouter(tags=["channels"])
PREFIX = "/api/v1/channels/wechat/"
Param = Annotated[str, Query(max_length=2000)]


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if getattr(state, "wechat_limiter", None) is None:
        settings: Settings = state.settings
        state.wechat_limiter = RateLimiter(
            settings.wechat_callbacks_per_minute, 60, redis=connect_redis(settings.redis_url)
        )
    limiter: RateLimiter = state.wechat_limiter
    return limiter


async def _account(request: Request, key: str) -> AccountKeys:
    settings: Settings = request.app.state.settings
    peer = client_address(request, settings.trusted_proxy_networks)
    _limiter(request).require(f"wechat:{key[:40]}:{peer}")
    found: AccountKeys | None = await request.app.state.webchat.read(
        functools.partial(accounts.account_by_key, key=key, secret_key=settings.secret_key)
    )
    if found is None:
        raise NotFound("wechat_account")
    return found


@router.get(
    "/channels/wechat/{key}",
    response_class=PlainTextResponse,
    summary="WeChat URL verification",
    **allow(*ANYONE),
)
async def verify_url(
    key: str, request: Request, signature: Param = "", timestamp: Param = "", nonce: Param = "",
    echostr: Param = "", msg_signature: Param = "",
) -> PlainTextResponse:  # fmt: skip
    account = await _account(request, key)
    query = callback.Query(signature, timestamp, nonce, echostr, msg_signature=msg_signature)
    return PlainTextResponse(callback.verify_url(account, query, time.time()))


@router.post(
    "/channels/wechat/{key}", summary="A WeChat follower's message or event", **allow(*ANYONE)
)
async def receive(
    key: str, request: Request, background: BackgroundTasks, signature: Param = "",
    timestamp: Param = "", nonce: Param = "", encrypt_type: Param = "", msg_signature: Param = "",
) -> Response:  # fmt: skip
    account = await _account(request, key)
    query = callback.Query(signature, timestamp, nonce, "", encrypt_type, msg_signature)
    answer = await callback.answer_callback(
        request.app.state.webchat, request.app.state.intake, account, query,
        await request.body(), now=utcnow(),
        passive_seconds=request.app.state.settings.wechat_passive_reply_seconds,
    )  # fmt: skip
    adapter = request.app.state.adapters.get("wechat")
    if answer.media_id is not None and isinstance(adapter, WechatAdapter):
        settings: Settings = request.app.state.settings
        storage = media.Storage(settings.attachments_dir, settings.max_attachment_bytes)
        fetch = functools.partial(
            media.fetch_due, request.app.state.session_factories.write, adapter.accounts,
            storage, utcnow, external_id=answer.media_id,
        )  # fmt: skip
        background.add_task(anyio.to_thread.run_sync, fetch)
    if answer.xml:
        return Response(answer.body, media_type="application/xml; charset=utf-8")
    return PlainTextResponse(answer.body)
