"""How the workspace names kefu's codes (emotions, priorities, stages, roles …): in Chinese,
marked with ``N_`` so the catalogue extraction finds them and pages translate them on render."""

from __future__ import annotations

from kefu.domain.translatable import N_

__all__ = ["LABELS", "N_", "label"]


LABELS: dict[str, dict[str, str]] = {
    "emotion": {
        "angry": N_("愤怒"),
        "anxious": N_("焦虑"),
        "disappointed": N_("失望"),
        "satisfied": N_("满意"),
        "neutral": N_("平静"),
    },
    "sentiment": {"negative": N_("负面"), "neutral": N_("中性"), "positive": N_("正面")},
    "intent": {
        "inquiry": N_("咨询"),
        "complaint": N_("投诉"),
        "suggestion": N_("建议"),
        "praise": N_("表扬"),
        "other": N_("其他"),
    },
    "category": {
        "logistics": N_("物流配送"),
        "quality": N_("商品质量"),
        "return_refund": N_("退换货"),
        "price_billing": N_("价格费用"),
        "order_payment": N_("订单支付"),
        "account_privacy": N_("账户隐私"),
        "service": N_("服务态度"),
        "product_info": N_("售前咨询"),
        "other": N_("其他"),
    },
    "risk": {
        "media": N_("媒体曝光"),
        "regulator": N_("监管投诉"),
        "legal": N_("法律纠纷"),
        "safety": N_("人身安全"),
        "privacy": N_("隐私泄露"),
        "discrimination": N_("歧视"),
        "complaint": N_("升级投诉"),
        "short": N_("信息不足"),
    },
    "priority": {"P1": N_("P1 紧急"), "P2": N_("P2 高"), "P3": N_("P3 中"), "P4": N_("P4 低")},
    "stage": {
        "registered": N_("受理登记"),
        "analyzing": N_("分析评估"),
        "resolving": N_("处理解决"),
        "following_up": N_("跟进反馈"),
        "archived": N_("总结归档"),
        "open": N_("处理中"),
        "resolved": N_("已解决"),
        "closed": N_("已关闭"),
    },
    "status": {
        "new": N_("新建"),
        "open": N_("处理中"),
        "pending": N_("等待中"),
        "resolved": N_("已解决"),
        "closed": N_("已关闭"),
    },
    "waiting_on": {"customer": N_("等待客户"), "third_party": N_("等待第三方")},
    "channel": {
        "webchat": N_("网页聊天"),
        "email": N_("邮件"),
        "wechat": N_("微信"),
        "phone": N_("电话"),
        "social": N_("社交媒体"),
        "sms": N_("短信"),
        "api": N_("接口"),
        "web": N_("工作台"),
        "app_review": N_("应用商店评价"),
    },
    "proof": {
        "signed_claim": N_("网站签名身份（已验证）"),
        "bound": N_("绑定的手机号（已验证）"),
        "code": N_("验证码（已验证）"),
        "header": N_("邮件发件人（未验证）"),
        "sender": N_("短信或来电号码（未验证）"),
        "typed": N_("手工填写（未验证）"),
    },
    "role": {
        "agent": N_("客服专员"),
        "specialist": N_("客诉专员"),
        "supervisor": N_("客服主管"),
        "admin": N_("管理员"),
    },
    "agent_status": {
        "online": N_("在线"),
        "busy": N_("忙碌"),
        "break": N_("小休"),
        "offline": N_("离线"),
    },
    "sla_target": {
        "first_response": N_("首次响应"),
        "next_response": N_("后续响应"),
        "resolution": N_("解决时限"),
    },
    "sla_state": {
        "on_track": N_("正常"),
        "at_risk": N_("即将超时"),
        "breached": N_("已超时"),
        "paused": N_("已暂停"),
        "met": N_("已达成"),
        "missed": N_("超时达成"),
    },
    "link": {
        "follow_up": N_("后续来信"),
        "repeat_complaint": N_("重复投诉"),
        "merged": N_("合并"),
        "related": N_("相关"),
    },
    # Outbound webhook events (domain/webhooks.py) and what sources may post.
    "webhook_event": {
        "ticket.created": N_("工单创建"),
        "message.created": N_("新消息（不含内部备注）"),
        "ticket.status_changed": N_("工单状态变化"),
        "sla.breached": N_("SLA 超时"),
        "survey.answered": N_("满意度评价（问卷上线后）"),
    },
    "webhook_kind": {
        "call.transcript": N_("通话记录"),
        "sms.received": N_("短信"),
        "review.created": N_("应用商店评价"),
        "social.post": N_("社交帖子"),
        "social.comment": N_("社交评论"),
    },
    "delivery": {
        "queued": N_("发送中"),
        "sent": N_("已发送"),
        "delivered": N_("已送达"),
        "read": N_("已读"),
        "failed": N_("重试中"),
        "dead": N_("发送失败"),
    },
    # The norms checker's rules (kefu/norms/rules.toml), as the composer names them.
    "norm_rule": {
        "negative_refusal": N_("消极拒绝"),
        "blame_shifting": N_("推卸责任"),
        "missing_empathy": N_("缺少共情"),
        "dismissive": N_("否定情绪"),
        "impolite": N_("措辞不礼貌"),
        "jargon": N_("专业术语"),
        "vague_commitment": N_("含糊承诺"),
        "over_promise": N_("过度承诺"),
        "missing_greeting": N_("缺少问候"),
        "missing_closing": N_("缺少结束确认"),
        "unfilled_placeholder": N_("未填占位符"),
        "privacy_exposure": N_("隐私暴露"),
        "too_long": N_("消息过长"),
    },
    # The quality review (docs/qa.md): its criteria (domain/qa/criteria.py NAMES), verdicts
    # and the states of a review.
    "qa_criterion": {
        "greeting": N_("开场问候"),
        "closing": N_("结束确认"),
        "empathy": N_("共情"),
        "courtesy": N_("礼貌与担当"),
        "jargon": N_("通俗表达"),
        "commitments": N_("承诺得当"),
        "privacy": N_("隐私保护"),
        "response_time": N_("响应时效"),
        "emotion_trend": N_("情绪改善"),
        "loop_complete": N_("闭环完整"),
        "survey": N_("客户评价"),
    },
    "qa_verdict": {"pass": N_("通过"), "fail": N_("未通过"), "na": N_("不适用")},
    "qa_status": {
        "automatic": N_("待复核"),
        "disputed": N_("申诉中"),
        "confirmed": N_("已确认"),
        "corrected": N_("已更正"),
    },
    "field_type": {
        "text": N_("文字"),
        "number": N_("数字"),
        "date": N_("日期"),
        "choice": N_("选项"),
    },
    # A case-library entry's outcome (domain/case_library.py Outcome.chips) and compensation.
    "case_outcome": {
        "first_time": N_("一次解决"),
        "not_first_time": N_("非一次解决"),
        "reopened": N_("曾重开"),
        "rated_good": N_("客户好评"),
        "rated_poor": N_("评分偏低"),
    },
    "compensation": {
        "coupon": N_("优惠券"),
        "refund": N_("退款"),
        "cash": N_("现金补偿"),
        "gift": N_("赠品"),
    },
    # Why an order lookup failed (services/fields/orders.py), as the customer panel says it.
    "order_error": {
        "no_shop": N_("没有配置订单查询接口的集成"),
        "refused_url": N_("订单查询地址指向内网或本机，已拒绝访问"),
        "secret_unreadable": N_("集成的签名密钥无法用当前主密钥解开，请重新生成"),
        "timeout": N_("商城系统没有及时响应"),
        "connection": N_("无法连接商城系统"),
        "redirect": N_("商城系统返回了跳转，kefu 不跟随跳转"),
        "http_status": N_("商城系统返回了错误"),
        "not_json": N_("商城系统的答复不是 JSON"),
        "bad_answer": N_("商城系统的答复不符合订单格式"),
    },
}


def label(kind: str, code: str | None) -> str:
    """The Chinese name of a code (not yet translated); an unknown code shows as itself."""
    if code is None:
        return ""
    return LABELS.get(kind, {}).get(code, code)
