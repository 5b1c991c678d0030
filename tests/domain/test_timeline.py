"""Each kind of event reads as one line of Chinese on the ticket's timeline."""

from __future__ import annotations

import pytest

from kefu.domain.timeline import describe


@pytest.mark.parametrize(
    ("action", "before", "after", "line"),
    [
        ("case.step", None, {"step": "stage:analyzing"}, "进入「分析评估」"),
        ("case.step", None, {"step": "stage:archived"}, "进入「总结归档」"),
        ("case.step", None, {"step": "wait:third_party"}, "挂起：等待第三方"),
        ("case.step", None, {"step": "approved:supervisor"}, "补偿已审批（supervisor）"),
        (
            "case.step",
            None,
            {"step": "rejected:supervisor", "comment": "先补发"},
            "补偿被驳回（supervisor）：先补发",
        ),
        (
            "case.step",
            None,
            {"step": "solution", "compensation": {"kind": "coupon", "amount": 30000}},
            "提出解决方案，补偿 coupon ¥300.00",
        ),
        ("case.step", None, {"step": "feedback", "rating": 4}, "记录客户反馈，评分 4"),
        ("case.step", None, {"step": "reopened"}, "重新打开"),
        (
            "ticket.route",
            None,
            {"reason": "规则「质量投诉」→ 售后组 → 负载最低的张伟（0/10）"},
            "分派：规则「质量投诉」→ 售后组 → 负载最低的张伟（0/10）",
        ),
        (
            "ticket.sla_breach",
            None,
            {"target": "first_response", "priority": "P2"},
            "首次响应超时，升级为 P2",
        ),
        ("ticket.sla_warning", None, {"target": "resolution"}, "解决时限已用去 80%"),
        (
            "ticket.link",
            None,
            {"kind": "follow_up", "linked_ticket_id": 7},
            "关联工单 #7（后续来信）",
        ),
        (
            "ticket.merge",
            None,
            {"merged_ticket_id": 9, "messages_moved": 2},
            "合并了重复工单 #9（移入 2 条消息）",
        ),
        ("ticket.merged_into", None, {"merged_into_id": 3}, "已作为重复工单合并到 #3"),
        (
            "ticket.repeat_complaint",
            None,
            {"earlier_ticket_ids": [1, 2], "priority": "P2"},
            "识别为重复投诉（此前 #1、#2），优先级 P2",
        ),
        ("ticket.update", {"status": "open"}, {"status": "pending"}, "状态 处理中 → 挂起等待"),
        (
            "ticket.update",
            {"status": "open", "priority": "P3"},
            {"status": "resolved", "priority": "P2"},
            "状态 处理中 → 已解决；修改了优先级",
        ),
        ("ticket.update", {"group_id": 1}, {"group_id": 2}, "修改了分组"),
        (
            "outbox.dead",
            None,
            {"message_id": 12, "attempts": 8, "error": "HTTP 503"},
            "回复 #12 多次投递失败（8 次），已转入死信：HTTP 503",
        ),
        ("outbox.replay", {"state": "dead"}, {"message_id": 12}, "重新投递回复 #12（此前：死信）"),
        (
            "outbox.replay",
            {"state": "failed"},
            {"message_id": 3},
            "重新投递回复 #3（此前：发送失败）",
        ),
    ],
)
def test_describe(action, before, after, line):
    assert describe(action, before, after) == line


def test_an_unknown_event_or_missing_data_never_breaks_the_timeline():
    assert describe("something.new", None, None) == "something.new"
    assert describe("case.step", None, None) == ""
    assert describe("ticket.update", None, {}) == "修改了工单"


def test_field_changes_and_order_lookups_read_as_sentences():
    from kefu.domain.timeline import describe

    assert describe("ticket.fields", {"order_no": None}, {"order_no": "SO1", "amount": None}) == (
        "工单信息：order_no SO1，amount （清空）"
    )
    assert describe("ticket.order_lookup", None, {"order_no": "SO1", "state": "ok"}) == (
        "查询订单 SO1：已取得订单"
    )
    assert (
        describe(
            "ticket.order_lookup", None, {"order_no": "SO1", "state": "error", "error": "timeout"}
        )
        == "查询订单 SO1：查询失败（timeout）"
    )


def test_a_reply_from_a_script_and_a_macro_read_as_sentences():
    assert (
        describe("script.use", None, {"message_id": 3, "as_is": True})
        == "回复使用了话术（原样发送）"
    )
    assert describe("script.use", None, {"as_is": False}) == "回复使用了话术（修改后发送）"
    assert describe("macro.apply", None, {"name": "催发货", "priority": "P2"}) == "执行宏「催发货」"
