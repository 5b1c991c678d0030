"""ORM models. They hold data and small invariants; behaviour lives in services and domain."""

from kefu.db.base import Base
from kefu.db.models.customers import Customer, CustomerMerge, Identity, customer_tags
from kefu.db.models.records import AuditEvent, InboundPayload
from kefu.db.models.staff import ApiToken, Group, LoginSession, User, group_members
from kefu.db.models.tickets import Attachment, Message, Tag, Ticket, ticket_tags

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Base",
    "Customer",
    "CustomerMerge",
    "Group",
    "Identity",
    "InboundPayload",
    "LoginSession",
    "Message",
    "Tag",
    "Ticket",
    "User",
    "customer_tags",
    "group_members",
    "ticket_tags",
]
