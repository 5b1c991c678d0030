"""WeChat's server API for one account: the access token, customer-service messages (客服消息),
template messages (模板消息) and media downloads.

The base URL is the account's (``https://api.weixin.qq.com``, or a local fake in the tests). The
token comes from a shared store (services/wechat/tokens.py) through ``tokens``; a call WeChat
answers with a token error (40001, 42001, 40014) gets a fresh token once and is tried again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from kefu.domain.outbound_urls import UrlRefused
from kefu.services.infra.outbound_urls import OutboundGuard

TOKEN_ERRORS = frozenset({40001, 42001, 40014})
# Past the 48 hours since the customer last wrote (45015), or too many messages (45047).
WINDOW_ERRORS = {
    45015: "WeChat refuses: more than 48 hours since the customer last wrote (errcode 45015)",
    45047: "WeChat refuses: too many messages since the customer last wrote (errcode 45047)",
}
BUSY_ERRORS = frozenset({-1, 45009})  # system busy; the daily call quota (tried again later)
TEMPLATE_FIELD = "content"  # the template field the reply fills ({{content.DATA}})

Fetch = Callable[[], tuple[str, int]]
Tokens = Callable[[Fetch, str | None], str]  # (how to fetch one, the refused one) → a token


class WechatApiError(Exception):
    """An answer that is not a success: a WeChat errcode, an HTTP status or no answer at all."""

    def __init__(self, reason: str, *, errcode: int | None = None, temporary: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errcode = errcode
        self.temporary = temporary


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str
    filename: str


class WechatApi:
    def __init__(
        self,
        http: httpx.Client,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        tokens: Tokens,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.http = http
        self.guard = guard  # the base URL checked again at each call (DNS rebinding)
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = tokens

    def fetch_token(self) -> tuple[str, int]:
        """A new access token from WeChat (only the token store calls this)."""
        answer = _json(
            self._request(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.app_secret,
                },
            )
        )
        _check(answer)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WechatApiError("no access_token in WeChat's answer", temporary=True)
        return token, int(answer.get("expires_in") or 7200)

    def send_text(self, openid: str, text: str) -> dict[str, Any]:
        """A customer-service text message (within 48 hours of the customer's last message)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        return self._post("/cgi-bin/message/custom/send", body)

    def send_template(self, openid: str, template_id: str, text: str) -> dict[str, Any]:
        """A template message carrying ``text`` in its ``content`` field (any time)."""
        body = {
            "touser": openid,
            "template_id": template_id,
            "data": {TEMPLATE_FIELD: {"value": text}},
        }
        return self._post("/cgi-bin/message/template/send", body)

    def get_media(self, media_id: str, *, max_bytes: int) -> Media:
        """A temporary media file (a customer's picture or voice), read no further than
        ``max_bytes`` (a larger one is refused, permanently)."""
        response = self._with_token(
            lambda token: self._request(
                "GET",
                "/cgi-bin/media/get",
                params={"access_token": token, "media_id": media_id},
                max_bytes=max_bytes,
            )
        )
        content_type = response.headers.get("content-type", "application/octet-stream")
        filename = _filename(response.headers.get("content-disposition", "")) or media_id
        return Media(response.content, content_type.split(";")[0].strip(), filename)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        response = self._with_token(
            lambda token: self._request(
                "POST",
                path,
                params={"access_token": token},
                content=data,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        )
        return _json(response)

    def _with_token(self, call: Callable[[str], httpx.Response]) -> httpx.Response:
        token = self.tokens(self.fetch_token, None)
        response = call(token)
        try:
            _check_response(response)
        except WechatApiError as e:
            if e.errcode not in TOKEN_ERRORS:
                raise
            response = call(self.tokens(self.fetch_token, token))  # once, with a fresh token
            _check_response(response)
        return response

    def _request(
        self, method: str, path: str, *, max_bytes: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        url = self.base_url + path
        if self.guard is not None:
            try:
                pinned = self.guard.pin(url)
            except UrlRefused as e:
                reason = f"the API address is refused: {e.reason}"
                raise WechatApiError(reason, temporary=e.reason == "unresolvable") from e
            url = pinned.url
            kwargs["headers"] = {**kwargs.get("headers", {}), **pinned.headers}
            kwargs["extensions"] = pinned.extensions
        try:
            response = self._read(method, url, max_bytes, **kwargs)
        except httpx.TimeoutException as e:
            raise WechatApiError(
                f"no answer from WeChat ({type(e).__name__})", temporary=True
            ) from e
        except httpx.HTTPError as e:
            raise WechatApiError(f"{type(e).__name__}: {e}", temporary=True) from e
        if response.status_code >= 500 or response.status_code == 429:
            raise WechatApiError(f"HTTP {response.status_code} from WeChat", temporary=True)
        if response.status_code != 200:
            raise WechatApiError(f"HTTP {response.status_code} from WeChat", temporary=False)
        return response

    def _read(self, method: str, url: str, max_bytes: int | None, **kwargs: Any) -> httpx.Response:
        if max_bytes is None:
            return self.http.request(method, url, **kwargs)
        with self.http.stream(method, url, **kwargs) as streamed:
            body = bytearray()
            for chunk in streamed.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise WechatApiError(
                        f"the file is larger than {max_bytes} bytes", temporary=False
                    )
            return httpx.Response(
                streamed.status_code, headers=streamed.headers, content=bytes(body)
            )


def _check_response(response: httpx.Response) -> None:
    if response.headers.get("content-type", "").startswith(("application/json", "text/plain")):
        _check(_json(response))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as e:
        raise WechatApiError("WeChat's answer is not JSON", temporary=True) from e
    if not isinstance(answer, dict):
        raise WechatApiError("WeChat's answer is not an object", temporary=True)
    return answer


def _check(answer: dict[str, Any]) -> None:
    errcode = answer.get("errcode", 0)
    if not isinstance(errcode, int) or errcode == 0:
        return
    message = str(answer.get("errmsg", ""))[:200]
    reason = WINDOW_ERRORS.get(errcode, f"WeChat errcode {errcode}: {message}")
    raise WechatApiError(
        reason, errcode=errcode, temporary=errcode in BUSY_ERRORS or errcode in TOKEN_ERRORS
    )


def _filename(disposition: str) -> str:
    marker = 'filename="'
    start = disposition.find(marker)
    if start < 0:
        return ""
    return disposition[start + len(marker) :].split('"', 1)[0]
