"""The admin pages (``/admin``): users, groups and their working hours, routing rules and their
tester, SLA policies, API tokens, integrations, the channels (web chat, mailboxes, WeChat Official
Accounts, webhook sources and subscriptions, social listening feeds), ticket fields, automations and the retention periods of personal data. One module
per resource;
every page and form is for admins only (``AdminActor``: a 403 page for everyone else) and
calls the same services as the API, which check the role again and keep the audit trail."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.web.pages.admin import (
    automations,
    fields,
    groups,
    index,
    integrations,
    mailboxes,
    qa,
    retention,
    routing,
    sla,
    social_feeds,
    surveys,
    tokens,
    users,
    webchat,
    webhooks,
    wechat,
)

router = APIRouter(include_in_schema=False)
for _module in (
    index,
    users,
    groups,
    routing,
    sla,
    tokens,
    integrations,
    webchat,
    mailboxes,
    wechat,
    webhooks,
    social_feeds,
    surveys,
    fields,
    automations,
    qa,
    retention,
):
    router.include_router(_module.router)
