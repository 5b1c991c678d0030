"""/api/v1/sla/policies: the effective table, admins configure a channel × priority, tickets follow."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import func, select

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AuditEvent, SlaPolicy
from kefu.domain.tickets import Channel, Priority
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.sla import clocks as sla
from tests import factories
from tests.checks import api_error as _error

H, DAY = 3600, 86400
NEW_EMAIL_P4 = {"first_response_s": 600, "next_response_s": None, "resolution_s": H}


def _table(client) -> dict[tuple[str, str], dict]:
    response = client.get("/api/v1/sla/policies")
    assert response.status_code == 200, response.text
    return {(p["channel"], p["priority"]): p for p in response.json()}


def _sweep(engine, at):
    return sla.sweep_until_done(make_session_factory(writer_bind(engine)), lambda: at)


def test_the_defaults_of_the_references_are_listed_for_every_channel_and_priority(client_for, db):
    table = _table(client_for(factories.make_user(db)))  # any staff member may read it
    assert set(table) == {(c.value, p.value) for c in Channel for p in Priority}
    assert {p["source"] for p in table.values()} == {"default"}
    assert table["webchat", "P4"]["first_response_s"] == 30
    assert table["email", "P4"]["first_response_s"] == 24 * H
    assert table["social", "P4"]["first_response_s"] == H
    assert (
        table["email", "P1"]["first_response_s"] == 15 * 60
    )  # a crisis is answered faster than the channel's norm
    assert [table["email", p]["resolution_s"] for p in ("P1", "P2", "P3", "P4")] == [
        2 * H,
        24 * H,
        72 * H,
        5 * DAY,
    ]
    assert table["webchat", "P3"] == {
        "channel": "webchat",
        "priority": "P3",
        "first_response_s": 30,
        "next_response_s": 120,
        "resolution_s": 72 * H,
        "source": "default",
    }


def test_admin_configures_and_resets_a_policy_audited(api, db, admin):
    put = api.put("/api/v1/sla/policies/email/P4", json=NEW_EMAIL_P4)
    assert put.status_code == 200, put.text
    assert put.json() == {
        "channel": "email",
        "priority": "P4",
        **NEW_EMAIL_P4,
        "source": "configured",
    }
    table = _table(api)
    assert table["email", "P4"] == put.json()
    assert table["email", "P3"]["source"] == "default"  # only that pair
    again = api.put("/api/v1/sla/policies/email/P4", json={**NEW_EMAIL_P4, "first_response_s": 900})
    assert again.json()["first_response_s"] == 900
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SlaPolicy)) == 1

    assert api.delete("/api/v1/sla/policies/email/P4").status_code == 204
    assert _table(api)["email", "P4"] == {
        "channel": "email",
        "priority": "P4",
        "first_response_s": 24 * H,
        "next_response_s": 24 * H,
        "resolution_s": 5 * DAY,
        "source": "default",
    }
    _error(
        api.delete("/api/v1/sla/policies/email/P4"), 404, "not_found"
    )  # nothing configured any more

    db.rollback()
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "sla_policy").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "sla_policy.update",
        "sla_policy.update",
        "sla_policy.delete",
    ]
    assert {e.actor_id for e in events} == {admin.id}
    assert (
        events[0].before["source"] == "default" and events[0].before["first_response_s"] == 24 * H
    )
    assert events[0].after == {
        "channel": "email",
        "priority": "P4",
        **NEW_EMAIL_P4,
        "source": "configured",
    }
    assert (events[1].before["first_response_s"], events[1].after["first_response_s"]) == (600, 900)
    assert events[2].before["source"] == "configured" and events[2].after["source"] == "default"


def test_concurrent_first_configurations_of_one_pair_all_succeed_with_one_row(api, db):
    bodies = [{**NEW_EMAIL_P4, "first_response_s": 60 * (i + 1)} for i in range(6)]

    def put(body):
        # Six writers of one row queue for its lock; on a loaded machine the last may wait
        # past KEFU_LOCK_TIMEOUT_SECONDS and hear 409 record_busy with Retry-After, which a
        # client honours. Any other answer is a failure of the race this test is about.
        for _ in range(10):
            answer = api.put("/api/v1/sla/policies/email/P4", json=body)
            if answer.status_code != 409:
                return answer
            assert answer.json()["error"]["code"] == "record_busy", answer.text
            assert answer.headers.get("retry-after")
        return answer

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(put, bodies))
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    db.rollback()
    row = db.scalar(select(SlaPolicy))
    assert db.scalar(select(func.count()).select_from(SlaPolicy)) == 1 and row.first_response_s in {
        b["first_response_s"] for b in bodies
    }
    assert _table(api)["email", "P4"]["first_response_s"] == row.first_response_s


def test_bad_input_is_422_and_stores_nothing(api, db):
    for path, body in (
        ("/api/v1/sla/policies/fax/P1", NEW_EMAIL_P4),
        ("/api/v1/sla/policies/email/P5", NEW_EMAIL_P4),
        ("/api/v1/sla/policies/email/p4", NEW_EMAIL_P4),
        *(
            ("/api/v1/sla/policies/email/P4", {**NEW_EMAIL_P4, "first_response_s": bad})
            for bad in (0, -1, 1.5, "600", True, 365 * DAY + 1, [600])
        ),
        (
            "/api/v1/sla/policies/email/P4",
            {"first_response_s": 600, "next_response_s": 600},
        ),  # all three, always
        ("/api/v1/sla/policies/email/P4", {**NEW_EMAIL_P4, "warn_share": 0.5}),
    ):
        _error(api.put(path, json=body), 422, "validation_error")
    _error(api.delete("/api/v1/sla/policies/fax/P1"), 422, "validation_error")
    assert (
        api.put(
            "/api/v1/sla/policies/email/P4", json={**NEW_EMAIL_P4, "resolution_s": 365 * DAY}
        ).status_code
        == 200
    )
    assert api.delete("/api/v1/sla/policies/email/P4").status_code == 204
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SlaPolicy)) == 0
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.object_type == "sla_policy")
        )
        == 2
    )


def test_only_admins_change_policies(client_for, db):
    for role in ("agent", "supervisor"):
        client = client_for(factories.make_user(db, role=role))
        _error(client.put("/api/v1/sla/policies/email/P4", json=NEW_EMAIL_P4), 403, "forbidden")
        _error(client.delete("/api/v1/sla/policies/email/P4"), 403, "forbidden")
    db.add(
        SlaPolicy(
            channel="email", priority="P4", first_response_s=60, next_response_s=60, resolution_s=60
        )
    )
    db.commit()
    _error(client.delete("/api/v1/sla/policies/email/P4"), 403, "forbidden")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SlaPolicy)) == 1
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.object_type == "sla_policy")
        )
        == 0
    )


def _due(api, ticket) -> dict[str, datetime | None]:
    body = api.get(f"/api/v1/tickets/{ticket.id}").json()
    clocks = {c["target"]: c["due_at"] for c in body["sla"]}
    assert (
        clocks.get("first_response") == body["first_response_due_at"]
    )  # what the sweep wrote is what is shown
    return {
        k: datetime.fromisoformat(body[f"{k}_due_at"]) if body[f"{k}_due_at"] else None
        for k in ("first_response", "resolution")
    }


def test_open_tickets_follow_a_changed_policy_at_the_next_sweep(engine, api, db):
    group = factories.make_group(db, name="全天组", calendar={"always_open": True})
    ticket = factories.make_ticket(db, group=group, channel="email")
    other = factories.make_ticket(db, group=group, channel="webchat")  # another channel: left alone
    done = factories.make_ticket(db, group=group, channel="email")
    tickets.do_update_ticket(db, SYSTEM, done, {"status": "resolved"})
    db.commit()
    start = ticket.created_at
    _sweep(engine, utcnow())  # all three planned
    db.rollback()
    untouched = [(t.id, t.sla_check_at) for t in (other, done)]
    assert _due(api, ticket) == {
        "first_response": start + timedelta(hours=24),
        "resolution": start + timedelta(days=5),
    }

    assert api.put("/api/v1/sla/policies/email/P4", json=NEW_EMAIL_P4).status_code == 200
    db.rollback()
    assert ticket.sla_check_at <= utcnow()  # the sweep re-plans it now...
    assert [(t.id, t.sla_check_at) for t in (other, done)] == untouched  # ...and nothing else
    report = _sweep(engine, utcnow())
    assert report.checked == 1 and report.breaches == 0
    assert _due(api, ticket) == {
        "first_response": start + timedelta(minutes=10),
        "resolution": start + timedelta(hours=1),
    }

    assert api.delete("/api/v1/sla/policies/email/P4").status_code == 204
    _sweep(engine, utcnow())
    assert _due(api, ticket) == {
        "first_response": start + timedelta(hours=24),
        "resolution": start + timedelta(days=5),
    }


def test_assign_claim_and_the_customer_timeline_show_the_configured_budgets(api, db, client_for):
    """Regression: these three answers showed SLA clocks with the default budgets."""
    group = factories.make_group(db, name="全天组", calendar={"always_open": True})
    agent = factories.make_user(db, groups=[group])
    customer = factories.make_customer(db)
    assigned, claimed = (
        factories.make_ticket(db, customer=customer, group=group, channel="email") for _ in "ab"
    )
    assert api.put("/api/v1/sla/policies/email/P4", json=NEW_EMAIL_P4).status_code == 200

    def first_response_due(public: dict) -> datetime:
        (due,) = [c["due_at"] for c in public["sla"] if c["target"] == "first_response"]
        return datetime.fromisoformat(due)

    def configured(ticket) -> datetime:
        return ticket.created_at + timedelta(seconds=NEW_EMAIL_P4["first_response_s"])

    response = api.post(f"/api/v1/tickets/{assigned.id}/assign", json={"assignee_id": agent.id})
    assert response.status_code == 200, response.text
    assert first_response_due(response.json()) == configured(assigned)
    response = client_for(agent).post(f"/api/v1/tickets/{claimed.id}/claim")
    assert response.status_code == 200, response.text
    assert first_response_due(response.json()) == configured(claimed)
    response = api.get(f"/api/v1/customers/{customer.id}/timeline")
    assert response.status_code == 200, response.text
    shown = {e["ticket"]["id"]: first_response_due(e["ticket"]) for e in response.json()["tickets"]}
    assert shown == {assigned.id: configured(assigned), claimed.id: configured(claimed)}
