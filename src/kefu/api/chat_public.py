"""/chat/api/{key}/…: what the chat widget calls for its visitor (the protocol: plan-18.md).

The caller is a visitor, not staff: their visitor token (``Authorization: Bearer``, never in the
URL: the widget fetches a file with the header and shows it from a ``blob:`` address) names them, and everything answered is theirs:
any other id is 404. The page's origin is checked before any of this (api/chat_origins.py).
Handlers admit themselves to the database (realtime/chat_runtime.py) because sending a message
waits for intake's writer.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from sqlalchemy.orm import Session

from kefu.api.access import ANYONE, allow
from kefu.api.attachments import content_disposition
from kefu.api.client_address import client_address
from kefu.api.schemas import ERRORS, Email, Id, In
from kefu.db.base import utcnow
from kefu.errors import KefuError, NotAuthenticated, NotFound
from kefu.realtime.chat_runtime import WebchatRuntime
from kefu.services.intake.attachments import blob_path
from kefu.services.surveys import answer as surveys
from kefu.services.webchat import availability, conversation, messages, offers, offline
from kefu.services.webchat import visitor_tokens as tokens
from kefu.services.webchat.channels import ChannelInfo
from kefu.services.webchat.uploads import EXTENSIONS, checked_upload
from kefu.services.webchat.visitors import ClaimIn, customer_of, start_session

router = APIRouter(prefix="/chat/api/{key}", tags=["web chat (visitors)"], responses=ERRORS)

Key = Annotated[str, StringConstraints(max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{2,31}$")]
UPLOAD_READ_CHUNK = 64 * 1024


class Lenient(BaseModel):
    """The widget's input: unknown fields are ignored (an older or newer widget still works)."""

    model_config = ConfigDict(extra="ignore")


class VisitorIdentity(Lenient):
    """A site's signed claim, passed on by the widget. Malformed parts make it ignored, not an
    error: the visitor is then anonymous (domain/visitor_identity.py)."""

    user_id: Any = ""
    timestamp: Any = ""
    nonce: Any = ""
    signature: Any = ""
    name: Any = ""
    email: Any = ""  # signed with the rest when the site verified it
    phone: Any = ""

    def claim(self) -> ClaimIn:
        def text(value: Any, limit: int) -> str:
            value = (
                str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
            )
            return value if len(value) <= limit else ""

        return ClaimIn(
            text(self.user_id, 200), text(self.timestamp, 20), text(self.nonce, 100),
            text(self.signature, 200), text(self.name, 1000),
            text(self.email, 254), text(self.phone, 254),
        )  # fmt: skip


class SessionBody(Lenient):
    visitor_token: Any = None
    identity: VisitorIdentity | None = None


class OfflineBody(In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    phone: Phone | None = None
    email: Email | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]

    @model_validator(mode="after")
    def _reachable(self) -> OfflineBody:
        if not self.phone and not self.email:
            raise KefuError("contact_required", status_code=422, details={"field": "phone"})
        return self


def _runtime(request: Request) -> WebchatRuntime:
    return request.app.state.webchat  # type: ignore[no-any-return]


async def _channel(request: Request, key: str) -> ChannelInfo:
    channel = await _runtime(request).channel(key)
    if channel is None:
        raise NotFound("webchat_channel")
    return channel


def _visitor(request: Request, channel: ChannelInfo) -> tokens.Visitor:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip() if scheme.lower() == "bearer" else ""
    visitor = tokens.read(_runtime(request).secret_key, secret, channel.id, utcnow())
    if visitor is None:
        raise NotAuthenticated("invalid_visitor_token")
    return visitor


def _address(request: Request) -> str:
    return client_address(request, _runtime(request).settings.trusted_proxy_networks)


def _channel_json(channel: ChannelInfo) -> dict[str, Any]:
    return {
        "name": channel.name,
        "greeting": channel.greeting,
        "language": channel.language,
        "offline_form": channel.offline_form,
        "offline_message": channel.offline_message,
        # The answering bot serves this channel: it collects contacts itself out of hours.
        "bot": channel.bot_mode != "off",
    }


@router.post("/session", summary="Start or resume a visitor's session (the widget's first call)",
             **allow(*ANYONE))  # fmt: skip
async def session(key: Key, body: SessionBody, request: Request) -> dict[str, Any]:
    runtime = _runtime(request)
    channel = await _channel(request, key)
    runtime.limits.session(_address(request))
    token = body.visitor_token if isinstance(body.visitor_token, str) else None
    claim = body.identity.claim() if body.identity is not None else None
    now = utcnow()

    def work(db: Session) -> dict[str, Any]:
        started = start_session(
            db, channel, secret_key=runtime.secret_key, token=token, claim=claim, now=now
        )
        customer_id = customer_of(db, started.visitor)
        chat = conversation.open_chat(db, customer_id)
        found = availability.availability(db, channel, now, runtime.rules, chat)
        return {
            "visitor_token": started.token,
            "visitor": {"name": started.visitor.name, "verified": started.visitor.verified},
            "channel": _channel_json(channel),
            "availability": found.to_json(),
            "last_seq": conversation.last_seq(db, customer_id),
        }

    # Only a claim writes (its nonce, maybe its customer): other page loads take no write turn.
    return await (runtime.write(work) if claim is not None else runtime.read(work))


@router.get("/messages", summary="The visitor's messages after a seq (a resume)", **allow(*ANYONE))
async def list_messages(
    key: Key,
    request: Request,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    channel = await _channel(request, key)
    visitor = _visitor(request, channel)

    def work(db: Session) -> dict[str, Any]:
        customer_id = customer_of(db, visitor)
        found = conversation.messages_after(db, customer_id, after, limit)
        names = conversation.author_names(db, found)
        return {
            "messages": conversation.shaped(found, names, channel.key),
            "last_seq": conversation.last_seq(db, customer_id),
        }

    return await _runtime(request).read(work)


@router.post("/uploads", summary="Send an image or a PDF", operation_id="chat_upload",
             **allow(*ANYONE))  # fmt: skip
async def upload(
    key: Key,
    request: Request,
    file: Annotated[UploadFile, File(description="JPEG, PNG, GIF, WebP or PDF")],
    client_id: Annotated[str | None, Form(max_length=64)] = None,
) -> dict[str, Any]:
    runtime = _runtime(request)
    channel = await _channel(request, key)
    visitor = _visitor(request, channel)
    data = await _read_limited(file, runtime.limits.max_upload_bytes)
    attachment = checked_upload(
        data, file.filename or "", max_bytes=runtime.limits.max_upload_bytes
    )
    client_id = messages.checked_client_id(client_id or uuid.uuid4().hex)
    runtime.limits.upload(visitor.external_id, _address(request))
    result = await messages.submit(
        runtime.intake, channel, visitor, client_id=client_id, text="", now=utcnow(),
        attachments=[attachment],
    )  # fmt: skip
    rules = runtime.rules

    def work(db: Session) -> dict[str, Any]:
        offers.offer_now(db, result.ticket_id, utcnow(), rules)
        message = conversation.message_of(db, result.customer_id, result.message_id)
        assert message is not None
        names = conversation.author_names(db, [message])
        return {"message": conversation.msg_json(message, names, channel.key)}

    return await runtime.write(work)


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := await file.read(UPLOAD_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise KefuError("attachment_too_large", status_code=413, limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/offline", status_code=201, summary="Leave a message when nobody answers (留言)",
             **allow(*ANYONE))  # fmt: skip
async def leave_message(key: Key, body: OfflineBody, request: Request) -> dict[str, bool]:
    runtime = _runtime(request)
    channel = await _channel(request, key)
    visitor = _visitor(request, channel)
    if not channel.offline_form:
        raise KefuError("forbidden", status_code=403)
    form = offline.OfflineForm(body.name, body.phone, body.email, body.text)
    runtime.limits.text(form.text)
    runtime.limits.offline_form(_address(request))
    result = await messages.submit(
        runtime.intake, channel, visitor, client_id=form.client_id, text=form.message_text(),
        now=utcnow(),
    )  # fmt: skip
    await runtime.write(
        lambda db: offline.keep_contact(db, result, form, anonymous=not visitor.verified)
    )
    return {"ok": True}


class SurveyBody(Lenient):
    token: Annotated[str, StringConstraints(max_length=200)]
    scores: dict[str, int]
    solved: bool | None = None
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


@router.post("/survey", summary="Answer the survey asked in the conversation (满意度评价)",
             **allow(*ANYONE))  # fmt: skip
async def answer_survey(key: Key, body: SurveyBody, request: Request) -> dict[str, Any]:
    runtime = _runtime(request)
    channel = await _channel(request, key)
    visitor = _visitor(request, channel)
    runtime.limits.offline_form(_address(request))
    analysis = request.app.state.intake.analysis

    def work(db: Session) -> dict[str, Any]:
        done = surveys.answer_inline(
            db, token=body.token, customer_id=customer_of(db, visitor), scores=body.scores,
            solved=body.solved, comment=body.comment, now=utcnow(), analysis=analysis(),
            settings=runtime.settings,
        )  # fmt: skip
        return {"ok": True, "survey_id": done.survey.id}

    return await runtime.write(work)


@router.get(
    "/attachments/{attachment_id}",
    summary="A file of the visitor's conversation (as a download, sandboxed)",
    response_class=FileResponse,
    **allow(*ANYONE),
)
async def attachment(
    key: Key,
    attachment_id: Id,
    request: Request,
) -> FileResponse:
    runtime = _runtime(request)
    channel = await _channel(request, key)
    visitor = _visitor(request, channel)

    def work(db: Session) -> tuple[str, str, str]:
        found = conversation.attachment_of(db, customer_of(db, visitor), attachment_id)
        if found is None:
            raise NotFound("attachment")
        return found.sha256, found.filename, found.content_type

    sha256, filename, content_type = await runtime.read(work)
    path = blob_path(runtime.settings.attachments_dir, sha256)
    if not path.exists():
        raise NotFound("attachment")
    # An image or PDF as what it is (a page can show it); anything else as bytes. Never run:
    # a download, no sniffing, and a sandbox should a browser open it anyway.
    media_type = content_type if content_type in EXTENSIONS else "application/octet-stream"
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )
