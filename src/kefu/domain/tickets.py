"""Ticket vocabulary: statuses, priorities, channels, message directions.

The full complaint workflow (受理登记 → … → 总结归档) extends ``STATUS_TRANSITIONS`` in
``status_machine.py``; this module only names the values the core stores.
"""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer or a third party
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING})


class Priority(StrEnum):
    P1 = "P1"  # 紧急危机
    P2 = "P2"  # 高度紧急
    P3 = "P3"  # 重要非紧急
    P4 = "P4"  # 一般问题


class Channel(StrEnum):
    API = "api"
    WEB = "web"  # staff-created in the workspace
    WEBCHAT = "webchat"
    EMAIL = "email"
    WECHAT = "wechat"
    PHONE = "phone"
    SMS = "sms"
    SOCIAL = "social"
    APP_REVIEW = "app_review"


class Direction(StrEnum):
    INBOUND = "inbound"  # from the customer
    OUTBOUND = "outbound"  # a reply to the customer
    NOTE = "note"  # internal note, never sent to a customer channel


class AuthorType(StrEnum):
    CUSTOMER = "customer"
    USER = "user"
    SYSTEM = "system"
    BOT = "bot"  # the answering bot (智能助手, domain/bot.py)
