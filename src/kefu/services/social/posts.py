"""One public post or comment as webhooks and feeds send it, checked before anything is stored.

The shape (the body of a ``social.post`` / ``social.comment`` webhook, and each item of a feed)::

    {"platform": "weibo", "id": "4983…", "url": "https://weibo.com/…",
     "author": {"handle": "momo_2026", "name": "默默"}, "text": "…",
     "posted_at": "2026-12-07T09:30:00+08:00", "parent_id": null}

``platform`` is weibo, douyin, xiaohongshu or other; a post with ``parent_id`` is a comment on
that post. The author may also come flat, as the webhook receiver documents it
(``"author_handle"``, ``"author_name"``: docs/webhooks.md), and may be missing (an anonymous post
links to no customer). ``posted_at`` must carry its offset; without it the post is taken as
posted when it arrived, and so is a time after the arrival (a platform's clock ahead of ours must
not put a post into a window that has not come).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kefu.errors import KefuError

PLATFORMS = ("weibo", "douyin", "xiaohongshu", "other")
MAX_TEXT = 5000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Author(_Strict):
    handle: Annotated[str, Field(max_length=100)] = ""  # "": anonymous
    name: Annotated[str, Field(max_length=100)] = ""


class SocialPost(_Strict):
    platform: Literal["weibo", "douyin", "xiaohongshu", "other"]
    id: Annotated[str, Field(min_length=1, max_length=200)]
    url: Annotated[str | None, Field(max_length=1000)] = None
    author: Author = Author()
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    posted_at: datetime | None = None  # None: when it arrived
    parent_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None

    @model_validator(mode="before")
    @classmethod
    def _flat_author(cls, data: Any) -> Any:
        if isinstance(data, dict) and "author" not in data:
            flat = {
                "handle": data.get("author_handle") or "",
                "name": data.get("author_name") or "",
            }
            return {**data, "author": flat}
        return data

    @field_validator("url")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        # Shown as a link on the listening page: only web addresses, never javascript: and kin.
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("url must start with http:// or https://")
        return value or None

    @field_validator("posted_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("posted_at needs a UTC offset (2026-12-07T09:30:00+08:00)")
        return value

    @property
    def kind(self) -> str:
        return "comment" if self.parent_id else "post"


def parse_post(data: Any) -> SocialPost:
    """The post in ``data``, or 422 ``invalid_social_post`` naming the first wrong field."""
    if not isinstance(data, dict):
        raise KefuError(
            "invalid_social_post", status_code=422, details=[], reason="not a JSON object"
        )
    try:
        return SocialPost.model_validate(data)
    except ValidationError as e:
        errors = [
            {"loc": [str(p) for p in err["loc"]], "type": err["type"], "msg": err["msg"]}
            for err in e.errors(include_url=False, include_input=False)
        ]
        first = errors[0]
        reason = f"{'.'.join(first['loc']) or 'body'}: {first['msg']}"
        raise KefuError(
            "invalid_social_post", status_code=422, details=errors, reason=reason
        ) from e
