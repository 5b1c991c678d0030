"""The demo support team: its groups (客服小组) and staff accounts of every role."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "lotus-window-2026"  # noqa: S105 - demo accounts only

PRESALE = "售前组"
AFTERSALE = "售后组"
COMPLAINTS = "投诉处理组"
TECH = "技术支持组"
COMPLIANCE = "合规组"
PRODUCT_SAFETY = "产品安全组"

# (name, description); routing rules later send crisis cases to the last two.
DEMO_GROUPS: list[tuple[str, str]] = [
    (PRESALE, "售前咨询：商品参数、库存、优惠活动、下单前的问题"),
    (AFTERSALE, "售后服务：物流、退换货、退款、价保、发票"),
    (COMPLAINTS, "投诉处理：升级投诉、重复投诉、监管与舆情风险"),
    (TECH, "技术支持：账户登录、App 故障、设备使用指导"),
    (COMPLIANCE, "合规：个人信息保护、法律风险"),
    (PRODUCT_SAFETY, "产品安全：人身伤害、食品安全、召回评估"),
]

# (email, name, role, groups) — cli.py prints these as the demo logins.
DEMO_USERS: list[tuple[str, str, str, list[str]]] = [
    ("zhou.min@demo.kefu", "周敏", "admin", []),
    ("chen.jing@demo.kefu", "陈静", "supervisor", [COMPLAINTS]),
    ("li.na@demo.kefu", "李娜", "agent", [PRESALE]),
    ("wang.lei@demo.kefu", "王磊", "agent", [PRESALE, AFTERSALE]),
    ("zhang.wei@demo.kefu", "张伟", "agent", [AFTERSALE]),
    ("liu.yang@demo.kefu", "刘洋", "agent", [AFTERSALE]),
    ("zhao.ting@demo.kefu", "赵婷", "agent", [AFTERSALE]),
    ("sun.hao@demo.kefu", "孙浩", "agent", [TECH]),
    ("wu.di@demo.kefu", "吴迪", "agent", [TECH, PRESALE]),
    ("zheng.li@demo.kefu", "郑丽", "specialist", [COMPLAINTS, PRODUCT_SAFETY]),
    ("he.jun@demo.kefu", "何军", "specialist", [COMPLAINTS, COMPLIANCE]),
]

ADMIN_EMAIL = DEMO_USERS[0][0]


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    role: str


def members_of(group: str) -> list[Member]:
    return [Member(e, n, r) for e, n, r, groups in DEMO_USERS if group in groups]


def handlers_of(group: str, role: str | None) -> list[Member]:
    """Who may take a case of the group: a role asked for, else its agents and specialists.

    The supervisor is a member of 投诉处理组 to watch it, not to take its everyday cases.
    """
    if role == "supervisor":
        return [m for m in members_of(group) if m.role == "supervisor"] or [supervisor()]
    wanted = {role} if role else {"agent", "specialist"}
    return [m for m in members_of(group) if m.role in wanted]


def supervisor() -> Member:
    email, name, role, _ = DEMO_USERS[1]
    return Member(email, name, role)


def member(email: str) -> Member:
    for e, n, r, _ in DEMO_USERS:
        if e == email:
            return Member(e, n, r)
    raise KeyError(email)
