"""The bodies sources post to ``/api/v1/channels/webhook/{source}``: ``{"type", "timestamp",
"data"}``, and the ``data`` of each event type kefu takes (docs/webhooks.md has examples).

They are parsed only after the signature holds; anything that does not fit is a 422 with the
field at fault, and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Text = Annotated[str, StringConstraints(max_length=50_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{2,31}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class Envelope(Strict):
    """Every event: its type, when it happened at the source, and its data."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    timestamp: datetime | None = None
    data: dict[str, Any]


class Turn(Strict):
    speaker: Literal["customer", "agent"]
    start_s: float = Field(ge=0, le=86_400)
    end_s: float = Field(ge=0, le=86_400)
    text: Text

    @model_validator(mode="after")
    def _ends_after_start(self) -> Turn:
        if self.end_s < self.start_s:
            raise ValueError("end_s is before start_s")
        return self


class CallTranscript(Strict):
    """``call.transcript``: one phone call, its speaker turns with their times in the call."""

    call_id: Id
    customer_phone: Phone
    customer_name: ShortText = ""
    agent_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = (
        None
    )
    started_at: datetime
    topic: ShortText | None = Field(
        default=None, description='a hint: "complex" for a complex call'
    )
    turns: list[Turn] = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _customer_speaks(self) -> CallTranscript:
        if not any(t.speaker == "customer" and t.text.strip() for t in self.turns):
            raise ValueError("a call needs at least one customer turn with text")
        return self


class SmsReceived(Strict):
    """``sms.received``: a text message from a customer's phone."""

    id: Id
    from_: Phone = Field(alias="from")
    name: ShortText = ""
    text: Annotated[str, StringConstraints(min_length=1, max_length=5_000)]
    received_at: datetime | None = None


class ReviewCreated(Strict):
    """``review.created``: an app-store review (1 to 5 stars)."""

    id: Id
    store: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    app: ShortText = ""
    rating: int = Field(ge=1, le=5)
    title: ShortText = ""
    text: Text = ""
    author: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    created_at: datetime | None = None

    @model_validator(mode="after")
    def _has_words(self) -> ReviewCreated:
        if not (self.title.strip() or self.text.strip()):
            raise ValueError("a review needs a title or a text")
        return self


class SocialPost(Strict):
    """``social.post`` and ``social.comment``: a public post or a comment on one; handed to
    social listening (services/social/intake.py) as it came."""

    platform: Literal["weibo", "douyin", "xiaohongshu", "other"]
    id: Id
    url: Annotated[str, StringConstraints(max_length=1000)] | None = None
    author_handle: ShortText = ""
    author_name: ShortText = ""
    text: Text
    posted_at: datetime | None = None
    parent_id: Id | None = None
