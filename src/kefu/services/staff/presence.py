"""Presence (在线状态): whether a staff member takes new cases now.

Routing (services/cases/routing.py) only assigns to handlers who are online. Staff set their own
presence; supervisors and admins may set anyone's (someone who left without signing out).
Signing out sets one offline; signing in does not set one online: agents go online when they
are ready to take cases.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.db.models import User
from kefu.domain.roles import manages_presence
from kefu.errors import PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor


def do_set_presence(session: Session, actor: Actor, user: User, *, online: bool) -> User:
    """Set ``user`` online or offline; audited when it changes (``user.presence``)."""
    if actor.user_id != user.id and not (actor.is_system or manages_presence(actor.role)):
        raise PermissionDenied()
    if user.online == online:
        return user
    user.online = online
    session.flush()
    audit.record(
        session,
        actor,
        "user.presence",
        object_type="user",
        object_id=user.id,
        before={"online": not online},
        after={"online": online},
    )
    return user
