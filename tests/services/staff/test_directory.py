"""Who watches a group: its active supervisors, else every active supervisor."""

from __future__ import annotations

from kefu.services.actors import SYSTEM
from kefu.services.staff import directory as staff
from tests import factories


def _deactivate(db, user):
    staff.do_update_user(db, SYSTEM, user, {"is_active": False})
    db.commit()


def test_a_groups_supervisors_are_its_active_supervisor_members_by_id(db):
    complaints, after_sale = factories.make_group(db), factories.make_group(db)
    lead = factories.make_user(db, role="supervisor", groups=[complaints])
    deputy = factories.make_user(db, role="supervisor", groups=[complaints, after_sale])
    factories.make_user(db, role="supervisor", groups=[after_sale])  # another group's
    factories.make_user(db, role="agent", groups=[complaints])
    factories.make_user(db, role="specialist", groups=[complaints])
    gone = factories.make_user(db, role="supervisor", groups=[complaints])
    _deactivate(db, gone)
    assert staff.supervisors_of(db, complaints.id) == [lead.id, deputy.id]


def test_without_supervisors_of_its_own_a_group_falls_back_to_every_active_supervisor(db):
    watched, unwatched = factories.make_group(db), factories.make_group(db)
    elsewhere = factories.make_user(db, role="supervisor", groups=[watched])
    floating = factories.make_user(db, role="supervisor")
    factories.make_user(db, role="agent", groups=[unwatched])
    gone = factories.make_user(db, role="supervisor", groups=[unwatched])
    _deactivate(db, gone)  # an inactive member does not count as the group's supervisor
    everyone = [elsewhere.id, floating.id]
    assert staff.supervisors_of(db, unwatched.id) == everyone
    assert staff.supervisors_of(db, None) == everyone  # a case of the shared queue
    assert staff.supervisors_of(db, unwatched.id, fall_back_to_all=False) == []
    assert staff.supervisors_of(db, None, fall_back_to_all=False) == []
    assert staff.supervisors_of(db, watched.id, fall_back_to_all=False) == [elsewhere.id]
