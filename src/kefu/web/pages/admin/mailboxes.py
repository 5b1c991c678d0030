"""``/admin/mailboxes``: the mailboxes kefu reads and sends mail with — IMAP and SMTP settings
(passwords write-only: a blank password keeps the stored one), the group their cases go to,
acknowledgements, the default mailbox for notices — with "测试连接", the fetcher's state (last
poll, last error) and the mails that failed or were refused, each with "重新处理"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.api.deps import DB, get_settings
from kefu.api.schemas import Id
from kefu.channels.email.logins import check_imap, check_smtp
from kefu.db.models import Mailbox, MailRaw
from kefu.errors import KefuError
from kefu.services.mail import intake
from kefu.services.mail import mailboxes as service
from kefu.services.mail.intake import MailState
from kefu.services.staff import directory as staff
from kefu.settings import Settings
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import Errors, Posted, attempt, checked, text, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings)]

FIELDS = (*service.EDITABLE, *service.PASSWORDS)
PROBLEM_STATES = (MailState.FAILED, MailState.REFUSED_TOO_LARGE, MailState.RECEIVED)


class MailboxIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    imap_host: str = Field(default="", max_length=255)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: str = Field(default="ssl", pattern="^(ssl|starttls|none)$")
    imap_username: str = Field(default="", max_length=320)
    imap_password: str = Field(default="", max_length=500)
    imap_folder: str = Field(default="INBOX", min_length=1, max_length=255)
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: str = Field(default="ssl", pattern="^(ssl|starttls|none)$")
    smtp_username: str = Field(default="", max_length=320)
    smtp_password: str = Field(default="", max_length=500)
    group_id: int | None = None
    enabled: bool = True
    send_acknowledgement: bool = False
    is_default: bool = False


def _values_of(mailbox: Mailbox | None) -> dict[str, Any]:
    if mailbox is None:
        values = MailboxIn.model_construct().model_dump() | {"name": "", "address": ""}
        return {**values, "group_id": ""}
    values = {name: getattr(mailbox, name) for name in service.EDITABLE}
    values.update(imap_password="", smtp_password="", group_id=str(mailbox.group_id or ""))  # nosec: empty or a flag
    return values


def _posted(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name).strip() for name in FIELDS}
    for name in ("imap_password", "smtp_password"):
        values[name] = text(form, name)  # a password keeps its spaces
    for name in ("enabled", "send_acknowledgement", "is_default"):
        values[name] = checked(form, name)
    return values


def _data(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "group_id": values["group_id"] or None}


def _page(
    request: Request,
    db: Session,
    *,
    mailbox: Mailbox | None,
    values: dict[str, Any],
    errors: Errors | None = None,
    checks: list[Any] | None = None,
    status: int = 200,
) -> Response:
    problems = []
    if mailbox is not None:
        problems = list(
            db.scalars(
                select(MailRaw)
                .where(MailRaw.mailbox_id == mailbox.id, MailRaw.state.in_(PROBLEM_STATES))
                .order_by(MailRaw.id.desc())
                .limit(50)
            )
        )
    context = {
        "section": "mailboxes",
        "mailbox": mailbox,
        "values": values,
        "errors": errors or {},
        "groups": staff.list_groups(db),
        "checks": checks,
        "problems": problems,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/mailbox_form.html", context, status=status)


@router.get("/admin/mailboxes")
def mailboxes_page(request: Request, db: DB, actor: AdminActor) -> Response:
    groups = {g.id: g.name for g in staff.list_groups(db)}
    context = {
        "section": "mailboxes",
        "mailboxes": service.list_mailboxes(db, actor),
        "groups": groups,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/mailboxes.html", context)


@router.get("/admin/mailboxes/new")
def new_mailbox_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db, mailbox=None, values=_values_of(None))


@router.post("/admin/mailboxes")
def create_mailbox(
    request: Request, db: DB, actor: AdminActor, form: Posted, settings: SettingsDep
) -> Response:
    language = i18n.language_of(request)
    values = _posted(form)
    body, errors = validate(MailboxIn, _data(values), language)
    if body is not None:
        fields = body.model_dump()
        made, errors = attempt(
            db,
            lambda: service.do_create_mailbox(db, actor, secret_key=settings.secret_key, **fields),
            language,
            FIELDS,
        )
        if made is not None:
            return RedirectResponse(f"/admin/mailboxes/{made.id}?done=created", status_code=303)
    values.update(imap_password="", smtp_password="")  # nosec: empty or a flag
    return _page(request, db, mailbox=None, values=values, errors=errors, status=422)


@router.get("/admin/mailboxes/{mailbox_id}")
def mailbox_page(mailbox_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    mailbox = service.get_mailbox(db, actor, mailbox_id)
    return _page(request, db, mailbox=mailbox, values=_values_of(mailbox))


@router.post("/admin/mailboxes/{mailbox_id}")
def update_mailbox(
    mailbox_id: Id,
    request: Request,
    db: DB,
    actor: AdminActor,
    form: Posted,
    settings: SettingsDep,
) -> Response:
    language = i18n.language_of(request)
    mailbox = service.get_mailbox(db, actor, mailbox_id)
    values = _posted(form)
    body, errors = validate(MailboxIn, _data(values), language)
    if body is not None:
        changes = body.model_dump()
        done, errors = attempt(
            db,
            lambda: service.do_update_mailbox(
                db, actor, mailbox, secret_key=settings.secret_key, **changes
            ),
            language,
            FIELDS,
        )
        if done is not None:
            return RedirectResponse(f"/admin/mailboxes/{mailbox_id}?done=saved", status_code=303)
    values.update(imap_password="", smtp_password="")  # nosec: empty or a flag
    mailbox = service.get_mailbox(db, actor, mailbox_id)
    return _page(request, db, mailbox=mailbox, values=values, errors=errors, status=422)


@router.post("/admin/mailboxes/{mailbox_id}/check")
def check_mailbox(
    mailbox_id: Id, request: Request, db: DB, actor: AdminActor, settings: SettingsDep
) -> Response:
    """Log in over IMAP and SMTP with the saved settings and show how it went."""
    mailbox = service.get_mailbox(db, actor, mailbox_id)
    try:
        imap = service.imap_settings_of(mailbox, settings.secret_key, timeout=15.0)
        smtp = service.smtp_login_of(mailbox, settings.secret_key)
    except KefuError as e:
        errors = {"_form": e.message(i18n.language_of(request))}
        return _page(request, db, mailbox=mailbox, values=_values_of(mailbox), errors=errors)
    checks = [
        check_imap(imap),
        check_smtp(smtp.host, smtp.port, smtp.security, smtp.username, smtp.password),
    ]
    return _page(request, db, mailbox=mailbox, values=_values_of(mailbox), checks=checks)


@router.post("/admin/mailboxes/{mailbox_id}/reprocess/{raw_id}")
def reprocess_mail(
    mailbox_id: Id,
    raw_id: Id,
    request: Request,
    db: DB,
    actor: AdminActor,
    settings: SettingsDep,
) -> Response:
    """Process a failed mail again (after a fix, or to see the error again)."""
    mailbox = service.get_mailbox(db, actor, mailbox_id)
    intake.do_reprocess(db, actor, mailbox.id, raw_id, settings=settings)
    return RedirectResponse(f"/admin/mailboxes/{mailbox_id}?done=reprocessed", status_code=303)


@router.post("/admin/mailboxes/{mailbox_id}/delete")
def delete_mailbox(mailbox_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    service.do_delete_mailbox(db, actor, service.get_mailbox(db, actor, mailbox_id))
    return RedirectResponse("/admin/mailboxes?done=deleted", status_code=303)
