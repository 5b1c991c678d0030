import pytest

from kefu.domain.roles import Role, at_least, can_administer, can_see_ticket

GROUPS = frozenset({1, 2})


@pytest.mark.parametrize(
    ("role", "group", "assignee", "visible"),
    [
        (Role.AGENT, 1, None, True),  # own group
        (Role.AGENT, 3, None, False),  # another group
        (Role.AGENT, 3, 7, True),  # another group, but assigned to me
        (Role.AGENT, 3, 8, False),
        (Role.AGENT, None, None, True),  # the shared intake queue
        (Role.SPECIALIST, 3, None, False),
        (Role.SUPERVISOR, 3, None, True),
        (Role.ADMIN, 3, 8, True),
    ],
)
def test_can_see_ticket(role, group, assignee, visible):
    assert (
        can_see_ticket(
            role,
            user_id=7,
            user_group_ids=GROUPS,
            ticket_group_id=group,
            ticket_assignee_id=assignee,
        )
        is visible
    )


def test_ranks():
    assert at_least(Role.ADMIN, Role.SUPERVISOR) and not at_least(Role.SPECIALIST, Role.SUPERVISOR)
    assert [can_administer(r) for r in Role] == [False, False, False, True]
