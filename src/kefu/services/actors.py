"""Who is acting: a staff member through a session, an API token or the CLI; an integration
delivering customer messages; or the system."""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.domain.roles import Role, can_administer, sees_all_tickets


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: Role
    group_ids: frozenset[int] = field(default_factory=frozenset)
    via: str = "session"  # session | token | cli | system | integration
    name: str = ""
    # An integration (mail gateway, WeChat bridge…): no user, and it may only deliver
    # customer messages on these channels (api/deps.py keeps it off every other endpoint).
    integration_id: int | None = None
    channels: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_integration(self) -> bool:
        return self.integration_id is not None

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.integration_id is None

    @property
    def kind(self) -> str:
        """How the audit trail names the actor: user, integration or system."""
        return "integration" if self.is_integration else "system" if self.is_system else "user"

    @property
    def audit_id(self) -> int | None:
        return self.integration_id if self.is_integration else self.user_id

    @property
    def sees_all_tickets(self) -> bool:
        return self.is_system or (not self.is_integration and sees_all_tickets(self.role))

    @property
    def is_admin(self) -> bool:
        return self.is_system or (not self.is_integration and can_administer(self.role))


SYSTEM = Actor(user_id=None, role=Role.ADMIN, via="system", name="system")


def require_supervisor(actor: Actor) -> None:
    """Supervisors and admins (staff who see every ticket), never an integration: else 403."""
    if not actor.sees_all_tickets or actor.is_integration:
        from kefu.errors import PermissionDenied

        raise PermissionDenied()
