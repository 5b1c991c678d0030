"""Who may call each operation, declared on its route.

``allow(...)`` gives a route two things from one declaration: the ``x-kefu-roles`` extension
that ``/docs`` and ``/openapi.json`` show integrators, and a dependency that refuses every other
caller before the handler runs — 401 without credentials, 403 for a role or kind of caller not
on the list. Whether a caller may touch a particular object (this agent, that ticket) is still
decided by the services' loaders (``access_ticket``, ``access_customer``). ``tests/api/
test_role_matrix.py`` calls every operation as every kind of caller and checks the answers against
these declarations, so a route without one fails the day it is added.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends

from kefu.api.deps import CurrentActor, IntegrationActor
from kefu.domain.roles import Role
from kefu.errors import KefuError
from kefu.services.actors import Actor

ANONYMOUS = "anonymous"  # no credentials needed (signing in)
INTEGRATION = "integration"  # an integration's token (customer messages in)
AGENT, SPECIALIST, SUPERVISOR, ADMIN = (
    r.value for r in (Role.AGENT, Role.SPECIALIST, Role.SUPERVISOR, Role.ADMIN)
)
STAFF = (AGENT, SPECIALIST, SUPERVISOR, ADMIN)
MANAGERS = (SUPERVISOR, ADMIN)
ADMINS = (ADMIN,)
ANYONE = (ANONYMOUS, *STAFF, INTEGRATION)
CALLERS = (ANONYMOUS, INTEGRATION, *STAFF)  # every kind of caller the matrix test plays
EXTENSION = "x-kefu-roles"


def allow(*roles: str) -> dict[str, Any]:
    """Route options for ``@router.get(...)`` and friends: ``**allow(*STAFF)``."""
    unknown = set(roles) - set(CALLERS)
    if not roles or unknown:
        raise ValueError(f"allow() needs roles from {CALLERS}, got {roles}")
    extra = {EXTENSION: list(roles)}
    if ANONYMOUS in roles:
        return {"openapi_extra": extra}
    if set(roles) == {INTEGRATION}:
        return {"dependencies": [Depends(_integration)], "openapi_extra": extra}
    if INTEGRATION in roles:
        raise ValueError("an operation is for integrations or for staff, not both")
    return {"dependencies": [Depends(_staff(frozenset(roles)))], "openapi_extra": extra}


ROLE_NAMES = {ANONYMOUS: "anyone", INTEGRATION: "an integration's token", AGENT: "agent (客服专员)",
              SPECIALIST: "specialist (客诉专员)", SUPERVISOR: "supervisor (主管)", ADMIN: "admin (管理员)"}  # fmt: skip


def describe_roles(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with each operation's roles written into its description too, where
    the interactive docs show them (they do not show ``x-`` extensions)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            roles = operation.get(EXTENSION) if isinstance(operation, dict) else None
            if roles:
                who = ", ".join(ROLE_NAMES[r] for r in roles)
                text = operation.get("description", "")
                operation["description"] = f"{text}\n\n**Who may call:** {who}".strip()
    return schema


async def _integration(actor: IntegrationActor) -> None:
    """``integration_actor`` already refuses staff; the handler gets the same (cached) actor."""


def _staff(roles: frozenset[str]) -> Callable[[Actor], Awaitable[None]]:
    async def check(actor: CurrentActor) -> None:
        if actor.role.value not in roles:
            raise KefuError("forbidden", status_code=403)

    return check
