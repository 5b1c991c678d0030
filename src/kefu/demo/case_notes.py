"""What the demo's agents write at each step of a complaint's loop (kefu's own wording).

The demo plays complaints that end resolved or closed; a complaint cannot be resolved by a
status change, so the loader walks its steps (``steps_to``) with the facts, a 5-Why chain, a
solution and, for closed ones, the customer's rating and a lesson (now and then after the
follow-up sent it back once), per category; each category has a few variants, so the case library
built from the archived ones offers different answers to one problem.
"""

from __future__ import annotations

import random

from kefu.domain import case_loop as cw
from kefu.domain.roles import Role

# category -> its variants of (5-Why chain, solution, lesson): cases of one category end in
# different ways, so the case library (解决方案库) has more than one answer to offer per problem.
Note = tuple[tuple[str, ...], str, str]
NOTES: dict[str, tuple[Note, ...]] = {
    "logistics": (
        (
            ("包裹为什么晚到？中转站积压", "为什么积压？大促期间运力没有提前加派"),
            "联系快递加急派送并每日同步物流进度",
            "大促前与快递确认加派运力，超时件主动预警",
        ),
        (
            ("物流为什么不更新？包裹在分拨中心错分", "为什么错分？面单地址区县字段被截断"),
            "协调快递找回错分包裹改派，同时补发一件保证客户按时收到",
            "面单打印前校验地址完整，错分件由专人追踪到签收",
        ),
        (
            ("为什么显示签收却没收到？快递员代签放在驿站", "为什么代签？未按约定电话联系收件人"),
            "联系快递站点核实签收记录并送货上门，向客户道歉",
            "要求合作快递未经同意不得代签，代签投诉计入考核",
        ),
    ),
    "quality": (
        (
            ("商品为什么有问题？出厂抽检漏检", "为什么漏检？该批次抽检比例偏低"),
            "补发新品并上门取回问题商品",
            "问题批次下架复检，抽检比例提高",
        ),
        (
            ("外壳为什么破裂？运输中受压", "为什么受压？大件只用了单层纸箱"),
            "先行退款，新品用加固包装重新发货",
            "易碎和大件商品一律加固包装，发货前拍照留存",
        ),
        (
            (
                "为什么和描述不符？详情页参数没有随新批次更新",
                "为什么没更新？换供应商后无人复核页面",
            ),
            "按客户意愿全额退货退款，承担来回运费",
            "换批次或供应商时同步核对详情页参数",
        ),
    ),
    "return_refund": (
        (
            ("退款为什么没到？审核卡在人工环节", "为什么卡住？退货签收后未自动触发审核"),
            "人工加急审核，当天原路退款",
            "退货签收后自动进入退款审核",
        ),
        (
            ("为什么退款金额不对？优惠券分摊计算有误", "为什么有误？多件订单部分退货时按整单分摊"),
            "按实付金额补退差额，并发送明细说明",
            "部分退货按商品实付金额计算，退款前展示明细",
        ),
    ),
    "price_billing": (
        (
            ("为什么多扣费？优惠没有叠加成功", "为什么没叠加？活动规则页与结算逻辑不一致"),
            "退还差价并说明计费明细",
            "活动上线前核对规则页与结算逻辑",
        ),
        (
            ("为什么买完就降价？价保规则没有主动告知", "为什么没告知？价保入口藏在订单详情深处"),
            "按价保规则退还差价，附赠一张无门槛券",
            "降价时主动提醒七天内下单的客户申请价保",
        ),
    ),
    "order_payment": (
        (
            ("订单为什么异常？支付回调超时", "为什么超时？支付通道高峰期拥堵"),
            "核实支付记录，补单或全额退回",
            "支付回调超时自动对账并通知客户",
        ),
        (
            ("为什么重复扣款？客户重复点击支付", "为什么能重复支付？支付按钮没有防重复提交"),
            "核实两笔扣款后原路退回重复的一笔",
            "支付按钮加防重复提交，重复扣款当日自动退回",
        ),
    ),
    "account_privacy": (
        (
            ("账户为什么出问题？登录校验过于宽松", "为什么宽松？异地登录未触发二次验证"),
            "冻结可疑登录，协助客户重置密码",
            "异地登录强制二次验证",
        ),
        (
            ("账户为什么被锁？风控误判为异常操作", "为什么误判？规则把换新手机当成盗号"),
            "人工核验身份后解锁账户，说明锁定原因",
            "风控锁定后短信告知原因和自助解锁方式",
        ),
    ),
    "service": (
        (
            ("客户为什么不满？等待时间过长", "为什么等待长？高峰时段排班不足"),
            "主管致歉并专人跟进到底",
            "高峰时段增加在线人手，超时未回复自动提醒",
        ),
        (
            ("客户为什么生气？被转接多次重复描述问题", "为什么要重复？转接时没有带上工单记录"),
            "指定一名客服负责到底，当天回电给出处理结果",
            "转接必须附上问题摘要，接手人先读记录再联系客户",
        ),
    ),
}
GENERIC: Note = (
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
    whys, solution, lesson = rng.choice(NOTES.get(category or "", (GENERIC,)))
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
        if rng.random() < 0.15:  # the follow-up finds the customer not satisfied yet
            plan += [
                cw.SendBack(),
                cw.ProposeSolution(f"{solution}，主管当天回访确认"),
                cw.Advance(),
            ]
        plan += [cw.RecordFeedback(True, rng.choice((3, 4, 5, 5))), cw.Archive(lesson)]
    return plan
