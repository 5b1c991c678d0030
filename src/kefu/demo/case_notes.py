"""What the demo's agents write at each step of a complaint's loop (kefu's own wording).

The demo plays complaints that end resolved or closed; a complaint cannot be resolved by a
status change, so the loader walks its steps (``steps_to``) with the facts, a 5-Why chain, a
solution and, for closed ones, the customer's rating and a lesson, per category.
"""

from __future__ import annotations

import random

from kefu.domain import case_loop as cw
from kefu.domain.roles import Role

# category -> (5-Why chain, solution, lesson)
NOTES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "logistics": (
        ("包裹为什么晚到？中转站积压", "为什么积压？大促期间运力没有提前加派"),
        "联系快递加急派送并每日同步物流进度",
        "大促前与快递确认加派运力，超时件主动预警",
    ),
    "quality": (
        ("商品为什么有问题？出厂抽检漏检", "为什么漏检？该批次抽检比例偏低"),
        "补发新品并上门取回问题商品",
        "问题批次下架复检，抽检比例提高",
    ),
    "return_refund": (
        ("退款为什么没到？审核卡在人工环节", "为什么卡住？退货签收后未自动触发审核"),
        "人工加急审核，当天原路退款",
        "退货签收后自动进入退款审核",
    ),
    "price_billing": (
        ("为什么多扣费？优惠没有叠加成功", "为什么没叠加？活动规则页与结算逻辑不一致"),
        "退还差价并说明计费明细",
        "活动上线前核对规则页与结算逻辑",
    ),
    "order_payment": (
        ("订单为什么异常？支付回调超时", "为什么超时？支付通道高峰期拥堵"),
        "核实支付记录，补单或全额退回",
        "支付回调超时自动对账并通知客户",
    ),
    "account_privacy": (
        ("账户为什么出问题？登录校验过于宽松", "为什么宽松？异地登录未触发二次验证"),
        "冻结可疑登录，协助客户重置密码",
        "异地登录强制二次验证",
    ),
    "service": (
        ("客户为什么不满？等待时间过长", "为什么等待长？高峰时段排班不足"),
        "主管致歉并专人跟进到底",
        "高峰时段增加在线人手，超时未回复自动提醒",
    ),
}
GENERIC = (
    ("问题为什么发生？流程中缺少一步核对",),
    "按客户诉求处理并确认结果",
    "补上流程中的核对步骤",
)
COUPON = cw.Compensation("coupon", 20_00, Role.AGENT)  # a ¥20 coupon, within an agent's authority


def steps_to(
    case: cw.Case,
    target: str,
    *,
    facts: str,
    category: str | None,
    rng: random.Random,
) -> list[cw.Action]:
    """The actions that take a complaint from where it stands to 跟进反馈 ("resolved") or
    总结归档 ("closed")."""
    whys, solution, lesson = NOTES.get(category or "", GENERIC)
    plan: list[cw.Action] = [cw.Resume()] if case.waiting is not None else []
    stage = case.stage
    if stage == cw.Stage.REGISTERED:
        plan += [cw.RecordFacts(facts[:500] or "客户来电反映问题"), cw.Advance()]
        stage = cw.Stage.ANALYSING
    if stage == cw.Stage.ANALYSING:
        plan += [cw.RecordAnalysis(category or "other", five_whys=whys), cw.Advance()]
        stage = cw.Stage.RESOLVING
    if stage == cw.Stage.RESOLVING:
        plan += [cw.ProposeSolution(solution, COUPON if rng.random() < 0.4 else None), cw.Advance()]
        stage = cw.Stage.FOLLOWING_UP
    if target == "closed" and stage == cw.Stage.FOLLOWING_UP:
        plan += [cw.RecordFeedback(True, rng.choice((4, 5, 5))), cw.Archive(lesson)]
    return plan
