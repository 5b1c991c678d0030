"""/api/v1/webchat/channels: the sites that embed the chat widget (admins; the secret is shown once)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import Field, StringConstraints

from kefu.api.access import ADMINS, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out, Patch
from kefu.services.webchat import channels as service

router = APIRouter(prefix="/webchat/channels", tags=["web chat"], responses=ERRORS)

ChannelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Setting = Annotated[str, StringConstraints(max_length=500)]
Origins = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=300)]],
    Field(
        max_length=service.MAX_ORIGINS,
        description="the sites (https://shop.example.cn) that may embed the widget; "
        "empty: only pages served by kefu itself",
    ),
]
Language = Literal["zh-CN", "en"]
BotMode = Literal["off", "first", "outside_hours"]  # domain/bot.py BotMode


class ChannelPublic(Out):
    id: int
    key: str = Field(description="goes in the script tag: data-channel")
    name: str
    allowed_origins: list[str]
    group_id: int | None = Field(description="the group its chats go to; null: the routing rules")
    greeting: str
    offline_message: str
    offline_form: bool = Field(description="offer the leave-a-message form when nobody answers")
    language: str
    bot_mode: str = Field(
        description="the answering bot: off, first (always first, then a person), "
        "outside_hours (only outside the group's working hours)"
    )
    enabled: bool
    created_at: datetime
    updated_at: datetime


class ChannelWithSecret(ChannelPublic):
    secret: str = Field(
        description="signs your users' identities (HMAC-SHA256 over user_id.timestamp.nonce); "
        "it is not shown again"
    )


class ChannelCreate(In):
    name: ChannelName
    allowed_origins: Origins = Field(default_factory=list)
    group_id: Id | None = None
    greeting: Setting = ""
    offline_message: Setting = ""
    offline_form: bool = True
    language: Language = "zh-CN"
    bot_mode: BotMode = "off"
    enabled: bool = True


class ChannelUpdate(Patch):
    not_null = frozenset(
        {"name", "allowed_origins", "greeting", "offline_message", "offline_form", "language",
         "enabled", "bot_mode"}
    )  # fmt: skip

    name: ChannelName | None = None
    allowed_origins: Origins | None = None
    group_id: Id | None = None
    greeting: Setting | None = None
    offline_message: Setting | None = None
    offline_form: bool | None = None
    language: Language | None = None
    bot_mode: BotMode | None = None
    enabled: bool | None = None


def _with_secret(channel: object, secret: str) -> ChannelWithSecret:
    public = ChannelPublic.model_validate(channel)
    return ChannelWithSecret(**public.model_dump(), secret=secret)


@router.get("", response_model=list[ChannelPublic], summary="All web chat channels (admin)",
            **allow(*ADMINS))  # fmt: skip
def list_channels(db: DB, actor: CurrentActor) -> list[ChannelPublic]:
    return [ChannelPublic.model_validate(c) for c in service.list_channels(db, actor)]


@router.post(
    "",
    response_model=ChannelWithSecret,
    status_code=201,
    summary="Add a web chat channel; its secret is shown once (admin)",
    **allow(*ADMINS),
)
def create_channel(
    body: ChannelCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> ChannelWithSecret:
    channel, secret = service.do_create_channel(
        db, actor, secret_key=settings.secret_key, **body.model_dump()
    )
    return _with_secret(channel, secret)


@router.get("/{channel_id}", response_model=ChannelPublic, summary="One web chat channel (admin)",
            **allow(*ADMINS))  # fmt: skip
def get_channel(channel_id: Id, db: DB, actor: CurrentActor) -> ChannelPublic:
    return ChannelPublic.model_validate(service.get_channel(db, actor, channel_id))


@router.patch("/{channel_id}", response_model=ChannelPublic,
              summary="Change a web chat channel's settings (admin)", **allow(*ADMINS))  # fmt: skip
def update_channel(
    channel_id: Id, body: ChannelUpdate, db: DB, actor: CurrentActor
) -> ChannelPublic:
    channel = service.get_channel(db, actor, channel_id)
    changes = body.model_dump(exclude_unset=True)
    return ChannelPublic.model_validate(service.do_update_channel(db, actor, channel, changes))


@router.post(
    "/{channel_id}/secret",
    response_model=ChannelWithSecret,
    summary="Replace the channel's secret; the new one is shown once (admin)",
    **allow(*ADMINS),
)
def rotate_secret(
    channel_id: Id, db: DB, actor: CurrentActor, settings: AppSettings
) -> ChannelWithSecret:
    channel = service.get_channel(db, actor, channel_id)
    secret = service.do_rotate_secret(db, actor, channel, secret_key=settings.secret_key)
    return _with_secret(channel, secret)


@router.delete("/{channel_id}", status_code=204, summary="Remove a web chat channel (admin)",
               **allow(*ADMINS))  # fmt: skip
def delete_channel(channel_id: Id, db: DB, actor: CurrentActor) -> Response:
    service.do_delete_channel(db, actor, service.get_channel(db, actor, channel_id))
    return Response(status_code=204)
