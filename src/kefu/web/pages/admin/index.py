"""``/admin``: the sections of the configuration, each with what it holds now."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kefu.api.deps import DB
from kefu.services.cases import routing
from kefu.services.intake import integrations
from kefu.services.mail import mailboxes
from kefu.services.sla import policies
from kefu.services.staff import auth
from kefu.services.staff import directory as staff
from kefu.services.webchat import channels
from kefu.web.guard import AdminActor
from kefu.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin_index(request: Request, db: DB, actor: AdminActor) -> Response:
    users = staff.list_users(db)
    rules = routing.list_rules(db)
    tokens = auth.list_tokens(db, actor)
    counts = {
        "users": sum(u.is_active for u in users),
        "inactive": sum(not u.is_active for u in users),
        "groups": len(staff.list_groups(db)),
        "rules": sum(r.enabled for r in rules),
        "disabled_rules": sum(not r.enabled for r in rules),
        "sla": sum(p.source == "configured" for p in policies.list_policies(db)),
        "tokens": sum(t.revoked_at is None for t in tokens),
        "integrations": sum(
            i.revoked_at is None for i in integrations.list_integrations(db, actor)
        ),
        "webchat": len(channels.list_channels(db, actor)),
        "mailboxes": len(mailboxes.list_mailboxes(db, actor)),
    }
    return page(request, "workspace/admin/index.html", {"counts": counts, "section": "index"})
