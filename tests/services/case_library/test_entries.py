"""The case library's entries: written once at 总结归档 with the loop's data and no personal data,
rewritten (not doubled) when a reopened case is archived again, the outcome kept current when a
case is reopened (by staff or by the customer writing again) or rated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kefu.db.models import AuditEvent, CaseEntry, Customer, Ticket
from kefu.domain import case_loop as cw
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM
from kefu.services.case_library.entries import do_record_rating
from kefu.services.cases import loop
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from tests import factories

NO_FILES = {"attachments_root": Path("/nonexistent"), "max_attachment_bytes": 0}
HOSTILE_FACTS = (
    "客户王小明（手机１３８ １２３４ ５６７８，身份证11010119900307123X）反映订单号：SL2024061512 "
    "的电饭煲到货破裂，收货地址：北京市朝阳区建国路88号院3号楼2单元501室，邮箱 wang.xm@example.cn"
)


def _entries(db):
    db.expire_all()
    return db.scalars(select(CaseEntry).order_by(CaseEntry.id)).all()


def _complaint(db, **overrides):
    customer = factories.make_customer(db, name="王小明", phone="13812345678",
                                       email="wang.xm@example.cn")  # fmt: skip
    agent = factories.make_user(db, name="赵丽颖")
    return factories.make_archived_complaint(
        db, customer=customer, text="电饭煲到货就裂了，太失望了", facts=HOSTILE_FACTS,
        category="quality", cause="易碎品只用了单层包装，赵丽颖打包时没有加固",
        solution="补发新电饭煲，联系王先生上门取回破损件（卡号6222 0212 3456 7890 退运费）",
        lesson="易碎品一律双层包装；寄往上海市浦东新区张江路123弄5号楼301室的件也一样",
        rating=5, compensation=("coupon", 20_00), **overrides,
    ), agent  # fmt: skip


def test_archiving_a_complaint_writes_its_entry_with_the_loops_data(db):
    ticket, _ = _complaint(db)
    (entry,) = _entries(db)
    assert entry.ticket_id == ticket.id
    assert entry.category == "quality"
    assert (entry.compensation_kind, entry.compensation_amount) == ("coupon", 20_00)
    assert (entry.first_time, entry.reopen_count, entry.rating) == (True, 0, 5)
    assert entry.problem.startswith("客户【客户】")
    assert "电饭煲到货破裂" in entry.problem and entry.title == "客户【客户】（手机【手机号】"
    assert entry.root_cause == "易碎品只用了单层包装，【客服】打包时没有加固"
    assert entry.lesson.startswith("易碎品一律双层包装") and "【地址】" in entry.lesson
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "case_entry.archived"))
    assert audit.object_id == entry.id and audit.after["ticket_id"] == ticket.id


def test_no_personal_data_reaches_the_entry(db):
    _complaint(db)
    (entry,) = _entries(db)
    written = " ".join([entry.title, entry.problem, entry.root_cause, entry.solution,
                        entry.lesson, *entry.tags])  # fmt: skip
    for personal in ("王小明", "王先生", "赵丽颖", "13812345678", "１３８", "5678", "SL2024061512",
                     "11010119900307123X", "建国路", "张江路", "wang.xm", "6222", "7890"):  # fmt: skip
        assert personal not in written, personal
    for label in ("【客户】", "【手机号】", "【证件号】", "【单号】", "【地址】", "【邮箱】",
                  "【姓名】", "【卡号】", "【客服】"):  # fmt: skip
        assert label in written, label


def test_a_reopened_case_archived_again_rewrites_its_one_entry(db):
    ticket, _ = _complaint(db)
    ticket = db.get(Ticket, ticket.id)
    loop.do_step(db, SYSTEM, ticket, cw.Reopen(), cw.Policy())
    db.commit()
    (entry,) = _entries(db)
    assert (entry.first_time, entry.reopen_count, entry.rating) == (False, 1, 5)
    for step in (cw.ProposeSolution("换一家快递重新补发并全程跟踪"), cw.Advance(),
                 cw.RecordFeedback(True, 3), cw.Archive("补发件指定顺丰")):  # fmt: skip
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()
    (again,) = _entries(db)
    assert again.id == entry.id
    assert (again.solution, again.lesson) == ("换一家快递重新补发并全程跟踪", "补发件指定顺丰")
    assert (again.first_time, again.reopen_count, again.rating) == (False, 1, 3)
    assert db.scalar(select(func.count(CaseEntry.id))) == 1


def test_a_case_sent_back_from_follow_up_is_not_resolved_first_time(db):
    ticket = factories.make_ticket(
        db, text="耳机左耳没声音", intent="complaint", category="quality"
    )
    steps = [cw.RecordFacts("耳机左耳无声"), cw.Advance(), cw.RecordAnalysis("quality", "虚焊"),
             cw.Advance(), cw.ProposeSolution("远程指导重置"), cw.Advance(), cw.SendBack(),
             cw.ProposeSolution("换新"), cw.Advance(), cw.RecordFeedback(True, 4),
             cw.Archive("虚焊批次直接换新")]  # fmt: skip
    for step in steps:
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()
    (entry,) = _entries(db)
    assert (entry.first_time, entry.reopen_count, entry.solution) == (False, 0, "换新")


def test_the_customer_writing_again_reopens_the_case_and_its_outcome(db):
    message = InboundMessage("wechat", "lib-1", Sender("wx-lib", name="刘洋"), "杯子到货就裂了")
    ticket_id = receive_inbound(db, SYSTEM, message, raw="{}", **NO_FILES).ticket_id
    db.commit()
    ticket = db.get(Ticket, ticket_id)
    ticket.intent, ticket.case_path, ticket.stage = "complaint", "complaint", "registered"
    db.commit()
    for step in (cw.RecordFacts("杯子破裂"), cw.Advance(), cw.RecordAnalysis("quality", "包装薄"),
                 cw.Advance(), cw.ProposeSolution("补发"), cw.Advance(),
                 cw.RecordFeedback(True, 5), cw.Archive("加厚包装")):  # fmt: skip
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()
    again = InboundMessage("wechat", "lib-2", Sender("wx-lib", name="刘洋"), "补发的也裂了！")
    assert receive_inbound(db, SYSTEM, again, raw="{}", **NO_FILES).ticket_id == ticket_id
    db.commit()
    (entry,) = _entries(db)
    assert (entry.first_time, entry.reopen_count) == (False, 1)
    assert "刘洋" not in entry.problem


def test_a_rating_that_comes_later_updates_the_outcome(db):
    ticket, _ = _complaint(db)
    do_record_rating(db, ticket.id, 2, actor=SYSTEM)
    db.commit()
    assert _entries(db)[0].rating == 2
    with pytest.raises(KefuError) as refused:
        do_record_rating(db, ticket.id, 6, actor=SYSTEM)
    assert refused.value.status_code == 422
    other = factories.make_ticket(db)
    with pytest.raises(KefuError) as missing:
        do_record_rating(db, other.id, 4, actor=SYSTEM)
    assert missing.value.status_code == 404


def test_a_customer_deleted_later_leaves_nothing_to_find(db):
    _complaint(db)
    assert db.scalar(select(func.count(Customer.id))) == 1
    assert "王小明" not in repr([vars(e) for e in _entries(db)])


def test_an_order_number_in_a_custom_field_is_redacted_and_a_product_name_kept(db):
    from kefu.services.fields import definitions
    from kefu.services.fields.values import do_set_fields

    definitions.do_create_field(db, SYSTEM, key="order_no", label="订单号", type="text")
    definitions.do_create_field(db, SYSTEM, key="product", label="商品名称", type="text")
    ticket = factories.make_ticket(
        db, text="扫地机器人坏了", intent="complaint", category="quality"
    )
    do_set_fields(db, SYSTEM, ticket, {"order_no": "A1B2C3D4", "product": "净澜 X2 扫地机器人"})
    db.commit()
    for step in (cw.RecordFacts("A1B2C3D4 的净澜 X2 扫地机器人用了6天就坏了"), cw.Advance(),
                 cw.RecordAnalysis("quality", "电机批次问题"), cw.Advance(),
                 cw.ProposeSolution("换新"), cw.Advance(), cw.RecordFeedback(True, 5),
                 cw.Archive("该批次电机全部召回检测")):  # fmt: skip
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()
    (entry,) = _entries(db)
    assert entry.problem == "【单号】 的净澜 X2 扫地机器人用了6天就坏了"
