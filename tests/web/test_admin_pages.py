"""The admin pages over HTTP: only admins get in; each form creates and changes what the API
would, and bad input is shown next to its field and changes nothing."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import (
    ApiToken,
    AuditEvent,
    Customer,
    Group,
    Integration,
    Mailbox,
    MailRaw,
    RetentionRecord,
    RoutingRule,
    SlaPolicy,
    SocialFeed,
    SurveySetting,
    Ticket,
    TicketField,
    User,
    WebchatChannel,
    WechatAccount,
)
from kefu.domain.business_calendar import china_mainland
from kefu.services.actors import SYSTEM
from kefu.services.automations import triggers as automation_triggers
from kefu.services.cases import routing
from kefu.services.fields import definitions
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.mail.mailboxes import do_create_mailbox
from kefu.services.webhooks import sources as webhook_sources
from kefu.services.webhooks import subscriptions as webhook_subscriptions
from kefu.settings import Settings
from kefu.web.pages import admin as admin_pages
from kefu.web.render import LOCAL_ZONE
from tests import factories
from tests.web.conftest import Browser, SignIn
from tests.wechat_peer import make_account

TRIGGER = {"on": "created", "actions": [{"type": "tag", "tag": "新"}]}
# Every page and form of /admin, with the ids of rows the test below makes.
PAGES = (
    "/admin",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/groups",
    "/admin/groups/new",
    "/admin/groups/{group}",
    "/admin/routing",
    "/admin/routing/new",
    "/admin/routing/{rule}",
    "/admin/sla",
    "/admin/sla/{channel}/{priority}",
    "/admin/tokens",
    "/admin/integrations",
    "/admin/integrations/new",
    "/admin/integrations/{integration}",
    "/admin/webchat",
    "/admin/webchat/new",
    "/admin/webchat/{channel_id}",
    "/admin/mailboxes",
    "/admin/mailboxes/new",
    "/admin/mailboxes/{mailbox_id}",
    "/admin/webhook-sources",
    "/admin/webhook-sources/new",
    "/admin/webhook-sources/{source_id}",
    "/admin/webhook-subscriptions",
    "/admin/webhook-subscriptions/new",
    "/admin/webhook-subscriptions/{subscription_id}",
    "/admin/wechat",
    "/admin/wechat/new",
    "/admin/wechat/{account_id}",
    "/admin/social-feeds",
    "/admin/social-feeds/new",
    "/admin/social-feeds/{feed}",
    "/admin/surveys",
    "/admin/fields",
    "/admin/fields/new",
    "/admin/fields/{field}",
    "/admin/automations",
    "/admin/automations/new",
    "/admin/automations/{trigger}",
    "/admin/qa",
    "/admin/retention",
)
FORMS = (
    "/admin/users",
    "/admin/users/{user}",
    "/admin/users/{user}/password",
    "/admin/users/{user}/totp/reset",
    "/admin/users/{user}/sessions/end",
    "/admin/groups",
    "/admin/groups/{group}",
    "/admin/groups/{group}/delete",
    "/admin/routing",
    "/admin/routing/order",
    "/admin/routing/test",
    "/admin/routing/{rule}",
    "/admin/routing/{rule}/enabled",
    "/admin/routing/{rule}/move",
    "/admin/routing/{rule}/delete",
    "/admin/sla/{channel}/{priority}",
    "/admin/sla/{channel}/{priority}/reset",
    "/admin/tokens",
    "/admin/tokens/{token}/revoke",
    "/admin/integrations",
    "/admin/integrations/{integration}",
    "/admin/integrations/{integration}/revoke",
    "/admin/webchat",
    "/admin/webchat/{channel_id}",
    "/admin/webchat/{channel_id}/secret",
    "/admin/webchat/{channel_id}/delete",
    "/admin/mailboxes",
    "/admin/mailboxes/{mailbox_id}",
    "/admin/mailboxes/{mailbox_id}/check",
    "/admin/mailboxes/{mailbox_id}/reprocess/{raw_id}",
    "/admin/mailboxes/{mailbox_id}/delete",
    "/admin/webhook-sources",
    "/admin/webhook-sources/{source_id}",
    "/admin/webhook-sources/{source_id}/secret",
    "/admin/webhook-subscriptions",
    "/admin/webhook-subscriptions/{subscription_id}",
    "/admin/webhook-subscriptions/{subscription_id}/secret",
    "/admin/webhook-subscriptions/{subscription_id}/delete",
    "/admin/wechat",
    "/admin/wechat/{account_id}",
    "/admin/wechat/{account_id}/delete",
    "/admin/social-feeds",
    "/admin/social-feeds/{feed}",
    "/admin/social-feeds/{feed}/delete",
    "/admin/surveys/{channel}",
    "/admin/fields",
    "/admin/fields/{field}",
    "/admin/automations",
    "/admin/automations/timing",
    "/admin/automations/{trigger}",
    "/admin/automations/{trigger}/toggle",
    "/admin/automations/{trigger}/move",
    "/admin/automations/{trigger}/delete",
    "/admin/qa",
    "/admin/retention",
)


def _route_key(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_lists_above_name_every_admin_route() -> None:
    """A new admin page or form is covered by the permission tests only if it is listed here."""
    routes = set()
    for info in pkgutil.iter_modules(admin_pages.__path__):
        module = importlib.import_module(f"{admin_pages.__name__}.{info.name}")
        for route in getattr(getattr(module, "router", None), "routes", ()):
            routes |= {(method, _route_key(route.path)) for method in route.methods}
    listed = {("GET", _route_key(p)) for p in PAGES} | {("POST", _route_key(p)) for p in FORMS}
    assert routes == listed


def _reload(db: Session, row: object) -> None:
    """The row as the server left it (the test's session ends its read first)."""
    db.rollback()
    db.refresh(row)


def _fill(path: str, ids: dict[str, object]) -> str:
    return path.format(**ids)


def _rows(db: Session) -> dict[str, int]:
    db.rollback()
    return {
        model.__name__: db.scalar(select(func.count()).select_from(model)) or 0
        for model in (
            User,
            Group,
            RoutingRule,
            SlaPolicy,
            ApiToken,
            Integration,
            WebchatChannel,
            WechatAccount,
            TicketField,
            Mailbox,
            SocialFeed,
            SurveySetting,
            RetentionRecord,
        )  # fmt: skip
    } | {"audit": db.scalar(select(func.count()).select_from(AuditEvent)) or 0}


@pytest.mark.parametrize("role", ["agent", "specialist", "supervisor"])
def test_every_admin_page_and_form_is_a_403_page_for_the_other_roles(
    role: str, sign_in: SignIn, db: Session, admin: User, settings: Settings
) -> None:
    group = factories.make_group(db)
    rule = routing.do_create_rule(db, SYSTEM, name="规则", group_id=group.id)
    channel = factories.make_webchat_channel(db)
    factories.make_integration(db)
    factories.make_token(db, admin)
    field = definitions.do_create_field(db, SYSTEM, key="order_no", label="订单号", type="text")
    mailbox = do_create_mailbox(db, SYSTEM, secret_key="k", name="客服", address="kf@shop.test")
    _, source = webhook_sources.do_create_source(
        db, SYSTEM, name="呼叫中心", kinds=["sms.received"], secret_key="k"
    )
    _, subscription = webhook_subscriptions.do_create_subscription(
        db, SYSTEM, url="http://127.0.0.1:9/hook", events=["ticket.created"],
        guard=guard_of(), secret_key="k",
    )  # fmt: skip
    db.add(SocialFeed(name="品牌监测", url="https://monitor.example.cn/feed.json", last_count=0))
    trigger = automation_triggers.do_save_trigger(db, SYSTEM, name="规则", definition=TRIGGER)
    db.commit()
    ids = {
        "trigger": trigger.id,
        "feed": db.scalar(select(SocialFeed.id)),
        "mailbox_id": mailbox.id,
        "raw_id": 1,
        "source_id": source.id,
        "subscription_id": subscription.id,
        "field": field.id,
        "user": admin.id,
        "group": group.id,
        "rule": rule.id,
        "channel": "email",
        "priority": "P1",
        "integration": db.scalar(select(Integration.id)),
        "token": db.scalar(select(ApiToken.id)),
        "channel_id": channel.id,
        "account_id": make_account(db, settings.secret_key).id,
    }
    browser = sign_in(factories.make_user(db, role=role, groups=[group]))
    before = _rows(db)
    for path in PAGES:
        answer = browser.client.get(_fill(path, ids))
        assert answer.status_code == 403, path
        assert "<html" in answer.text and "forbidden" in answer.text, path
    for path in FORMS:
        answer = browser.form(_fill(path, ids), {"name": "改名", "enabled": "off"})
        assert answer.status_code == 403, path
    after = _rows(db)
    assert after == before


def _admin(sign_in: SignIn, admin: User) -> Browser:
    return sign_in(admin)


def _htmx(browser: Browser, path: str, data: dict[str, object]) -> httpx.Response:
    """A form posted by htmx, as the pages' script sends it: the token in a header."""
    return browser.client.post(
        path,
        data=data,  # type: ignore[arg-type]
        headers={
            "Origin": str(browser.client.base_url).rstrip("/"),
            "HX-Request": "true",
            "X-CSRF-Token": browser.csrf,
        },
    )


def test_the_index_shows_every_section(sign_in: SignIn, admin: User) -> None:
    page = _admin(sign_in, admin).client.get("/admin")
    assert page.status_code == 200
    for href in (
        "/admin/users",
        "/admin/groups",
        "/admin/routing",
        "/admin/sla",
        "/admin/tokens",
        "/admin/integrations",
        "/admin/webchat",
        "/admin/social-feeds",
    ):
        assert f'href="{href}"' in page.text
    assert "admin.css" in page.text and "admin.js" in page.text


# --- users ------------------------------------------------------------------------------------


def test_an_admin_creates_a_user_then_changes_role_groups_skills_capacity_and_active(
    sign_in: SignIn, server: str, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    group = factories.make_group(db, name="售后组")
    made = browser.form(
        "/admin/users",
        {
            "email": " Wang.Fang@Example.cn ",
            "name": "王芳",
            "role": "specialist",
            "group_ids": [str(group.id)],
            "language": "en",
            "capacity": "5",
            "skills": "product:家电，lang:en、 product:家电",
            "password": "long-enough-pw",
        },
    )
    assert made.status_code == 303, made.text
    db.rollback()
    user = db.scalar(select(User).where(User.email == "wang.fang@example.cn"))
    assert user is not None
    assert made.headers["location"] == f"/admin/users/{user.id}?done=created"
    assert (user.name, user.role, user.language, user.capacity, user.skills) == (
        "王芳",
        "specialist",
        "en",
        5,
        ["lang:en", "product:家电"],
    )
    assert [g.id for g in user.groups] == [group.id]
    person = sign_in(user, "long-enough-pw")  # the password set works
    assert "用户已创建" in browser.client.get(made.headers["location"]).text

    changed = browser.form(
        f"/admin/users/{user.id}",
        {
            "email": user.email,
            "name": "王芳芳",
            "role": "agent",
            "language": "zh-CN",
            "capacity": "3",
            "skills": "",
        },  # no group ticked, "active" unticked
    )
    assert changed.status_code == 303, changed.text
    _reload(db, user)
    assert (user.name, user.role, user.capacity, user.skills, user.is_active) == (
        "王芳芳",
        "agent",
        3,
        [],
        False,
    )
    assert user.groups == []
    assert person.client.get("/account").status_code == 303  # deactivated: signed out
    listing = browser.client.get("/admin/users")
    assert "王芳芳" in listing.text and "已停用" in listing.text


def test_bad_user_input_is_shown_next_to_its_field_and_changes_nothing(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    before = _rows(db)
    bad = browser.form(
        "/admin/users",
        {"email": "not-an-email", "name": " ", "role": "agent", "capacity": "-1", "skills": ""},
    )
    assert bad.status_code == 422
    assert re.search(r'id="error-email"[^>]*>格式不正确<', bad.text)
    assert re.search(r'id="error-name"[^>]*>不能为空<', bad.text)
    assert re.search(r'id="error-capacity"[^>]*>不能小于 0<', bad.text)
    assert 'value="not-an-email"' in bad.text  # the admin's input is kept
    taken = browser.form(
        "/admin/users",
        {
            "email": admin.email,
            "name": "重名",
            "role": "agent",
            "capacity": "x",
            "language": "zh-CN",
        },
    )
    assert re.search(r'id="error-capacity"[^>]*>请输入整数<', taken.text)
    taken = browser.form(
        "/admin/users",
        {
            "email": admin.email,
            "name": "重名",
            "role": "agent",
            "capacity": "10",
            "language": "zh-CN",
        },
    )
    assert taken.status_code == 422
    assert re.search(r'id="error-email"[^>]*>该邮箱已被使用<', taken.text)
    missing_group = browser.form(
        "/admin/users",
        {"email": "new@example.cn", "name": "新人", "role": "agent", "capacity": "10",
         "language": "zh-CN", "group_ids": ["999999"]},
    )  # fmt: skip
    assert missing_group.status_code == 422
    assert re.search(r'id="error-group_ids"[^>]*>分组不存在或无权访问<', missing_group.text)
    short = browser.form(
        "/admin/users",
        {"email": "new@example.cn", "name": "新人", "role": "agent", "capacity": "10",
         "password": "short"},
    )  # fmt: skip
    assert re.search(r'id="error-password"[^>]*>至少 8 个字符<', short.text)
    assert 'value="short"' not in short.text  # a password is never sent back
    last_admin = browser.form(
        f"/admin/users/{admin.id}",
        {"email": admin.email, "name": admin.name, "role": "agent", "capacity": "10",
         "language": "zh-CN", "is_active": "on"},
    )  # fmt: skip
    assert last_admin.status_code == 422
    assert "不能停用或降级最后一位管理员" in last_admin.text
    assert _rows(db) == before
    _reload(db, admin)
    assert admin.role == "admin" and admin.is_active


def test_an_admin_sets_a_new_password_and_the_persons_sessions_end(
    sign_in: SignIn, server: str, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    agent = factories.make_user(db)
    theirs = sign_in(agent)
    differ = browser.form(
        f"/admin/users/{agent.id}/password",
        {"new_password": "brand-new-pass", "repeat_password": "brand-new-pasz"},
    )
    assert differ.status_code == 422
    assert re.search(r'id="error-repeat_password"[^>]*>两次输入的新密码不一致<', differ.text)
    short = browser.form(
        f"/admin/users/{agent.id}/password", {"new_password": "short", "repeat_password": "short"}
    )
    assert re.search(r'id="error-new_password"[^>]*>至少 8 个字符<', short.text)
    assert theirs.client.get("/account").status_code == 200  # nothing changed yet
    done = browser.form(
        f"/admin/users/{agent.id}/password",
        {"new_password": "brand-new-pass", "repeat_password": "brand-new-pass"},
    )
    assert done.status_code == 303
    assert theirs.client.get("/account").status_code == 303
    sign_in(agent, "brand-new-pass")
    assert "密码已重设" in browser.client.get(done.headers["location"]).text


# --- groups and their hours --------------------------------------------------------------------


def _hours(**days: tuple[str, ...]) -> dict[str, str]:
    """Form fields of the week: day0=("09:00", "12:00", "13:30", "18:00") … (open days only)."""
    fields = {"official_holidays": "on", "makeup_start": "09:00", "makeup_end": "18:00"}
    for name, spans in days.items():
        fields[f"{name}_open"] = "on"
        for key, value in zip(("start1", "end1", "start2", "end2"), spans, strict=False):
            fields[f"{name}_{key}"] = value
    return fields


def _next_ordinary_weekday(after: int) -> date:
    """A weekday that is a working day in the official calendar, ``after`` days from today."""
    day = datetime.now(LOCAL_ZONE).date() + timedelta(days=after)
    calendar = china_mainland()
    while day.weekday() >= 5 or not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def test_an_admin_makes_a_group_with_members_hours_a_lunch_break_and_days_off(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    agent = factories.make_user(db, name="李娜")
    closure = _next_ordinary_weekday(5)
    week = {f"day{i}": ("09:00", "12:00", "13:30", "18:00") for i in range(5)}
    made = browser.form(
        "/admin/groups",
        {
            "name": "售后组",
            "description": "退换货与维修",
            "assign_mode": "round_robin",
            "member_ids": [str(agent.id)],
            "timezone": "Asia/Shanghai",
            **_hours(**week, day5=("10:00", "16:00")),
            "closures": f"{closure.isoformat()}\n2027-01-03",
            "workdays": "2027-01-09",
        },
    )
    assert made.status_code == 303, made.text
    db.rollback()
    group = db.scalar(select(Group).where(Group.name == "售后组"))
    assert group is not None
    assert (group.description, group.assign_mode) == ("退换货与维修", "round_robin")
    assert [u.id for u in group.members] == [agent.id]
    assert group.calendar == {
        "timezone": "Asia/Shanghai",
        "weekly": [[["09:00", "12:00"], ["13:30", "18:00"]]] * 5 + [[["10:00", "16:00"]], []],
        "official_holidays": True,
        "closures": sorted([closure.isoformat(), "2027-01-03"]),
        "workdays": ["2027-01-09"],
        "workday_hours": [["09:00", "18:00"]],
    }
    page = browser.client.get(f"/admin/groups/{group.id}")
    assert closure.isoformat() in page.text and "公司休息日" in page.text  # in the preview
    assert 'name="day0_start2" value="13:30"' in page.text
    listing = browser.client.get("/admin/groups")
    assert "周一至周五 09:00–12:00, 13:30–18:00" in listing.text
    assert "周六 10:00–16:00" in listing.text

    plain = browser.form(  # the default hours again: stored as "the company's default"
        f"/admin/groups/{group.id}",
        {
            "name": "售后组",
            "assign_mode": "least_loaded",
            "member_ids": [str(agent.id)],
            "timezone": "Asia/Shanghai",
            **_hours(**{f"day{i}": ("09:00", "18:00") for i in range(5)}),
        },
    )
    assert plain.status_code == 303
    _reload(db, group)
    assert group.calendar is None and group.assign_mode == "least_loaded"


def test_bad_hours_are_shown_on_their_day_and_change_nothing(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    group = factories.make_group(db, name="售前组", calendar={"always_open": True})
    factories.make_group(db, name="售后组")
    before = _rows(db)
    bad = browser.form(
        f"/admin/groups/{group.id}",
        {
            "name": "售后组",  # taken
            "assign_mode": "least_loaded",
            "timezone": "Asia/Shanghai",
            **_hours(day0=("18:00", "09:00"), day1=("09:00", "12:00", "11:00", "13:00")),
            "closures": "24/12/2026",
        },
    )
    assert bad.status_code == 422
    assert re.search(r'id="error-day0"[^>]*>下班时间须晚于上班时间<', bad.text)
    assert re.search(r'id="error-day1"[^>]*>第二段须在第一段结束之后开始<', bad.text)
    assert re.search(r'id="error-closures"[^>]*>日期格式应为 2026-12-24：24/12/2026<', bad.text)
    closed = browser.form(
        f"/admin/groups/{group.id}",
        {"name": "售后组", "assign_mode": "least_loaded", "timezone": "Asia/Shanghai",
         **_hours()},
    )  # fmt: skip
    assert re.search(r'id="error-weekly"[^>]*>至少要有一天有工作时间<', closed.text)
    taken = browser.form(
        f"/admin/groups/{group.id}",
        {"name": "售后组", "assign_mode": "least_loaded", "timezone": "Asia/Shanghai",
         **_hours(day0=("09:00", "18:00"))},
    )  # fmt: skip
    assert re.search(r'id="error-name"[^>]*>该名称已被使用<', taken.text)
    zone = browser.form(  # the service renames before it reads the hours: rolled back
        f"/admin/groups/{group.id}",
        {"name": "售前一组", "assign_mode": "least_loaded", "timezone": "Mars/Olympus",
         **_hours(day0=("09:00", "18:00"))},
    )  # fmt: skip
    assert zone.status_code == 422 and "工作时间设置无效" in zone.text
    assert _rows(db) == before
    _reload(db, group)
    assert (group.name, group.calendar) == ("售前组", {"always_open": True})


def test_a_group_with_tickets_is_not_deleted_and_an_empty_one_is(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    busy, empty = factories.make_group(db), factories.make_group(db)
    factories.make_ticket(db, group=busy)
    refused = browser.form(f"/admin/groups/{busy.id}/delete")
    assert refused.status_code == 409
    assert "该分组下还有 1 个工单，请先转移" in refused.text
    assert browser.form(f"/admin/groups/{empty.id}/delete").status_code == 303
    db.rollback()
    assert {g.id for g in db.scalars(select(Group))} == {busy.id}


# --- routing rules ------------------------------------------------------------------------------


def test_an_admin_adds_changes_disables_and_deletes_a_rule(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    vip_group = factories.make_group(db, name="VIP组")
    earlier = routing.do_create_rule(db, SYSTEM, name="在前", group_id=vip_group.id)
    db.commit()
    made = browser.form(
        "/admin/routing",
        {
            "name": "VIP 夜间",
            "group_id": str(vip_group.id),
            "channels": ["wechat"],
            "priorities": ["P2", "P1"],
            "customer_tags": "VIP，大客户",
            "business_hours": "out",
            "notify_supervisor": "on",
            "enabled": "on",
        },
    )
    assert made.status_code == 303, made.text
    db.rollback()
    rule = db.scalar(select(RoutingRule).where(RoutingRule.name == "VIP 夜间"))
    assert rule is not None and rule.position > earlier.position
    assert made.headers["location"] == f"/admin/routing?done=created#rule-{rule.id}"
    assert rule.conditions == {
        "channels": ["wechat"],
        "priorities": ["P1", "P2"],
        "customer_tags": ["VIP", "大客户"],
        "business_hours": False,
    }
    assert rule.notify_supervisor and rule.enabled
    listing = browser.client.get("/admin/routing")
    assert "VIP 夜间" in listing.text and "VIP、大客户" in listing.text
    assert "工作时间外" in listing.text

    form = browser.client.get(f"/admin/routing/{rule.id}").text
    assert re.search(r'value="wechat"\s+checked', form)
    changed = browser.form(
        f"/admin/routing/{rule.id}",
        {"name": "VIP 客户", "group_id": str(vip_group.id), "customer_tags": "VIP",
         "business_hours": "any"},
    )  # fmt: skip
    assert changed.status_code == 303
    _reload(db, rule)
    assert (rule.name, rule.conditions, rule.enabled, rule.notify_supervisor) == (
        "VIP 客户",
        {"customer_tags": ["VIP"]},
        False,
        False,
    )
    assert browser.form(f"/admin/routing/{rule.id}/enabled", {"enabled": "on"}).status_code == 303
    _reload(db, rule)
    assert rule.enabled
    assert browser.form(f"/admin/routing/{rule.id}/delete").status_code == 303
    db.rollback()
    assert [r.name for r in db.scalars(select(RoutingRule))] == ["在前"]


def test_bad_rules_are_shown_next_to_their_field_and_change_nothing(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    group = factories.make_group(db)
    before = _rows(db)
    no_group = browser.form("/admin/routing", {"name": "x", "group_id": ""})
    assert no_group.status_code == 422
    assert re.search(r'id="error-group_id"[^>]*>请选择分组<', no_group.text)
    no_name = browser.form("/admin/routing", {"name": "  ", "group_id": str(group.id)})
    assert re.search(r'id="error-name"[^>]*>不能为空<', no_name.text)
    long_name = browser.form("/admin/routing", {"name": "长" * 101, "group_id": str(group.id)})
    assert re.search(r'id="error-name"[^>]*>最多 100 个字符<', long_name.text)
    gone = browser.form("/admin/routing", {"name": "x", "group_id": "999999"})
    assert re.search(r'id="error-group_id"[^>]*>分组不存在或无权访问<', gone.text)
    assert _rows(db) == before


def _order(db: Session) -> list[str]:
    db.rollback()
    return [r.name for r in routing.list_rules(db)]


def test_rules_are_reordered_whole_and_one_step_at_a_time(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    group = factories.make_group(db)
    a, b, c = (routing.do_create_rule(db, SYSTEM, name=n, group_id=group.id) for n in "abc")
    db.commit()
    dragged = _htmx(browser, "/admin/routing/order", {"ids": [str(c.id), str(a.id), str(b.id)]})
    assert dragged.status_code == 204
    assert _order(db) == ["c", "a", "b"]
    assert browser.form(f"/admin/routing/{a.id}/move", {"direction": "up"}).status_code == 303
    assert _order(db) == ["a", "c", "b"]
    browser.form(f"/admin/routing/{b.id}/move", {"direction": "down"})  # last already
    assert _order(db) == ["a", "c", "b"]
    browser.form(f"/admin/routing/{a.id}/move", {"direction": "down"})
    assert _order(db) == ["c", "a", "b"]
    partial = _htmx(browser, "/admin/routing/order", {"ids": [str(a.id)]})
    assert partial.status_code == 422
    assert partial.json()["error"]["code"] == "invalid_rule_order"
    junk = _htmx(browser, "/admin/routing/order", {"ids": ["x"]})
    assert junk.status_code == 422
    assert _order(db) == ["c", "a", "b"]
    plain = browser.form("/admin/routing/order", {"ids": [str(a.id), str(b.id), str(c.id)]})
    assert plain.status_code == 303 and _order(db) == ["a", "b", "c"]
    page = browser.client.get("/admin/routing").text
    assert page.index('data-name="a"') < page.index('data-name="b"') < page.index('data-name="c"')


def _default_rules(db: Session) -> dict[str, Group]:
    groups = {
        n: factories.make_group(db, name=n)
        for n in ("售前组", "售后组", "投诉处理组", "技术支持组", "合规组", "产品安全组", "VIP组")
    }
    routing.ensure_default_rules(db)
    routing.do_create_rule(
        db,
        SYSTEM,
        name="VIP 客户",
        group_id=groups["VIP组"].id,
        conditions={"customer_tags": ["VIP"]},
        position=1,
    )
    db.commit()
    return groups


def test_the_tester_says_which_rule_would_route_a_message_and_why(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    _default_rules(db)
    counts = (Ticket, Customer, AuditEvent)
    before = [db.scalar(select(func.count()).select_from(m)) for m in counts]
    text = "我的快递一直没到，麻烦帮我查一下物流"
    vip = _htmx(
        browser,
        "/admin/routing/test",
        {"text": text, "channel": "wechat", "language": "zh-CN", "vip": "on"},
    )
    assert vip.status_code == 200
    assert "<html" not in vip.text  # the tester's part of the page only
    assert "命中规则" in vip.text and "「VIP 客户」" in vip.text
    assert "规则「VIP 客户」→ VIP组 → 暂无在线且有余量的客服，进入组内队列" in vip.text
    assert f">{text}</textarea>" in vip.text  # the form keeps what was tried
    assert re.search(r'name="vip"\s+checked', vip.text)
    assert re.search(r'value="wechat"\s+selected', vip.text)
    plain = _htmx(
        browser, "/admin/routing/test", {"text": text, "channel": "wechat", "language": "zh-CN"}
    )
    assert "规则「售后服务」→ 售后组" in plain.text
    assert "客户标签（任一）：需要 VIP，这条消息是 无" in plain.text
    assert "类别：需要 售前咨询，这条消息是 物流配送" in plain.text
    assert "也满足，但排在命中规则之后" not in plain.text
    db.rollback()
    assert [db.scalar(select(func.count()).select_from(m)) for m in counts] == before

    empty = browser.form("/admin/routing/test", {"text": " ", "channel": "wechat"})
    assert empty.status_code == 422 and "<html" in empty.text  # the whole page, without htmx
    assert re.search(r'id="error-text"[^>]*>请输入一条客户消息<', empty.text)
    bad_time = _htmx(
        browser,
        "/admin/routing/test",
        {"text": text, "channel": "fax", "language": "zh-CN", "at": "tomorrow"},
    )
    assert re.search(r'id="error-channel"[^>]*>请从列表中选择<', bad_time.text)
    assert re.search(r'id="error-at"[^>]*>格式不正确<', bad_time.text)
    assert "命中规则" not in bad_time.text
    far = _htmx(
        browser, "/admin/routing/test", {"text": text, "channel": "api", "at": "9999-12-31T23:59"}
    )
    assert far.status_code == 200 and re.search(r'id="error-at"[^>]*>格式不正确<', far.text)


def test_the_tester_reads_the_time_the_message_arrives_and_speaks_english(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    groups = _default_rules(db)
    routing.do_create_rule(
        db,
        SYSTEM,
        name="夜间值班",
        group_id=groups["投诉处理组"].id,
        conditions={"business_hours": False},
        position=2,
    )
    db.commit()
    fields = {"text": "请问这款电视有没有55寸的？", "channel": "webchat", "language": "zh-CN"}
    night = browser.form("/admin/routing/test", {**fields, "at": "2026-06-01T22:00"})
    assert "规则「夜间值班」→ 投诉处理组" in night.text
    day = browser.form("/admin/routing/test", {**fields, "at": "2026-06-01T10:00"})
    assert "规则「售前咨询」→ 售前组" in day.text
    assert "时间：需要 工作时间外，这条消息是 工作时间内" in day.text
    browser.client.get("/language?to=en&back=/admin/routing")
    english = browser.form("/admin/routing/test", {**fields, "at": "2026-06-01T10:00"})
    assert "Time: needs outside working hours; this message is within working hours" in english.text
    assert "Routing tester" in english.text


# --- SLA ------------------------------------------------------------------------------------------


def test_an_admin_sets_and_resets_the_budgets_of_a_channel_and_priority(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    bad = browser.form(
        "/admin/sla/email/P1",
        {"first_response_s": "abc", "first_response_s_unit": "h",
         "next_response_s": "9000", "next_response_s_unit": "h", "resolution_s": ""},
    )  # fmt: skip
    assert bad.status_code == 422
    assert re.search(r'id="error-first_response_s"[^>]*>请输入正整数<', bad.text)
    assert re.search(r'id="error-next_response_s"[^>]*>时限须在 1 分钟到 365 天之间<', bad.text)
    assert db.scalar(select(func.count()).select_from(SlaPolicy)) == 0
    done = browser.form(
        "/admin/sla/email/P1",
        {"first_response_s": "2", "first_response_s_unit": "h",
         "next_response_s": "30", "next_response_s_unit": "m",
         "resolution_s": "", "resolution_s_unit": "h"},
    )  # fmt: skip
    assert done.status_code == 303
    db.rollback()
    row = db.scalar(select(SlaPolicy))
    assert row is not None
    assert (row.channel, row.priority, row.first_response_s, row.next_response_s) == (
        "email",
        "P1",
        7200,
        1800,
    )
    assert row.resolution_s is None
    table = browser.client.get("/admin/sla").text
    assert "2 小时" in table and "30 分钟" in table and "自定义" in table
    assert "24 小时" in table  # the default P2 resolution: working hours, not "1 天"
    form = browser.client.get("/admin/sla/email/P1").text
    assert 'name="first_response_s" type="number" min="1" inputmode="numeric" value="2"' in form
    assert browser.form("/admin/sla/email/P1/reset").status_code == 303
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SlaPolicy)) == 0
    again = browser.form("/admin/sla/email/P1/reset")
    assert again.status_code == 422 and "SLA 策略不存在" in again.text
    assert browser.client.get("/admin/sla/fax/P1").status_code == 422


# --- tokens, integrations, web chat ------------------------------------------------------------


def test_a_token_is_shown_once_works_and_is_revoked(
    sign_in: SignIn, server: str, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    agent = factories.make_user(db, name="李娜")
    empty = browser.form("/admin/tokens", {"name": " ", "user_id": str(agent.id)})
    assert empty.status_code == 422
    assert re.search(r'id="error-name"[^>]*>不能为空<', empty.text)
    made = browser.form("/admin/tokens", {"name": "导出脚本", "user_id": str(agent.id)})
    assert made.status_code == 200
    secret = re.search(r'value="(kefu_[A-Za-z0-9_-]{20,})"', made.text)
    assert secret, made.text
    assert secret.group(1) not in browser.client.get("/admin/tokens").text  # shown once
    with httpx.Client(base_url=server) as api:
        bearer = {"Authorization": f"Bearer {secret.group(1)}"}
        assert api.get("/api/v1/users", headers=bearer).status_code == 200
        db.rollback()
        token = db.scalar(select(ApiToken).where(ApiToken.name == "导出脚本"))
        assert token is not None and token.user_id == agent.id
        assert browser.form(f"/admin/tokens/{token.id}/revoke").status_code == 303
        assert api.get("/api/v1/users", headers=bearer).status_code == 401


def test_an_integration_is_made_its_secrets_shown_once_and_it_is_revoked(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    bad = browser.form("/admin/integrations", {"name": "网关", "callback_url": "ftp://x.cn/cb"})
    assert bad.status_code == 422
    assert re.search(r'id="error-channels"[^>]*>至少选择一项<', bad.text)
    assert re.search(
        r'id="error-callback_url"[^>]*>请输入以 http:// 或 https:// 开头的网址<', bad.text
    )
    assert db.scalar(select(func.count()).select_from(Integration)) == 0
    made = browser.form(
        "/admin/integrations",
        {"name": "邮件网关", "channels": ["email", "api"], "callback_url": "https://x.cn/cb"},
    )
    assert made.status_code == 201
    assert re.search(r'value="kefu_int_[^"]+"', made.text)
    first_secret = re.search(r'value="(kefu_cb_[^"]+)"', made.text)
    assert first_secret
    db.rollback()
    integration = db.scalar(select(Integration))
    assert integration is not None and integration.channels == ["api", "email"]
    again = browser.client.get(f"/admin/integrations/{integration.id}").text
    assert "kefu_int_" not in again.replace(integration.prefix, "") and "kefu_cb_" not in again
    rotated = browser.form(
        f"/admin/integrations/{integration.id}",
        {"name": "邮件网关", "channels": ["email"], "callback_url": "https://x.cn/cb",
         "rotate_callback_secret": "on"},
    )  # fmt: skip
    new_secret = re.search(r'value="(kefu_cb_[^"]+)"', rotated.text)
    assert new_secret and new_secret.group(1) != first_secret.group(1)
    _reload(db, integration)
    assert new_secret.group(1) not in (integration.callback_secret_sealed or "")  # sealed
    assert factories.callback_secret(integration) == new_secret.group(1)
    assert integration.channels == ["email"]
    revoked = browser.form(f"/admin/integrations/{integration.id}/revoke")
    assert revoked.status_code == 303
    _reload(db, integration)
    assert integration.revoked_at is not None


def test_a_web_chat_channel_is_configured_its_secret_rotated_and_it_is_removed(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    group = factories.make_group(db, name="售前组")
    fields = {
        "name": "官方商城",
        "group_id": str(group.id),
        "greeting": "您好，有什么可以帮您？",
        "offline_message": "现在不在线，请留言",
        "offline_form": "on",
        "language": "zh-CN",
        "enabled": "on",
    }
    bad = browser.form("/admin/webchat", {**fields, "allowed_origins": "shop.example.cn/path"})
    assert bad.status_code == 422
    assert re.search(r'id="error-allowed_origins"[^>]*>网站来源格式应为', bad.text)
    assert db.scalar(select(func.count()).select_from(WebchatChannel)) == 0
    made = browser.form(
        "/admin/webchat",
        {**fields, "allowed_origins": "https://Shop.Example.cn/\n\nhttps://m.example.cn"},
    )
    assert made.status_code == 201
    db.rollback()
    channel = db.scalar(select(WebchatChannel))
    assert channel is not None
    assert channel.allowed_origins == ["https://shop.example.cn", "https://m.example.cn"]
    assert (channel.group_id, channel.greeting, channel.offline_form) == (
        group.id,
        "您好，有什么可以帮您？",
        True,
    )
    secret = factories.channel_secret(channel)
    assert f'value="{secret}"' in made.text  # shown this once
    assert secret not in channel.secret_sealed  # stored sealed
    page = browser.client.get(f"/admin/webchat/{channel.id}").text
    assert secret not in page and channel.secret_sealed not in page
    assert f"data-channel=&#34;{channel.key}&#34;" in page  # the snippet, as text
    assert "周一至周五 09:00–18:00" in page  # the group's hours: when chats are answered
    changed = browser.form(
        f"/admin/webchat/{channel.id}",
        {**fields, "group_id": "", "allowed_origins": "", "language": "en", "offline_form": ""},
    )
    assert changed.status_code == 303
    _reload(db, channel)
    assert (channel.group_id, channel.allowed_origins, channel.language, channel.offline_form) == (
        None,
        [],
        "en",
        False,
    )
    rotated = browser.form(f"/admin/webchat/{channel.id}/secret")
    _reload(db, channel)
    new = factories.channel_secret(channel)
    assert new != secret and f'value="{new}"' in rotated.text
    assert browser.client.get(f"/admin/webchat/{channel.id}").text.count(new) == 0
    assert browser.form(f"/admin/webchat/{channel.id}/delete").status_code == 303
    db.rollback()
    assert db.scalar(select(func.count()).select_from(WebchatChannel)) == 0


def test_the_bot_mode_of_a_web_chat_channel_is_set_and_a_wrong_one_refused(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    channel = factories.make_webchat_channel(db, name="机器人渠道")
    fields = {"name": "机器人渠道", "language": "zh-CN", "enabled": "on", "offline_form": "on"}
    page = browser.client.get(f"/admin/webchat/{channel.id}").text
    assert '<option value="off" selected>' in page
    assert (
        browser.form(f"/admin/webchat/{channel.id}", {**fields, "bot_mode": "first"}).status_code
        == 303
    )
    _reload(db, channel)
    assert channel.bot_mode == "first"
    refused = browser.form(f"/admin/webchat/{channel.id}", {**fields, "bot_mode": "always"})
    assert refused.status_code == 422 and 'id="error-bot_mode"' in refused.text
    _reload(db, channel)
    assert channel.bot_mode == "first"


# --- the forms' protection and escaping ------------------------------------------------------------


def test_admin_forms_need_the_csrf_token_and_kefus_own_origin(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = _admin(sign_in, admin)
    fields = {"name": "新组", "assign_mode": "least_loaded", **_hours(day0=("09:00", "18:00"))}
    origin = {"Origin": str(browser.client.base_url).rstrip("/")}
    no_token = browser.client.post("/admin/groups", data=fields, headers=origin)
    assert no_token.status_code == 403 and "<html" in no_token.text
    foreign = browser.client.post(
        "/admin/groups",
        data={"csrf_token": browser.csrf, **fields},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert db.scalar(select(func.count()).select_from(Group)) == 0
    assert browser.form("/admin/groups", fields).status_code == 303


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_names_are_shown_as_text_on_every_admin_page(
    sign_in: SignIn, db: Session, admin: User, settings: Settings
) -> None:
    group = factories.make_group(db, name="组" + HOSTILE, description=HOSTILE)
    user = factories.make_user(db, name="人" + HOSTILE[:80], groups=[group])
    rule = routing.do_create_rule(
        db,
        SYSTEM,
        name="规" + HOSTILE[:90],
        group_id=group.id,
        conditions={"customer_tags": [HOSTILE]},
    )
    channel = factories.make_webchat_channel(db, name="站" + HOSTILE[:90], greeting=HOSTILE)
    factories.make_integration(db, name="集" + HOSTILE[:90])
    field = definitions.do_create_field(
        db, SYSTEM, key="hostile", label="字" + HOSTILE[:40], type="choice", options=[HOSTILE[:90]],
        group_ids=[group.id],
    )  # fmt: skip
    mailbox = do_create_mailbox(
        db, SYSTEM, secret_key="k", name="邮" + HOSTILE[:90], address="kf@shop.test",
        imap_host=HOSTILE[:200],
    )  # fmt: skip
    db.add(
        MailRaw(
            mailbox_id=mailbox.id, uidvalidity=1, uid=1, raw=b"x", sha256="0" * 64, size=1,
            state="failed", error=HOSTILE, subject=HOSTILE, from_address=HOSTILE[:300],
        )
    )  # fmt: skip
    _, source = webhook_sources.do_create_source(
        db, SYSTEM, name="源" + HOSTILE[:90], kinds=["sms.received"], secret_key="k"
    )
    _, subscription = webhook_subscriptions.do_create_subscription(
        db, SYSTEM, url="http://127.0.0.1:9/hook", events=["ticket.created"],
        description=HOSTILE[:150], guard=guard_of(), secret_key="k",
    )  # fmt: skip
    feed = SocialFeed(name="源" + HOSTILE[:90], url="https://x.example.cn/?q=" + HOSTILE[:60],
                      last_count=0, last_error=HOSTILE)  # fmt: skip
    db.add(feed)
    trigger = automation_triggers.do_save_trigger(
        db, SYSTEM, name="规" + HOSTILE[:90],
        definition={**TRIGGER, "conditions": [{"field": "tags", "op": "has_tag", "values": [HOSTILE[:60]]}],
                    "actions": [{"type": "tag", "tag": HOSTILE[:60]}]},
    )  # fmt: skip
    db.commit()
    browser = _admin(sign_in, admin)
    browser.form("/admin/tokens", {"name": "令" + HOSTILE[:90], "user_id": str(user.id)})
    ids = {
        "mailbox_id": mailbox.id,
        "source_id": source.id,
        "subscription_id": subscription.id,
        "field": field.id,
        "user": user.id,
        "group": group.id,
        "rule": rule.id,
        "channel": "email",
        "priority": "P1",
        "integration": db.scalar(select(Integration.id)),
        "channel_id": channel.id,
        "account_id": make_account(
            db, settings.secret_key, name="号" + HOSTILE[:90], greeting=HOSTILE
        ).id,
        "feed": feed.id,
        "trigger": trigger.id,
    }
    for path in PAGES:
        page = browser.client.get(_fill(path, ids))
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
    tried = browser.form(
        "/admin/routing/test", {"text": HOSTILE, "channel": "api", "tags": HOSTILE[:40]}
    )
    assert "<script>alert" not in tried.text and "&lt;script&gt;" in tried.text


def test_an_admin_ends_a_persons_sessions_and_the_password_stays(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    """ASVS V7.4.5: 结束全部登录 on the person's page signs them out everywhere (audited)."""
    browser = _admin(sign_in, admin)
    agent = factories.make_user(db)
    theirs, again = sign_in(agent), sign_in(agent)
    page = browser.client.get(f"/admin/users/{agent.id}")
    assert "结束全部登录" in page.text
    assert re.search(r"当前有效的浏览器登录：<strong>2</strong>", page.text)
    done = browser.form(f"/admin/users/{agent.id}/sessions/end")
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/users/{agent.id}?done=sessions_ended#sessions"
    for person in (theirs, again):
        assert person.client.get("/account").status_code == 303
    shown = browser.client.get(done.headers["location"]).text
    assert "该用户在所有设备上的登录都已结束" in shown
    assert re.search(r"当前有效的浏览器登录：<strong>0</strong>", shown)
    sign_in(agent)  # the password did not change
    db.rollback()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.sessions_ended"))
    assert event is not None and event.object_id == agent.id and event.actor_id == admin.id


def test_an_admin_changing_their_own_email_on_their_page_types_the_password(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    """ASVS V7.5.1: the field shows on one's own page only; without the right password the
    form says so and nothing is saved."""
    browser = _admin(sign_in, admin)
    assert 'name="current_password"' in browser.client.get(f"/admin/users/{admin.id}").text
    other = factories.make_user(db)
    assert 'name="current_password"' not in browser.client.get(f"/admin/users/{other.id}").text
    form = {"email": "moved-admin@example.cn", "name": admin.name, "role": "admin",
            "capacity": "10", "skills": "", "language": "zh-CN", "is_active": "on"}  # fmt: skip
    for password in ("", "not-the-password"):
        refused = browser.form(f"/admin/users/{admin.id}", {**form, "current_password": password})
        assert refused.status_code == 422
        assert re.search(r'id="error-current_password"[^>]*>当前密码不正确<', refused.text)
    db.rollback()
    assert db.get(User, admin.id).email == admin.email
    done = browser.form(
        f"/admin/users/{admin.id}", {**form, "current_password": factories.PASSWORD}
    )
    assert done.status_code == 303, done.headers["location"]
    db.rollback()
    db.expire_all()
    assert db.scalar(select(User.email).where(User.id == admin.id)) == "moved-admin@example.cn"
