"""The pages of custom fields: the admin's list and form, the ticket page's fields card (a small
form answered with itself) and the order in the customer panel."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, TicketField
from kefu.services.actors import SYSTEM
from kefu.services.fields import definitions, orders, values
from kefu.services.intake import integrations
from tests import factories
from tests.fake_shop import FakeShop
from tests.services.fields.test_orders import ORDER
from tests.web.conftest import SignIn


def test_an_admin_defines_a_choice_field_on_the_pages(sign_in: SignIn, db, admin) -> None:
    group = factories.make_group(db, "物流组")
    browser = sign_in(admin)
    assert "工单字段" in browser.client.get("/admin/fields").text
    bad = browser.form("/admin/fields", {"key": "快递", "label": "快递公司", "type": "choice",
                                         "options": "", "active": "on"})  # fmt: skip
    assert bad.status_code == 422
    assert re.search(r'id="error-key"[^>]*>格式不正确<', bad.text)
    no_options = browser.form("/admin/fields", {"key": "carrier", "label": "快递公司",
                                                "type": "choice", "options": " \n", "active": "on"})  # fmt: skip
    assert no_options.status_code == 422
    assert re.search(r'id="error-options"[^>]*>选项字段至少需要一个选项<', no_options.text)
    made = browser.form("/admin/fields", {"key": "carrier", "label": "快递公司", "type": "choice",
                                          "options": "顺丰\n中通\n顺丰", "group_ids": str(group.id),
                                          "required": "on", "active": "on"})  # fmt: skip
    assert made.status_code == 303
    db.rollback()
    field = db.scalar(select(TicketField))
    assert field is not None
    assert (field.options, field.group_ids, field.required) == (["顺丰", "中通"], [group.id], True)
    listed = browser.client.get("/admin/fields").text
    assert "快递公司" in listed and "物流组" in listed and "顺丰、中通" in listed
    saved = browser.form(f"/admin/fields/{field.id}", {"key": "changed", "label": "快递公司",
                                                      "type": "choice", "options": "顺丰"})  # fmt: skip
    assert saved.status_code == 303
    db.rollback()
    db.refresh(field)
    assert (field.key, field.options, field.active, field.group_ids) == (
        "carrier",
        ["顺丰"],
        False,
        [],
    )
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "ticket_field")
                         .order_by(AuditEvent.id))  # fmt: skip
    assert list(actions) == ["ticket_field.create", "ticket_field.update"]


@pytest.fixture
def fields(db) -> None:
    definitions.do_create_field(db, SYSTEM, key="order_no", label="订单号", type="text")
    definitions.do_create_field(db, SYSTEM, key="amount", label="金额", type="number")
    definitions.do_create_field(db, SYSTEM, key="carrier", label="快递公司", type="choice",
                                options=["顺丰", "中通"])  # fmt: skip
    db.commit()


def test_the_ticket_card_saves_fields_and_shows_refusals_in_place(
    sign_in: SignIn, db, fields
) -> None:
    group = factories.make_group(db, "售后")
    agent = factories.make_user(db, groups=[group])
    ticket = factories.make_ticket(db, group=group)
    browser = sign_in(agent)
    assert 'id="ticket-fields"' in browser.client.get(f"/tickets/{ticket.id}").text
    card = browser.client.get(f"/tickets/{ticket.id}/custom-fields")
    assert card.status_code == 200
    assert 'name="field.order_no"' in card.text and '<option value="中通"' in card.text
    url = f"/tickets/{ticket.id}/custom-fields"
    saved = browser.form(
        url, {"field.order_no": "ＳＯ９", "field.amount": "１２", "field.carrier": "順豐"}
    )
    assert saved.status_code == 200, saved.text
    assert "kefu-toast" in saved.headers["HX-Trigger"]
    assert 'value="SO9"' in saved.text and '<option value="顺丰" selected' in saved.text
    refused = browser.form(
        url, {"field.order_no": "SO10", "field.amount": "很多", "field.carrier": "顺丰"}
    )
    assert refused.status_code == 422
    assert re.search(r'id="field-error-amount">「金额」须为数字<', refused.text)
    assert 'value="很多"' in refused.text and 'value="SO10"' in refused.text  # what was typed stays
    db.rollback()
    db.refresh(ticket)
    assert ticket.fields == {"order_no": "SO9", "amount": 12, "carrier": "顺丰"}  # nothing saved
    cleared = browser.form(
        url, {"field.order_no": "SO9", "field.amount": "", "field.carrier": "顺丰"}
    )
    assert cleared.status_code == 200
    db.rollback()
    db.refresh(ticket)
    assert ticket.fields == {"order_no": "SO9", "carrier": "顺丰"}
    trail = db.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.fields")
                       .order_by(AuditEvent.id)).all()  # fmt: skip
    assert [e.actor_id for e in trail] == [agent.id, agent.id]
    assert trail[-1].before == {"amount": 12} and trail[-1].after == {"amount": None}
    timeline = browser.client.get(f"/tickets/{ticket.id}/timeline").text
    assert "工单信息：金额 （清空）" in timeline  # by the names agents know, not the keys
    assert "订单号 SO9" in timeline and "order_no" not in timeline


def test_a_ticket_of_another_group_has_no_card_for_this_agent(sign_in: SignIn, db, fields) -> None:
    hidden = factories.make_ticket(db, group=factories.make_group(db, "别组"))
    browser = sign_in(factories.make_user(db, groups=[factories.make_group(db, "本组")]))
    assert browser.client.get(f"/tickets/{hidden.id}/custom-fields").status_code == 404
    assert (
        browser.form(f"/tickets/{hidden.id}/custom-fields", {"field.order_no": "X"}).status_code
        == 404
    )
    assert browser.client.get(f"/tickets/{hidden.id}/order").status_code == 404
    db.rollback()
    db.refresh(hidden)
    assert hidden.fields == {}


def test_a_value_is_escaped_where_it_is_shown(sign_in: SignIn, db, fields) -> None:
    ticket = factories.make_ticket(db)
    values.do_set_fields(db, SYSTEM, ticket, {"order_no": '"><script>alert(1)</script>'})
    db.commit()
    card = sign_in(factories.make_user(db, role="admin")).client.get(
        f"/tickets/{ticket.id}/custom-fields"
    )
    assert "<script>alert(1)" not in card.text and "&lt;script&gt;" in card.text


@pytest.fixture
def shop(db) -> Iterator[FakeShop]:
    shop = FakeShop(orders={ORDER["order_no"]: ORDER})
    _, _, secret = integrations.do_create_integration(
        db, SYSTEM, name="小店", channels=["api"], order_lookup_url=shop.url,
        secret_key=factories.SECRET_KEY,
    )  # fmt: skip
    db.commit()
    shop.secret = secret or ""
    yield shop
    shop.close()


def test_the_customer_panel_shows_the_order_its_wait_and_its_errors(
    sign_in: SignIn, db, fields, shop
) -> None:
    ticket = factories.make_ticket(db)
    browser = sign_in(factories.make_user(db, role="admin"))
    panel = browser.client.get(f"/customers/{ticket.customer_id}/panel?ticket={ticket.id}").text
    assert f'hx-get="/tickets/{ticket.id}/order"' in panel
    assert "填写订单号后自动查询订单" in browser.client.get(f"/tickets/{ticket.id}/order").text
    values.do_set_fields(db, SYSTEM, ticket, {"order_no": ORDER["order_no"]})
    db.commit()
    waiting = browser.client.get(f"/tickets/{ticket.id}/order").text
    assert "正在查询订单" in waiting and "every 2s" in waiting
    shown = browser.form(f"/tickets/{ticket.id}/order")
    assert shown.status_code == 200
    assert (
        "顺丰速运 SF1234567890" in shown.text and "¥199.00" in shown.text and "保温杯" in shown.text
    )
    assert "every 2s" not in shown.text
    shop.orders.clear()
    gone = browser.form(f"/tickets/{ticket.id}/order").text
    assert "商城系统里没有这个订单号" in gone
    shop.close()
    failed = browser.form(f"/tickets/{ticket.id}/order").text
    assert "订单查询失败：无法连接商城系统" in failed
    db.rollback()
    db.refresh(ticket)
    assert ticket.fields == {"order_no": ORDER["order_no"]}
    assert orders.order_number(ticket) == ORDER["order_no"]
