"""ORM models. They hold data and small invariants; behavior lives in services and domain."""

from kefu.db.base import Base
from kefu.db.models.analytics import KpiTarget
from kefu.db.models.automations import (
    AutomationEvent,
    AutomationFiring,
    AutomationTrigger,
    ServiceTimingRecord,
)
from kefu.db.models.bot import BotArticleOffer, BotConversation
from kefu.db.models.case_library import CaseEntry
from kefu.db.models.channels import AgentStatusPeriod, WebchatChannel, WebchatNonce
from kefu.db.models.customers import (
    ContactVerification,
    Customer,
    CustomerJoin,
    CustomerMerge,
    Identity,
    customer_tags,
)
from kefu.db.models.delivery import OutboxEntry
from kefu.db.models.fields import TicketField
from kefu.db.models.jobs import JobRun
from kefu.db.models.kb import KbArticle, KbArticleVersion, KbFeedback, KbIndexState, KbSearchLog
from kefu.db.models.mail import MailAcknowledgement, Mailbox, MailRaw, MailThreadId
from kefu.db.models.qa import QaCorrection, QaDispute, QaReview, QaScorecard
from kefu.db.models.reads import TicketRead
from kefu.db.models.records import AuditEvent, InboundPayload
from kefu.db.models.retention import RetentionRecord
from kefu.db.models.scripts import (
    Macro,
    Script,
    ScriptLibraryStamp,
    ScriptScenario,
    ScriptUse,
    ScriptVersion,
)
from kefu.db.models.search import SearchDocument
from kefu.db.models.social import SocialAlert, SocialFeed, SocialMention
from kefu.db.models.staff import (
    ApiToken,
    Group,
    Integration,
    LoginSession,
    PasswordResetToken,
    StaffRecoveryCode,
    StaffTwoFactor,
    User,
    group_members,
)
from kefu.db.models.surveys import Survey, SurveySetting
from kefu.db.models.tickets import (
    Attachment,
    Message,
    SlaEvent,
    Tag,
    Ticket,
    TicketLink,
    ticket_tags,
)
from kefu.db.models.training import TrainingSession, TrainingTurn
from kefu.db.models.webhooks import WebhookReceipt, WebhookSource, WebhookSubscription
from kefu.db.models.wechat import WechatAccessToken, WechatAccount, WechatFollower, WechatMedia
from kefu.db.models.workflow import Notification, RoutingRule, SlaPolicy

__all__ = [
    "JobRun",
    "TrainingSession",
    "TrainingTurn",
    "QaCorrection",
    "QaDispute",
    "QaReview",
    "QaScorecard",
    "AutomationEvent",
    "AutomationFiring",
    "AutomationTrigger",
    "RetentionRecord",
    "ServiceTimingRecord",
    "AgentStatusPeriod",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "KpiTarget",
    "Base",
    "CaseEntry",
    "BotArticleOffer",
    "BotConversation",
    "ContactVerification",
    "Customer",
    "CustomerJoin",
    "CustomerMerge",
    "Group",
    "Identity",
    "InboundPayload",
    "Integration",
    "KbArticle",
    "KbArticleVersion",
    "KbFeedback",
    "KbIndexState",
    "KbSearchLog",
    "LoginSession",
    "PasswordResetToken",
    "StaffRecoveryCode",
    "StaffTwoFactor",
    "MailAcknowledgement",
    "MailRaw",
    "MailThreadId",
    "Mailbox",
    "Macro",
    "Message",
    "Survey",
    "SurveySetting",
    "Notification",
    "OutboxEntry",
    "RoutingRule",
    "Script",
    "ScriptLibraryStamp",
    "ScriptScenario",
    "ScriptUse",
    "ScriptVersion",
    "SearchDocument",
    "SlaEvent",
    "SlaPolicy",
    "SocialAlert",
    "SocialFeed",
    "SocialMention",
    "Tag",
    "Ticket",
    "TicketField",
    "TicketLink",
    "TicketRead",
    "User",
    "WebchatChannel",
    "WebchatNonce",
    "WebhookReceipt",
    "WebhookSource",
    "WebhookSubscription",
    "WechatAccessToken",
    "WechatAccount",
    "WechatFollower",
    "WechatMedia",
    "customer_tags",
    "group_members",
    "ticket_tags",
]
