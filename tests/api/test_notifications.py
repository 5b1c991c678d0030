"""Each staff member reads and marks their own notices."""

from __future__ import annotations

import base64
import json

import pytest

from kefu.db.models import Notification
from tests import factories
from tests.checks import api_error


def _notice(db, user, body, **extra):
    row = Notification(user_id=user.id, kind=extra.pop("kind", "sla.warn"), body=body, **extra)
    db.add(row)
    db.commit()
    return row


def test_i_see_only_my_notices_newest_first_and_mark_them_read(db, client_for):
    me, other = factories.make_user(db), factories.make_user(db)
    ticket = factories.make_ticket(db)
    first = _notice(db, me, "工单时限已用去 80%", ticket_id=ticket.id)
    second = _notice(db, me, "需要主管审批", kind="case.approval")
    theirs = _notice(db, other, "别人的通知")
    api = client_for(me)
    page = api.get("/api/v1/notifications").json()
    assert [n["id"] for n in page["items"]] == [second.id, first.id] and page["unread"] == 2
    assert page["items"][1]["ticket_id"] == ticket.id
    read = api.post(f"/api/v1/notifications/{first.id}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert (
        api.post(f"/api/v1/notifications/{first.id}/read").json()["read_at"]
        == read.json()["read_at"]
    )  # once
    unread = api.get("/api/v1/notifications", params={"unread": True}).json()
    assert [n["id"] for n in unread["items"]] == [second.id] and unread["unread"] == 1
    missing = api.post(f"/api/v1/notifications/{theirs.id}/read")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.post("/api/v1/notifications/read-all").json() == {"marked": 1}
    assert api.get("/api/v1/notifications").json()["unread"] == 0
    assert client_for(other).get("/api/v1/notifications").json()["unread"] == 1  # theirs untouched


def test_notices_page_by_cursor(db, client_for):
    me = factories.make_user(db)
    made = [_notice(db, me, f"通知 {i}").id for i in range(5)]
    api = client_for(me)
    seen, cursor = [], None
    while True:
        page = api.get(
            "/api/v1/notifications", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    assert (
        api.get("/api/v1/notifications", params={"cursor": "nonsense"}).json()["error"]["code"]
        == "invalid_cursor"
    )


@pytest.mark.parametrize("before", [2**63, 2**64 + 5, 10**30, 0, -3, 2.5, "7", None])
def test_cursor_outside_the_id_range_is_invalid_not_a_crash(db, client_for, before):
    """Regression: a cursor decoding to 2**63 or more reached the database and answered 500."""
    me = factories.make_user(db)
    _notice(db, me, "通知")
    cursor = base64.urlsafe_b64encode(json.dumps({"before": before}).encode()).decode()
    response = client_for(me).get("/api/v1/notifications", params={"cursor": cursor})
    api_error(response, 400, "invalid_cursor")
