"""The ticket page's timeline as rows ready to print: every name looked up, every label
translated, every time formatted and every message body marked, once, in Python.

A case of 200 messages made the template do it item by item — four time filters, a dozen label
and gettext calls and the chips of each message through Jinja's runtime — which was half of the
page's server time. The template (``tickets/_timeline.html``) now prints these rows; what it
shows is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from kefu.db.models import Attachment, Message
from kefu.services.cases.ticket_page import Timeline
from kefu.web import cues
from kefu.web.labels import label
from kefu.web.render import LOCAL_ZONE

IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

Translate = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Moment:
    iso: str  # for <time datetime>
    local: str  # the hover: 2026-12-01 14:05, Beijing time
    short: str  # what shows: 14:05 today, 12-01 14:05 this year, the date before


@dataclass(frozen=True, slots=True)
class ChipRow:
    css: str
    title: str
    text: str
    risk: bool


@dataclass(frozen=True, slots=True)
class FileRow:
    url: str
    name: str
    image: bool
    size: str


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    direction: str
    author: str
    channel: str
    at: Moment
    chips: list[ChipRow]
    body: Markup | str
    files: list[FileRow]
    delivery_state: str | None
    retry_id: int | None
    bot: bool = False  # written by the answering bot (智能助手)
    # A customer's mail: its original (the whole text, quotes and signature included, and the
    # raw message) is a link away ("显示原文"); the timeline shows the text without them.
    original_url: str | None = None
    # An agent's turn on a phone call: its speaking rate (字/分) and whether it is above the limit.
    speech_rate: int | None = None
    speech_fast: bool = False
    speech_limit: int | None = None

    message = True


@dataclass(frozen=True, slots=True)
class EventRow:
    css: str
    summary: str
    actor: str
    at: Moment

    message = False


class Clock:
    """Formats instants the way the page shows them, against one "now"."""

    def __init__(self, now: datetime | None = None) -> None:
        self.today = (now or datetime.now(UTC)).astimezone(LOCAL_ZONE).date()

    def moment(self, value: datetime) -> Moment:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        utc, local = value.astimezone(UTC), value.astimezone(LOCAL_ZONE)
        if local.date() == self.today:
            short = local.strftime("%H:%M")
        elif local.year == self.today.year:
            short = local.strftime("%m-%d %H:%M")
        else:
            short = local.strftime("%Y-%m-%d")
        iso = utc.isoformat().replace("+00:00", "Z")
        return Moment(iso, local.strftime("%Y-%m-%d %H:%M"), short)


def rows(timeline: Timeline, translate: Translate) -> list[MessageRow | EventRow]:
    """The timeline's items as rows, in its order."""
    words = _Words(translate)
    clock = Clock()
    out: list[MessageRow | EventRow] = []
    for item in timeline.items:
        if item.message is not None:
            out.append(message_row(item.message, timeline, words, clock))
        elif item.event is not None:
            e = item.event
            css = "event-" + str(e["action"]).replace(".", "-")
            out.append(
                EventRow(css, e["summary"], e.get("actor_name") or "", clock.moment(e["at"]))
            )
    return out


def message_row(
    m: Message, timeline: Timeline, words: _Words, clock: Clock | None = None
) -> MessageRow:
    if m.direction == "inbound":
        author = timeline.customer_names.get(m.author_customer_id or 0) or words.customer
    elif m.author_user_id:
        author = timeline.staff_names.get(m.author_user_id) or words.staff
    elif m.author_type == "bot":
        author = words.bot
    else:
        author = words.system
    analysed = m.direction == "inbound" and bool(m.analysis)
    return MessageRow(
        id=m.id,
        direction=m.direction,
        author=author,
        channel=words.label("channel", m.channel),
        at=(clock or Clock()).moment(m.created_at),
        chips=_chips(m, words) if analysed else [],
        body=cues.marked(m.body_text, m.analysis) if analysed else m.body_text,
        files=[_file(a) for a in m.attachments],
        delivery_state=m.delivery_state,
        retry_id=timeline.retry_ids.get(m.id),
        bot=m.author_type == "bot",
        original_url=(
            f"/tickets/{m.ticket_id}/messages/{m.id}/original"
            if m.channel == "email" and m.direction == "inbound" and m.external_id
            else None
        ),
        **_speech(m),
    )


def _speech(m: Message) -> dict[str, Any]:
    turn = m.call_turn if m.direction == "outbound" else None
    if not turn or turn.get("rate") is None:
        return {}
    return {
        "speech_rate": turn["rate"],
        "speech_fast": bool(turn.get("fast")),
        "speech_limit": turn.get("limit"),
    }


class _Words:
    """The page language's words the rows use, each translated once."""

    def __init__(self, translate: Translate) -> None:
        self.translate = translate
        self.customer, self.staff, self.system, self.bot = (
            translate("客户"),
            translate("客服"),
            translate("系统"),
            translate("智能助手"),
        )
        self.confidence = translate("置信度")
        self._labels: dict[tuple[str, str], str] = {}

    def label(self, kind: str, code: str | None) -> str:
        if not code:
            return ""
        key = (kind, code)
        if key not in self._labels:
            self._labels[key] = self.translate(label(kind, code))
        return self._labels[key]


def _chips(m: Message, words: _Words) -> list[ChipRow]:
    return [
        ChipRow(chip.css, chip.title, words.label(chip.kind, chip.code), chip.kind == "risk")
        for chip in cues.chips(m.analysis, words.confidence)
    ]


def _file(a: Attachment) -> FileRow:
    return FileRow(
        url=f"/api/v1/attachments/{a.id}",
        name=a.filename,
        image=a.content_type in IMAGES,
        size=file_size(a.size),
    )


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024, 1)} KB"
    return f"{round(size / (1024 * 1024), 1)} MB"
