"""Who is acting: a staff member through a session, an API token or the CLI, or the system."""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.domain.roles import Role, can_administer, sees_all_tickets


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: Role
    group_ids: frozenset[int] = field(default_factory=frozenset)
    via: str = "session"  # session | token | cli | system
    name: str = ""

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def sees_all_tickets(self) -> bool:
        return self.is_system or sees_all_tickets(self.role)

    @property
    def is_admin(self) -> bool:
        return self.is_system or can_administer(self.role)


SYSTEM = Actor(user_id=None, role=Role.ADMIN, via="system", name="system")
