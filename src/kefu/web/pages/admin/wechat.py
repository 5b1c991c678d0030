"""``/admin/wechat``: the WeChat Official Accounts (微信公众号) kefu answers for — the AppID, the
secrets shared with WeChat (write-only: the page says whether each is set, never what it is),
the message mode, the group their cases go to, the bot, the greeting for new followers and the
template message for replies past 48 hours; and the callback URL to paste into WeChat's console."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id, In
from kefu.api.webchat_channels import BotMode
from kefu.api.wechat import PREFIX
from kefu.db.models import WechatAccount
from kefu.services.staff import directory as staff
from kefu.services.wechat import accounts as service
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import Errors, Posted, attempt, checked, text, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

FIELDS = (
    "name", "app_id", "app_secret", "token", "encoding_aes_key", "message_mode", "api_base_url",
    "group_id", "bot_mode", "greeting", "template_id", "enabled",
)  # fmt: skip
SECRETS = ("app_secret", "token", "encoding_aes_key")


class AccountForm(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    app_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{4,40}$")]
    app_secret: Annotated[str, Field(max_length=200)] = ""
    token: Annotated[str, Field(pattern=r"^([A-Za-z0-9]{3,32})?$")] = ""
    encoding_aes_key: Annotated[str, Field(pattern=r"^([A-Za-z0-9]{43})?$")] = ""
    message_mode: Literal["plaintext", "safe", "compatible"] = "safe"
    api_base_url: Annotated[str, Field(max_length=300, pattern=r"^https?://[^\s]+$")]
    group_id: Id | None = None
    bot_mode: BotMode = "off"
    greeting: Annotated[str, Field(max_length=500)] = ""
    template_id: Annotated[str, Field(max_length=100)] = ""
    enabled: bool = True


def _values_of(account: WechatAccount | None) -> dict[str, Any]:
    if account is None:
        return {
            "name": "", "app_id": "", "message_mode": "safe", "api_base_url": service.DEFAULT_API,
            "group_id": "", "bot_mode": "off", "greeting": "", "template_id": "", "enabled": True,
            **dict.fromkeys(SECRETS, ""),
        }  # fmt: skip
    return {
        "name": account.name, "app_id": account.app_id, "message_mode": account.message_mode,
        "api_base_url": account.api_base_url, "group_id": str(account.group_id or ""),
        "bot_mode": account.bot_mode, "greeting": account.greeting,
        "template_id": account.template_id, "enabled": account.enabled,
        **dict.fromkeys(SECRETS, ""),  # never shown back
    }  # fmt: skip


def _posted(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name).strip() for name in FIELDS}
    values["enabled"] = checked(form, "enabled")
    values["message_mode"] = values["message_mode"] or "safe"
    values["bot_mode"] = values["bot_mode"] or "off"
    return values


def _data(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "group_id": values["group_id"] or None}


def _page(
    request: Request,
    db: Session,
    *,
    account: WechatAccount | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    status: int = 200,
) -> Response:
    base = str(request.base_url).rstrip("/")
    context = {
        "section": "wechat",
        "account": account,
        "values": values,
        "errors": errors or {},
        "groups": staff.list_groups(db),
        "secrets_set": service.secrets_set(account) if account else {},
        "callback_url": f"{base}{PREFIX}{account.key}" if account else "",
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/wechat_form.html", context, status=status)


@router.get("/admin/wechat")
def accounts_page(request: Request, db: DB, actor: AdminActor) -> Response:
    base = str(request.base_url).rstrip("/")
    context = {
        "section": "wechat",
        "accounts": service.list_accounts(db, actor),
        "groups": {g.id: g.name for g in staff.list_groups(db)},
        "callback_base": f"{base}{PREFIX}",
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/wechat.html", context)


@router.get("/admin/wechat/new")
def new_account_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db, account=None, values=_values_of(None))


@router.post("/admin/wechat")
def create_account(
    request: Request, db: DB, actor: AdminActor, form: Posted, settings: AppSettings
) -> Response:
    language = i18n.language_of(request)
    values = _posted(form)
    body, errors = validate(AccountForm, _data(values), language)
    if body is not None:
        fields = body.model_dump()
        made, errors = attempt(
            db,
            lambda: service.do_create_account(db, actor, secret_key=settings.secret_key, **fields),
            language,
            FIELDS,
        )
        if made is not None:
            return RedirectResponse(f"/admin/wechat/{made.id}?done=created", status_code=303)
    values.update(dict.fromkeys(SECRETS, ""))  # a secret is never sent back, not even mistyped
    return _page(request, db, account=None, values=values, errors=errors, status=422)


@router.get("/admin/wechat/{account_id}")
def account_page(account_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    account = service.get_account(db, actor, account_id)
    return _page(request, db, account=account, values=_values_of(account))


@router.post("/admin/wechat/{account_id}")
def update_account(
    account_id: Id,
    request: Request,
    db: DB,
    actor: AdminActor,
    form: Posted,
    settings: AppSettings,
) -> Response:
    language = i18n.language_of(request)
    account = service.get_account(db, actor, account_id)
    values = _posted(form)
    body, errors = validate(AccountForm, _data(values), language)
    if body is not None:
        changes = body.model_dump()
        done, errors = attempt(
            db,
            lambda: service.do_update_account(
                db, actor, account, changes, secret_key=settings.secret_key
            ),
            language,
            FIELDS,
        )
        if done is not None:
            return RedirectResponse(f"/admin/wechat/{account_id}?done=saved", status_code=303)
    account = service.get_account(db, actor, account_id)
    values.update(dict.fromkeys(SECRETS, ""))
    return _page(request, db, account=account, values=values, errors=errors, status=422)


@router.post("/admin/wechat/{account_id}/delete")
def delete_account(account_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    service.do_delete_account(db, actor, service.get_account(db, actor, account_id))
    return RedirectResponse("/admin/wechat?done=deleted", status_code=303)
