"""Knowledge-base articles for tests."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.db.models import KbArticle
from kefu.services.actors import SYSTEM
from kefu.services.kb import articles as kb

SHELF = (
    (
        "发货时间与配送时效",
        "现货商品当天 16:00 前付款当天发货，江浙沪 1-2 天送达。",
        ["发货", "时效"],
    ),
    (
        "修改收货地址",
        "未发货的订单可在订单详情修改地址；已发货请联系快递改派。",
        ["地址", "改地址"],
    ),
    ("开具发票", "订单完成后，在订单详情申请电子发票，抬头可选个人或单位。", ["发票"]),
    ("会员积分规则", "每消费 1 元得 1 积分，100 积分抵 1 元。", ["积分", "会员"]),
)


def publish(db: Session, title: str, body: str, **fields: object) -> KbArticle:
    article = kb.do_create_article(
        db, SYSTEM, title=title, body=body, status=fields.pop("status", "published"), **fields
    )
    db.commit()
    return article


def publish_shelf(db: Session) -> list[KbArticle]:
    return [publish(db, title, body, tags=tags) for title, body, tags in SHELF]
