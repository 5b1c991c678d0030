"""Fixtures of the demo's tests: the demo team without the demo's history."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from kefu.db.models import User
from kefu.demo.team import DEMO_GROUPS, DEMO_USERS
from kefu.domain.roles import Role
from kefu.services.actors import SYSTEM
from kefu.services.staff import directory as staff


@pytest.fixture
def demo_team(db: Session) -> dict[str, User]:
    """The demo's groups and staff by email, without its history (and without passwords: the
    full demo takes seconds to load)."""
    groups = {name: staff.do_create_group(db, SYSTEM, name=name) for name, _ in DEMO_GROUPS}
    users = {
        email: staff.do_create_user(
            db, SYSTEM, email=email, name=name, role=Role(role), password=None,
            group_ids=[groups[g].id for g in group_names],
        )
        for email, name, role, group_names in DEMO_USERS
    }  # fmt: skip
    db.commit()
    return users
