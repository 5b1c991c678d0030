"""/api/v1/users and /api/v1/groups: staff accounts and groups, configured by admins only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from kefu.db.models import AuditEvent, Group, Ticket, User, group_members
from tests import factories
from tests.checks import api_error as _error


def _login(anon, email: str, password: str = factories.PASSWORD):
    return anon.post("/api/v1/auth/login", json={"email": email, "password": password})


def _state(db) -> tuple:
    """Everything about staff that a refused request must leave unchanged."""
    db.rollback()  # end the read snapshot to see what the server committed
    users = db.execute(
        select(User.id, User.email, User.name, User.role, User.is_active, User.capacity).order_by(
            User.id
        )
    ).all()
    groups = db.execute(select(Group.id, Group.name, Group.description).order_by(Group.id)).all()
    members = db.execute(
        select(group_members.c.group_id, group_members.c.user_id).order_by(
            group_members.c.group_id, group_members.c.user_id
        )
    ).all()
    return users, groups, members


# --- users --------------------------------------------------------------------------------


def test_admin_creates_reads_updates_and_deactivates_a_user(api, anon, db, admin):
    north, south = factories.make_group(db, "华北组"), factories.make_group(db, "华南组")
    created = api.post(
        "/api/v1/users",
        json={
            "email": "Xiao.Li@Example.CN",
            "name": "小李",
            "role": "specialist",
            "password": "a-long-password",
            "group_ids": [north.id],
            "capacity": 5,
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "xiao.li@example.cn"
    assert (user["name"], user["role"], user["is_active"], user["capacity"], user["language"]) == (
        "小李",
        "specialist",
        True,
        5,
        "zh-CN",
    )
    assert user["group_ids"] == [north.id]
    assert "password" not in user and "password_hash" not in user
    assert api.get(f"/api/v1/users/{user['id']}").json() == user
    assert user["id"] in [u["id"] for u in api.get("/api/v1/users").json()]
    assert _login(anon, "xiao.li@example.cn", "a-long-password").status_code == 200

    updated = api.patch(
        f"/api/v1/users/{user['id']}",
        json={
            "name": "李主管",
            "role": "supervisor",
            "group_ids": [south.id, north.id],
            "capacity": 20,
            "language": "en",
        },
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["name"], body["role"], body["capacity"], body["language"]) == (
        "李主管",
        "supervisor",
        20,
        "en",
    )
    assert sorted(body["group_ids"]) == sorted([north.id, south.id])
    assert api.get(f"/api/v1/users/{user['id']}").json() == body

    deleted = api.delete(f"/api/v1/users/{user['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get(f"/api/v1/users/{user['id']}").json()["is_active"] is False

    db.rollback()
    actions = db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "user", AuditEvent.object_id == user["id"])
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "user.create",
        "auth.login",
        "user.update",
        "user.update",
        "user.credentials_revoked",  # deactivating ended the login session
    ]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(api, client_for, db, admin):
    _error(api.patch(f"/api/v1/users/{admin.id}", json={"role": "supervisor"}), 409, "last_admin")
    _error(api.patch(f"/api/v1/users/{admin.id}", json={"is_active": False}), 409, "last_admin")
    _error(api.delete(f"/api/v1/users/{admin.id}"), 409, "last_admin")
    assert api.get(f"/api/v1/users/{admin.id}").json()["role"] == "admin"

    # With a second admin, either may step down, and then the other is the last one.
    second = factories.make_user(db, role="admin")
    assert (
        api.patch(
            f"/api/v1/users/{admin.id}", json={"role": "supervisor", "name": "周主管"}
        ).status_code
        == 200
    )
    _error(
        api.post("/api/v1/groups", json={"name": "新组"}), 403, "forbidden"
    )  # no longer an admin, at once
    other = client_for(second)
    _error(other.delete(f"/api/v1/users/{second.id}"), 409, "last_admin")
    # Changing the last admin otherwise still works: only losing admin rights is refused.
    assert (
        other.patch(
            f"/api/v1/users/{second.id}", json={"name": "新管理员", "role": "admin"}
        ).status_code
        == 200
    )


def test_password_change_takes_effect_and_is_not_audited_in_clear(api, anon, db):
    user = factories.make_user(db, email="pw@example.cn")
    assert (
        api.patch(f"/api/v1/users/{user.id}", json={"password": "brand-new-secret"}).status_code
        == 200
    )
    _error(_login(anon, "pw@example.cn"), 401, "invalid_credentials")
    signed_in = _login(anon, "pw@example.cn", "brand-new-secret")
    assert signed_in.status_code == 200 and signed_in.json()["must_change_password"] is True
    db.rollback()
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "user.update", AuditEvent.object_id == user.id
        )
    )
    assert event.before == {"password": "***", "must_change_password": False}
    assert event.after == {"password": "***", "must_change_password": True}  # theirs to change
    assert "brand-new-secret" not in str(event.after)


def test_user_validation_and_unknown_ids(api, db):
    _error(
        api.post("/api/v1/users", json={"email": "x@example.cn", "name": "X", "role": "boss"}),
        422,
        "validation_error",
    )
    _error(
        api.post("/api/v1/users", json={"email": "x@example.cn", "name": "X", "password": "short"}),
        422,
        "validation_error",
    )
    missing = _error(
        api.post("/api/v1/users", json={"email": "x@example.cn", "name": "X", "group_ids": [4242]}),
        404,
        "not_found",
    )
    assert missing["details"] == {"group_ids": [4242]}
    db.rollback()
    assert db.scalar(select(User.id).where(User.email == "x@example.cn")) is None
    _error(api.get("/api/v1/users/4242"), 404, "not_found")
    _error(api.patch("/api/v1/users/4242", json={"name": "无"}), 404, "not_found")
    # A name longer than its column is refused at the edge, not by the database.
    _error(
        api.post("/api/v1/users", json={"email": "y@example.cn", "name": "长" * 101}),
        422,
        "validation_error",
    )
    me = api.get("/api/v1/auth/me").json()["id"]
    _error(api.patch(f"/api/v1/users/{me}", json={"name": "长" * 101}), 422, "validation_error")
    _error(api.delete("/api/v1/users/4242"), 404, "not_found")


def test_context_specific_words_are_refused_in_new_and_changed_passwords(api, db):
    """The product's words, the e-mail domain's name and the person's name (as written and in
    pinyin) are barred whatever their case; nothing is stored."""
    new = {"email": "zhou.min@lanjing-shop.cn", "name": "周敏"}
    for password, word in (
        ("My-KeFu-password-2026", "kefu"),
        ("客服部门的密码-2026", "客服"),
        ("Lanjing-Shop-2026!", "lanjing-shop"),
        ("spring-ZhouMin-2026", "zhoumin"),
    ):
        error = _error(
            api.post("/api/v1/users", json={**new, "password": password}), 422, "validation_error"
        )
        assert word in error["details"]["password"], password
    db.rollback()
    assert db.scalar(select(User.id).where(User.email == new["email"])) is None
    user = api.post("/api/v1/users", json={**new, "password": "violet-harbour-kettle"}).json()
    db.rollback()
    hash_before = db.scalar(select(User.password_hash).where(User.id == user["id"]))
    error = _error(
        api.patch(f"/api/v1/users/{user['id']}", json={"password": "zhou-min-likes-tea"}),
        422,
        "validation_error",
    )
    assert "zhoumin" in error["details"]["password"]
    db.rollback()
    assert db.scalar(select(User.password_hash).where(User.id == user["id"])) == hash_before


def test_skills_are_stripped_deduplicated_sorted_and_audited(api, db):
    created = api.post(
        "/api/v1/users",
        json={
            "email": "lily@example.cn",
            "name": "Lily",
            "skills": [" product:家电 ", "lang:en", "lang:en"],
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["skills"], user["online"]) == (["lang:en", "product:家电"], False)
    changed = api.patch(
        f"/api/v1/users/{user['id']}", json={"skills": ["product:手机", "lang:en", "x" * 50]}
    )
    assert changed.json()["skills"] == ["lang:en", "product:手机", "x" * 50]
    assert (
        api.patch(f"/api/v1/users/{user['id']}", json={"skills": None}).json()["skills"]
        == changed.json()["skills"]
    )
    assert api.patch(f"/api/v1/users/{user['id']}", json={"skills": []}).json()["skills"] == []
    db.rollback()
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_id == user["id"], AuditEvent.object_type == "user")
        .order_by(AuditEvent.id)
    ).all()
    assert events[0].after["skills"] == ["lang:en", "product:家电"]
    assert [(e.before, e.after) for e in events[1:]] == [
        (
            {"skills": ["lang:en", "product:家电"]},
            {"skills": ["lang:en", "product:手机", "x" * 50]},
        ),
        ({"skills": ["lang:en", "product:手机", "x" * 50]}, {"skills": []}),
    ]


def test_bad_skills_are_422_and_change_nothing(api, db):
    user = factories.make_user(db)
    before = _state(db)
    for skills in (
        [""],
        ["   "],
        ["x" * 51],
        [f"s{i}" for i in range(51)],
        "lang:en",
        [1],
        [None],
        {"lang": "en"},
    ):
        _error(
            api.patch(f"/api/v1/users/{user.id}", json={"skills": skills}), 422, "validation_error"
        )
        _error(
            api.post(
                "/api/v1/users", json={"email": "bad@example.cn", "name": "坏", "skills": skills}
            ),
            422,
            "validation_error",
        )
    assert _state(db) == before
    assert api.get(f"/api/v1/users/{user.id}").json()["skills"] == []


def test_email_taken_is_409(api, db, admin):
    other = factories.make_user(db, email="taken@example.cn")
    error = _error(
        api.post("/api/v1/users", json={"email": "TAKEN@example.cn", "name": "重名"}),
        409,
        "email_taken",
    )
    assert error["details"] == {"field": "email"}
    _error(
        api.post("/api/v1/users", json={"email": "admin@example.cn", "name": "重名"}),
        409,
        "email_taken",
    )
    before = _state(db)
    _error(
        api.patch(f"/api/v1/users/{other.id}", json={"email": "Admin@Example.cn", "name": "改了"}),
        409,
        "email_taken",
    )
    assert _state(db) == before
    # Its own address (in another case) is not "taken".
    same = api.patch(f"/api/v1/users/{other.id}", json={"email": "Taken@Example.cn"})
    assert same.status_code == 200 and same.json()["email"] == "taken@example.cn"


def test_concurrent_creation_with_one_email_or_group_name_is_one_201(api, db):
    with ThreadPoolExecutor(6) as pool:
        users = list(
            pool.map(
                lambda _: api.post(
                    "/api/v1/users", json={"email": "race@example.cn", "name": "抢"}
                ),
                range(6),
            )
        )
        groups = list(
            pool.map(lambda _: api.post("/api/v1/groups", json={"name": "抢组"}), range(6))
        )
    assert sorted(r.status_code for r in users) == [201] + [409] * 5, [r.text for r in users]
    assert sorted(r.status_code for r in groups) == [201] + [409] * 5, [r.text for r in groups]
    for response in users:
        if response.status_code != 201:
            _error(response, 409, "email_taken")
    for response in groups:
        if response.status_code != 201:
            _error(response, 409, "name_taken")
    db.rollback()
    assert (
        db.scalar(select(func.count()).select_from(User).where(User.email == "race@example.cn"))
        == 1
    )
    assert db.scalar(select(func.count()).select_from(Group)) == 1


@pytest.mark.parametrize("role", ["agent", "specialist", "supervisor"])
def test_only_admins_configure_staff(role, client_for, db, admin):
    group = factories.make_group(db, "客服一组")
    colleague = factories.make_user(db, groups=[group])
    client = client_for(factories.make_user(db, role=role))
    factories.make_ticket(db)  # unrelated data must stay too
    before = _state(db)

    _error(
        client.post("/api/v1/users", json={"email": "new@example.cn", "name": "新人"}),
        403,
        "forbidden",
    )
    _error(client.patch(f"/api/v1/users/{colleague.id}", json={"role": "admin"}), 403, "forbidden")
    _error(
        client.patch(f"/api/v1/users/{colleague.id}", json={"is_active": False}), 403, "forbidden"
    )
    _error(client.delete(f"/api/v1/users/{colleague.id}"), 403, "forbidden")
    _error(client.post("/api/v1/groups", json={"name": "新组"}), 403, "forbidden")
    _error(client.patch(f"/api/v1/groups/{group.id}", json={"member_ids": []}), 403, "forbidden")
    _error(client.delete(f"/api/v1/groups/{group.id}"), 403, "forbidden")
    # ...and not promoting themselves either.
    me = client.get("/api/v1/auth/me").json()
    _error(client.patch(f"/api/v1/users/{me['id']}", json={"role": "admin"}), 403, "forbidden")
    _error(
        client.patch(f"/api/v1/users/{me['id']}", json={"skills": ["lang:en"]}), 403, "forbidden"
    )

    assert _state(db) == before
    # Reading the staff list is allowed.
    assert client.get("/api/v1/users").status_code == 200
    assert client.get(f"/api/v1/groups/{group.id}").json()["member_ids"] == [colleague.id]


def test_deactivated_users_token_and_session_stop_working(api, anon, client_for, db):
    agent = factories.make_user(db, email="leaver@example.cn")
    client = client_for(agent)
    assert client.get("/api/v1/auth/me").status_code == 200
    assert _login(anon, "leaver@example.cn").status_code == 200
    assert anon.get("/api/v1/auth/me").status_code == 200

    assert api.delete(f"/api/v1/users/{agent.id}").status_code == 204
    _error(client.get("/api/v1/auth/me"), 401, "not_authenticated")
    _error(client.get("/api/v1/tickets"), 401, "not_authenticated")
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")
    _error(_login(anon, "leaver@example.cn"), 401, "invalid_credentials")


def test_an_admin_setting_a_password_ends_the_users_sessions_and_tokens(api, anon, client_for, db):
    agent = factories.make_user(db, email="reset@example.cn")
    client = client_for(agent)
    assert _login(anon, "reset@example.cn").status_code == 200

    assert (
        api.patch(f"/api/v1/users/{agent.id}", json={"password": "brand-new-secret"}).status_code
        == 200
    )
    _error(client.get("/api/v1/auth/me"), 401, "not_authenticated")
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")
    assert api.get("/api/v1/auth/me").status_code == 200  # the admin's own token is not touched
    db.rollback()
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "user.credentials_revoked", AuditEvent.object_id == agent.id
        )
    )
    assert event.after == {"reason": "password_changed", "sessions_ended": 1, "tokens_revoked": 1}


def test_reactivating_a_user_does_not_bring_back_old_sessions_or_tokens(api, anon, client_for, db):
    agent = factories.make_user(db, email="returner@example.cn")
    client = client_for(agent)
    assert _login(anon, "returner@example.cn").status_code == 200

    assert api.delete(f"/api/v1/users/{agent.id}").status_code == 204
    assert api.patch(f"/api/v1/users/{agent.id}", json={"is_active": True}).status_code == 200
    _error(client.get("/api/v1/auth/me"), 401, "not_authenticated")
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")
    assert _login(anon, "returner@example.cn").status_code == 200  # a new login works
    db.rollback()
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "user.credentials_revoked", AuditEvent.object_id == agent.id
        )
    )
    assert event.after == {"reason": "deactivated", "sessions_ended": 1, "tokens_revoked": 1}


# --- groups -------------------------------------------------------------------------------


def test_admin_creates_reads_updates_and_deletes_a_group(api, db):
    a, b = factories.make_user(db), factories.make_user(db)
    created = api.post(
        "/api/v1/groups", json={"name": "售后组", "description": "退换货", "member_ids": [a.id]}
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["name"], group["description"], group["member_ids"]) == (
        "售后组",
        "退换货",
        [a.id],
    )
    assert api.get(f"/api/v1/groups/{group['id']}").json() == group
    assert [g["id"] for g in api.get("/api/v1/groups").json()] == [group["id"]]

    updated = api.patch(
        f"/api/v1/groups/{group['id']}",
        json={"name": "售后二组", "description": "", "member_ids": [b.id, a.id]},
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["name"], updated.json()["description"]) == ("售后二组", "")
    assert sorted(updated.json()["member_ids"]) == sorted([a.id, b.id])
    assert api.get(f"/api/v1/groups/{group['id']}").json() == updated.json()

    deleted = api.delete(f"/api/v1/groups/{group['id']}")
    assert deleted.status_code == 204
    _error(api.get(f"/api/v1/groups/{group['id']}"), 404, "not_found")
    assert api.get(f"/api/v1/users/{a.id}").json()["group_ids"] == []
    db.rollback()
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "group").order_by(AuditEvent.id)
    ).all()
    assert actions == ["group.create", "group.update", "group.delete"]


def test_group_name_taken_is_409(api, db):
    factories.make_group(db, "VIP组")
    other = factories.make_group(db, "普通组")
    error = _error(api.post("/api/v1/groups", json={"name": "VIP组"}), 409, "name_taken")
    assert error["details"] == {"field": "name"}
    before = _state(db)
    _error(
        api.patch(f"/api/v1/groups/{other.id}", json={"name": "VIP组", "description": "改了"}),
        409,
        "name_taken",
    )
    assert _state(db) == before
    # Renaming to its own name is no conflict.
    assert api.patch(f"/api/v1/groups/{other.id}", json={"name": "普通组"}).status_code == 200


def test_group_with_tickets_cannot_be_deleted(api, db):
    member = factories.make_user(db)
    group = factories.make_group(db, "忙碌组", member_ids=[member.id])
    tickets = [factories.make_ticket(db, group=group) for _ in range(2)]
    before = _state(db)

    error = _error(api.delete(f"/api/v1/groups/{group.id}"), 409, "group_not_empty")
    assert error["details"] == {"tickets": 2}
    assert "2" in error["message"]
    assert _state(db) == before
    assert api.get(f"/api/v1/groups/{group.id}").json()["member_ids"] == [member.id]
    assert {t.id: group.id for t in tickets} == dict(
        db.execute(select(Ticket.id, Ticket.group_id)).all()
    )
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "group.delete")
        )
        == 0
    )
    _error(api.delete("/api/v1/groups/4242"), 404, "not_found")


def test_group_with_unknown_member_is_404(api, db):
    error = _error(
        api.post("/api/v1/groups", json={"name": "幽灵组", "member_ids": [4242]}), 404, "not_found"
    )
    assert error["details"] == {"member_ids": [4242]}
    db.rollback()
    assert db.scalar(select(Group.id)) is None


# --- membership ---------------------------------------------------------------------------


def test_membership_changes_are_visible_in_get_and_in_access(api, client_for, db):
    pre_sales, after_sales = factories.make_group(db, "售前"), factories.make_group(db, "售后")
    agent = factories.make_user(db, groups=[pre_sales])
    ticket = factories.make_ticket(db, group=after_sales)
    client = client_for(agent)
    _error(client.get(f"/api/v1/tickets/{ticket.id}"), 404, "not_found")

    # Through the user: the group lists the new member, and access follows at once.
    assert (
        api.patch(f"/api/v1/users/{agent.id}", json={"group_ids": [after_sales.id]}).status_code
        == 200
    )
    assert api.get(f"/api/v1/users/{agent.id}").json()["group_ids"] == [after_sales.id]
    assert api.get(f"/api/v1/groups/{after_sales.id}").json()["member_ids"] == [agent.id]
    assert api.get(f"/api/v1/groups/{pre_sales.id}").json()["member_ids"] == []
    assert client.get(f"/api/v1/tickets/{ticket.id}").status_code == 200

    # Through the group: the user's groups change the other way round.
    assert (
        api.patch(f"/api/v1/groups/{pre_sales.id}", json={"member_ids": [agent.id]}).status_code
        == 200
    )
    assert api.patch(f"/api/v1/groups/{after_sales.id}", json={"member_ids": []}).status_code == 200
    assert api.get(f"/api/v1/users/{agent.id}").json()["group_ids"] == [pre_sales.id]
    assert [u["group_ids"] for u in api.get("/api/v1/users").json() if u["id"] == agent.id] == [
        [pre_sales.id]
    ]
    _error(client.get(f"/api/v1/tickets/{ticket.id}"), 404, "not_found")


def test_a_group_keeps_its_working_hours_and_refuses_nonsense(api):
    hours = {
        "weekly": [[["08:00", "22:00"]]] * 7,
        "official_holidays": False,
        "timezone": "Asia/Shanghai",
    }
    created = api.post(
        "/api/v1/groups", json={"name": "夜班组", "calendar": hours, "assign_mode": "round_robin"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["calendar"] == hours and created.json()["assign_mode"] == "round_robin"
    bad = api.post(
        "/api/v1/groups", json={"name": "坏组", "calendar": {"weekly": [[["18:00", "09:00"]]] * 7}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_calendar"
    assert "end before" in bad.json()["error"]["message"]
    group_id = created.json()["id"]
    refused = api.patch(
        f"/api/v1/groups/{group_id}", json={"calendar": {"timezone": "Mars/Olympus"}}
    )
    assert refused.status_code == 422
    assert api.get(f"/api/v1/groups/{group_id}").json()["calendar"] == hours  # kept intact
    assert (
        api.post("/api/v1/groups", json={"name": "x", "assign_mode": "random"}).status_code == 422
    )


def test_an_admin_changing_their_own_email_or_password_proves_the_current_password(api, db, admin):
    """ASVS V7.5.1: the sign-in attributes of one's own account change only with the password
    typed again; someone else's (an admin's work) and other fields need none."""
    me = f"/api/v1/users/{admin.id}"
    for body in ({"email": "new-admin@example.cn"}, {"password": "brand-new-secret"}):
        _error(api.patch(me, json=body), 403, "wrong_password")
        wrong = {**body, "current_password": "not-the-password"}
        assert _error(api.patch(me, json=wrong), 403, "wrong_password")["details"] == {
            "field": "current_password"
        }
    db.rollback()
    assert db.get(User, admin.id).email == "admin@example.cn"
    assert api.patch(me, json={"name": "新名字", "email": "Admin@example.cn"}).status_code == 200
    moved = api.patch(me, json={"email": "new-admin@example.cn",
                                "current_password": factories.PASSWORD})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["email"] == "new-admin@example.cn"
    other = factories.make_user(db)
    changed = api.patch(f"/api/v1/users/{other.id}", json={"email": "moved@example.cn"})
    assert changed.status_code == 200
