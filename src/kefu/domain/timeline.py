"""One line of Chinese for each event on a ticket's timeline (工单时间线), from its audit record.

``describe(action, before, after)`` reads the event as it was recorded (services/audit.py) and
says what happened in words an agent or supervisor reads at a glance. Unknown events get a
neutral line, so a new kind of event never breaks the timeline. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kefu.domain.bot import HANDOFF_REASONS_ZH, HandoffReason
from kefu.domain.case_loop import STAGE_NAMES_ZH, Stage

STATUS_ZH = {
    "new": "新建",
    "open": "处理中",
    "pending": "挂起等待",
    "resolved": "已解决",
    "closed": "已关闭",
}
DELIVERY_ZH = {
    "queued": "待发送",
    "sent": "已发送",
    "delivered": "已送达",
    "read": "已读",
    "failed": "发送失败",
    "dead": "死信",
}
WAITING_ZH = {"customer": "等待客户", "third_party": "等待第三方"}
TARGET_ZH = {"first_response": "首次响应", "next_response": "后续响应", "resolution": "解决"}
LINK_ZH = {
    "follow_up": "后续来信",
    "repeat_complaint": "重复投诉",
    "merged": "合并",
    "related": "相关",
}
FIELD_ZH = {
    "subject": "主题",
    "status": "状态",
    "stage": "阶段",
    "waiting_on": "等待",
    "priority": "优先级",
    "category": "类别",
    "intent": "意图",
    "emotion": "情绪",
    "sentiment": "情感",
    "risks": "风险",
    "group_id": "分组",
    "assignee_id": "处理人",
    "customer_id": "客户",
    "tags": "标签",
}
STEP_ZH = {
    "facts": "记录关键信息",
    "analysis": "记录分析（类别与根本原因）",
    "solution": "提出解决方案",
    "feedback": "记录客户反馈",
    "resume": "结束等待",
    "reopened": "重新打开",
    "customer_feedback": "客户在回访阶段回复",
    "customer_message": "客户来信",
}


ORDER_LOOKUP_ZH = {"ok": "已取得订单", "not_found": "商城没有这个订单", "error": "查询失败"}


def _stage(value: Any) -> str:
    try:
        return STAGE_NAMES_ZH[Stage(value)]
    except ValueError:
        return str(value)


def describe_step(step: str, after: dict[str, Any]) -> str:
    kind, _, detail = step.partition(":")
    if kind == "stage":
        return f"进入「{_stage(detail)}」"
    if kind == "wait":
        return f"挂起：{WAITING_ZH.get(detail, detail)}"
    if kind in ("approved", "rejected"):
        said = f"：{after['comment']}" if after.get("comment") else ""
        return f"补偿{'已审批' if kind == 'approved' else '被驳回'}（{detail}）{said}"
    text = STEP_ZH.get(step, step)
    if step == "solution" and after.get("compensation"):
        comp = after["compensation"]
        text += f"，补偿 {comp.get('kind')} ¥{int(comp.get('amount', 0)) / 100:.2f}"
    if step == "feedback" and after.get("rating") is not None:
        text += f"，评分 {after['rating']}"
    return text


def describe(
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    field_labels: Mapping[str, str] | None = None,
) -> str:
    before, after = before or {}, after or {}
    match action:
        case "ticket.create":
            return f"创建工单（{after.get('channel', '')}，{after.get('priority', '')}）"
        case "case.step":
            return describe_step(str(after.get("step", "")), after)
        case "ticket.triage":
            return f"分析更新：{after.get('priority')}，意图 {after.get('intent')}，类别 {after.get('category')}"
        case "ticket.route":
            return f"分派：{after.get('reason', '')}"
        case "ticket.claim":
            return "客服认领了工单"
        case "ticket.bot_handoff":
            reason = str(after.get("reason", ""))
            return f"智能助手转人工（{bot_reason_zh(reason)}）"
        case "ticket.bot_solved":
            return "客户确认智能助手已解决问题（自助解决）"
        case "ticket.bot_left":
            return "客户离开了与智能助手的对话，工单已解决"
        case "ticket.sla_warning":
            return f"{TARGET_ZH.get(after.get('target', ''), '')}时限已用去 80%"
        case "ticket.sla_breach":
            return (
                f"{TARGET_ZH.get(after.get('target', ''), '')}超时，升级为 {after.get('priority')}"
            )
        case "ticket.link":
            return f"关联工单 #{after.get('linked_ticket_id')}（{LINK_ZH.get(after.get('kind', ''), after.get('kind'))}）"
        case "ticket.merge":
            return f"合并了重复工单 #{after.get('merged_ticket_id')}（移入 {after.get('messages_moved', 0)} 条消息）"
        case "ticket.merged_into":
            return f"已作为重复工单合并到 #{after.get('merged_into_id')}"
        case "ticket.repeat_complaint":
            earlier = "、".join(f"#{i}" for i in after.get("earlier_ticket_ids", []))
            return f"识别为重复投诉（此前 {earlier}），优先级 {after.get('priority')}"
        case "outbox.dead" if after.get("message_id") is None:  # a mail notice (a survey…)
            return f"邮件通知多次投递失败（{after.get('attempts')} 次），已转入死信：{after.get('error', '')}"
        case "outbox.dead":
            return f"回复 #{after.get('message_id')} 多次投递失败（{after.get('attempts')} 次），已转入死信：{after.get('error', '')}"
        case "outbox.replay":
            return f"重新投递回复 #{after.get('message_id')}（此前：{DELIVERY_ZH.get(before.get('state', ''), before.get('state'))}）"
        case "ticket.fields":
            labels = field_labels or {}
            shown = [
                f"{labels.get(k, k)} {'（清空）' if v is None else v}" for k, v in after.items()
            ]
            return "工单信息：" + "，".join(shown)
        case "ticket.order_lookup":
            outcome = ORDER_LOOKUP_ZH.get(after.get("state", ""), after.get("state", ""))
            failed = f"（{after['error']}）" if after.get("error") else ""
            return f"查询订单 {after.get('order_no', '')}：{outcome}{failed}"
        case "script.use":
            return f"回复使用了话术（{'原样发送' if after.get('as_is') else '修改后发送'}）"
        case "macro.apply":
            return f"执行宏「{after.get('name', '')}」"
        case "ticket.update":
            parts = []
            if "status" in after:
                parts.append(
                    f"状态 {STATUS_ZH.get(before.get('status', ''), '')} → {STATUS_ZH.get(after['status'], after['status'])}"
                )
            others = [FIELD_ZH.get(k, k) for k in after if k != "status"]
            if others:
                parts.append("修改了" + "、".join(others))
            return "；".join(parts) or "修改了工单"
    return action


def bot_reason_zh(reason: str) -> str:
    try:
        return HANDOFF_REASONS_ZH[HandoffReason(reason)]
    except ValueError:
        return reason
