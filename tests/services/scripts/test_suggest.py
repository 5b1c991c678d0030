"""Suggestions: ranked by intent, category, emotion, stage and profile; composed; filled."""

from __future__ import annotations

from datetime import UTC, datetime

from kefu.db.models import Ticket
from kefu.norms import check
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.fields import definitions
from kefu.services.fields import values as field_values
from kefu.services.norms.review import reply_context
from kefu.services.scripts import index as index_module
from kefu.services.scripts import library, values
from kefu.services.scripts.suggest import situation_of, suggest
from tests import factories

ANGRY = "你们的快递又晚了三天！订单SL20240315到现在还没到，气死我了"


def _case(db, *, text=ANGRY, intent="complaint", category="logistics", emotion="angry", **kw):
    ticket = factories.make_ticket(db, text=text, intent=intent, category=category, **kw)
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    tickets.do_update_ticket(db, SYSTEM, locked, {"emotion": emotion})
    db.commit()
    return db.get(Ticket, ticket.id)


def test_an_angry_logistics_complaint_starts_with_empathy_and_fills_the_order_number(db, starter):
    customer = factories.make_customer(db, name="王小明")
    found = suggest(db, _case(db, customer=customer))
    assert len(found) == 3
    first = found[0]
    assert first.text.startswith(
        "您好，王先生/女士，您的心情我完全理解"
    )  # a first reply greets, then empathy
    assert "SL20240315" in first.text and "[单号]" not in first.text
    assert first.scenario == "物流延迟致歉"
    assert all(s.text.startswith("您好，王先生/女士，您的心情我完全理解") for s in found)
    assert first.text.count("抱歉") == 1  # the body's apology is folded into the opener's
    assert first.text.count("您好") == 1  # greets once (the norms ask it of a first reply)
    # the closing of a case in work: the deadline, which this case has no value for yet
    assert [p.name for p in first.unfilled] == ["处理时限"]
    (gap,) = first.unfilled
    assert first.text[gap.start : gap.end] == "[处理时限]"


def test_a_calm_first_inquiry_is_greeted_and_a_later_reply_is_not(db, starter):
    agent = factories.make_user(db, name="周敏")
    ticket = _case(db, text="你好，SL20240315发货了吗", intent="inquiry", emotion="neutral")
    (first, *_) = suggest(db, ticket, agent=agent)
    assert first.text.startswith("您好！我是客服周敏，很高兴为您服务。您的订单SL20240315已经发出")
    assert first.scenario == "发货查询"
    factories.make_reply(db, ticket)
    (later, *_) = suggest(db, db.get(Ticket, ticket.id), agent=agent)
    assert "我是客服" not in later.text and not later.text.startswith("您好")


def test_the_closing_follows_the_stage_and_a_solved_case_checks_satisfaction(db, starter):
    ticket = _case(db, text="SL20240315的快递什么时候到", intent="inquiry", emotion="neutral")
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    tickets.do_update_ticket(db, SYSTEM, locked, {"status": "resolved"})
    db.commit()
    (first, *_) = suggest(db, db.get(Ticket, ticket.id))
    assert first.text.endswith("请问这样处理您还满意吗？之后有任何需要，随时来找我们就好。")


def test_the_customers_profile_picks_the_vip_and_repeat_complaint_scripts(db, starter):
    vip = factories.make_customer(db, name="李女士", tags=["VIP"])
    ticket = _case(db, customer=vip, emotion="neutral", intent="inquiry")
    assert situation_of(db, ticket).profiles == {"vip", "first_contact"}
    (first, *_) = suggest(db, ticket)
    assert first.text.startswith("李女士，您好！我是您的专属客服")
    assert "您的问题已经优先安排" in first.text
    again = _case(db, customer=vip)
    assert "first_contact" not in situation_of(db, again).profiles
    db.get(Ticket, again.id).repeat_complaint = True
    db.commit()
    (first, *_) = suggest(db, db.get(Ticket, again.id))
    assert first.text.startswith("您好，李女士，同样的问题让您再找我们一次")


def test_extra_values_and_providers_fill_what_the_case_does_not_know(db, starter):
    ticket = _case(db)
    (first, *_) = suggest(db, ticket, extra={"处理时限": "今天18:00"})
    assert first.unfilled == () and "今天18:00" in first.text
    built_in = list(values.PROVIDERS)
    values.register_provider(lambda session, t: {"订单号": "SL99999999"})
    try:
        assert values.values_for(db, ticket)["单号"] == "SL99999999"
    finally:
        values.PROVIDERS[:] = built_in


def test_the_ticket_fields_and_its_order_fill_the_placeholders(db, starter):
    """The custom field 订单号 (services/fields) wins over the number the customer wrote, and a
    field named like a placeholder fills it."""
    definitions.do_create_field(db, SYSTEM, key="order_no", label="订单号", type="text")
    definitions.do_create_field(db, SYSTEM, key="goods", label="商品名称", type="text")
    ticket = _case(db)
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    field_values.do_set_fields(db, SYSTEM, locked, {"order_no": "SL77770001", "goods": "保温杯"})
    db.commit()
    found = values.values_for(db, db.get(Ticket, ticket.id))
    assert (found["单号"], found["商品名称"]) == ("SL77770001", "保温杯")
    (first, *_) = suggest(db, db.get(Ticket, ticket.id))
    assert "SL77770001" in first.text and "SL20240315" not in first.text


def test_the_index_follows_changes_to_the_library(db, starter):
    ticket = _case(db)
    before = suggest(db, ticket)
    stamp = index_module.library_index(db).stamp
    script = db.get(library.Script, before[0].script_id)
    library.do_update_script(db, SYSTEM, script, {"status": "retired"})
    db.commit()
    after = suggest(db, ticket)
    assert index_module.library_index(db).stamp != stamp
    assert before[0].script_id not in [s.script_id for s in after]


def test_case_file_values(db, starter):
    ticket = _case(db)
    ticket.case_file = {"solution": "补发一件", "compensation": {"kind": "coupon", "amount": 2000,
                                                               "proposed_by": "agent"}}  # fmt: skip
    ticket.resolution_due_at = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    db.commit()
    found = values.values_for(db, ticket)
    assert found["解决方案"] == "补发一件" and found["补偿金额"] == "20元"
    assert found["处理时限"] == "12月8日 18:00"
    assert found["工单号"] == str(ticket.id) and "客服名" not in found


def test_a_customer_writing_traditional_characters_gets_the_simplified_library_text(db, starter):
    customer = factories.make_customer(db, name="林小姐")
    ticket = _case(db, customer=customer, text="我的訂單SL20240315還沒到，氣死我了！")
    (first, *_) = suggest(db, ticket)
    assert first.text.startswith("您好，林小姐，您的心情我完全理解")
    assert "SL20240315" in first.text and "訂單" not in first.text and "订单" in first.text


def test_suggestions_keep_the_norms_they_teach_in_chat_and_in_mail(db, starter):
    for channel in ("webchat", "email"):
        ticket = _case(db, channel=channel)
        context = reply_context(db, ticket)
        for suggestion in suggest(db, ticket):
            faults = [f.rule for f in check(suggestion.text, context)]
            assert set(faults) <= {"unfilled_placeholder"}, (channel, faults, suggestion.text)
            if channel == "webchat":  # a chat message: its parts on lines of their own
                assert "\n" in suggestion.text and len(suggestion.text) <= 200
