"""Transfer data for the category head: the public CIC customer-service intents (DataCLUE)
read as triage categories, and the knowledge-base articles.

CIC labels 12,000 real e-commerce chat messages with 118 intents (``cic.labels.json``). Many
name a business topic outright (买家表示物流太慢了 → logistics, 买家咨询退换货规则 →
return_refund); those are mapped below and their messages join the category head's training
data at a small weight (``Recipe.cic_weight``). Intents whose topic is unclear (greetings
aside, 买家表示不满) are left out. For emotion and intent the same rows made the heads worse
in cross-validation, so only the category head reads them.

A team's knowledge base says what each topic sounds like: every sentence of an article
(``kb/*.md``, front matter with ``category``) and its title become rows of that category.
Training only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kefu.nlp.data import DataError, Labelled

CIC_FILES = ("cic.train.json", "cic.dev.json")
CATEGORY_OF_INTENT = {
    0: "price_billing",  # 买家抱怨商品涨价了
    4: "order_payment",  # 买家表示地址正确
    5: "other",  # 买家表示好的
    6: "return_refund",  # 买家表示具体时间寄回去
    8: "order_payment",  # 买家表示马上下单付款
    9: "order_payment",  # 买家表示拍错了
    11: "logistics",  # 买家表示商家发错地址
    12: "quality",  # 买家表示商家发错货了
    13: "return_refund",  # 买家表示商品已经寄回去了
    14: "other",  # 买家表示稍等
    16: "order_payment",  # 买家表示收件信息不需要修改了
    18: "return_refund",  # 买家表示无法申请退款
    19: "order_payment",  # 买家表示无法下单
    20: "logistics",  # 买家表示物流太慢了
    22: "return_refund",  # 买家表示需要退货退款
    23: "order_payment",  # 买家表示要重拍
    25: "order_payment",  # 买家表示已下单付款
    26: "price_billing",  # 买家表示优惠券无法使用
    29: "logistics",  # 买家催促发货
    30: "service",  # 买家催促回复
    31: "other",  # 买家打招呼
    32: "product_info",  # 买家对特定款式/颜色表达喜好
    33: "other",  # 买家发送结束语
    34: "price_billing",  # 买家发送开票信息
    36: "quality",  # 买家反馈收到的商品有问题
    37: "order_payment",  # 买家确认地址是否修改成功
    38: "price_billing",  # 买家讨价还价
    40: "product_info",  # 买家需要商品推荐
    43: "order_payment",  # 买家要求改商品信息
    44: "logistics",  # 买家要求改运费
    45: "order_payment",  # 买家要求核对订单信息
    46: "return_refund",  # 买家要求取消退换货退款
    48: "return_refund",  # 买家要求退运费
    49: "order_payment",  # 买家要求修改收件信息
    50: "order_payment",  # 买家要求延迟发货
    52: "product_info",  # 买家咨询补货/上货时间
    53: "logistics",  # 买家咨询到货时间
    54: "logistics",  # 买家咨询发货时间
    55: "logistics",  # 买家咨询发什么快递
    56: "price_billing",  # 买家咨询返现方式
    57: "price_billing",  # 买家咨询返现金额
    58: "price_billing",  # 买家咨询返现时间
    59: "return_refund",  # 买家咨询换货发货时间
    60: "price_billing",  # 买家咨询活动规则
    61: "logistics",  # 买家咨询快递单号
    62: "price_billing",  # 买家咨询买多件能否优惠
    63: "product_info",  # 买家咨询哪款更好
    64: "order_payment",  # 买家咨询能否到付
    65: "product_info",  # 买家咨询能否定制
    66: "logistics",  # 买家咨询能否分开/一起发货
    67: "price_billing",  # 买家咨询能否开发票及发票类型和寄送时间
    68: "price_billing",  # 买家咨询能否提前享受优惠
    69: "logistics",  # 买家咨询偏远地区是否发货
    70: "account_privacy",  # 买家咨询如何加入会员
    71: "price_billing",  # 买家咨询如何领取优惠券
    72: "order_payment",  # 买家咨询如何下单
    73: "logistics",  # 买家咨询商家发货地
    74: "return_refund",  # 买家咨询商家是否收到寄回的商品
    75: "product_info",  # 买家咨询商品包装
    76: "product_info",  # 买家咨询商品产地
    77: "product_info",  # 买家咨询商品的材质/面料
    78: "product_info",  # 买家咨询商品的色差问题
    79: "product_info",  # 买家咨询商品规格数量
    81: "product_info",  # 买家咨询商品具体尺码尺寸
    82: "product_info",  # 买家咨询商品区别
    83: "product_info",  # 买家咨询商品上新时间
    84: "product_info",  # 买家咨询商品是不是预售款
    85: "product_info",  # 买家咨询商品是否可以单买/单卖
    86: "product_info",  # 买家咨询商品是否有赠品
    88: "product_info",  # 买家咨询商品是什么颜色
    90: "product_info",  # 买家咨询商品重量
    91: "product_info",  # 买家咨询什么颜色好看
    92: "price_billing",  # 买家咨询是否可以打折
    93: "logistics",  # 买家咨询是否可以发顺丰
    94: "price_billing",  # 买家咨询是否可以改价
    95: "logistics",  # 买家咨询是否可以拒收
    96: "order_payment",  # 买家咨询是否可以微信支付
    97: "logistics",  # 买家咨询是否可以指定快递
    98: "price_billing",  # 买家咨询是否有好评返现
    99: "price_billing",  # 买家咨询是否有活动
    100: "product_info",  # 买家咨询是否有买家秀
    102: "product_info",  # 买家咨询是否有味道
    103: "return_refund",  # 买家咨询退换货地址
    104: "return_refund",  # 买家咨询退换货规则
    105: "return_refund",  # 买家咨询退换货运费由谁承担
    106: "return_refund",  # 买家咨询退换货支持快递
    107: "return_refund",  # 买家咨询退货退款原因选什么
    108: "return_refund",  # 买家咨询退款金额
    109: "return_refund",  # 买家咨询退款去向
    110: "return_refund",  # 买家咨询退款时间
    111: "logistics",  # 买家咨询物流信息
    112: "price_billing",  # 买家咨询优惠券使用规则
    113: "logistics",  # 买家咨询运费金额
    114: "return_refund",  # 买家咨询运费险赔付规则
    117: "account_privacy",  # 买家咨询自己的旺旺昵称
}


def read_cic_categories(data_dir: Path) -> list[Labelled]:
    """CIC messages whose intent names a category, labelled with it."""
    rows = []
    for name in CIC_FILES:
        path = data_dir / "public" / "intent" / name
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise DataError(f"cannot read {path}: {e.strerror}") from e
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            category = CATEGORY_OF_INTENT.get(int(row["label"]))
            if category is not None and row.get("sentence"):
                rows.append(Labelled(row["sentence"], category))
    return rows


_SENTENCE_END = re.compile(r"[。！？!?\n]")
MIN_SENTENCE = 6


def read_kb_categories(data_dir: Path) -> list[Labelled]:
    """The title and every sentence of each KB article, labelled with the article's category."""
    rows = []
    for article in sorted((data_dir / "kb").glob("*.md")):
        parts = article.read_text(encoding="utf-8").split("---", 2)
        if len(parts) < 3:
            raise DataError(f"{article}: no front matter")
        fields = dict(line.split(":", 1) for line in parts[1].strip().splitlines() if ":" in line)
        category = fields.get("category", "").strip()
        if not category:
            raise DataError(f"{article}: front matter lacks category")
        rows.append(Labelled(fields.get("title", "").strip(), category))
        rows += [
            Labelled(s.strip(), category)
            for s in _SENTENCE_END.split(parts[2])
            if len(s.strip()) >= MIN_SENTENCE
        ]
    return [r for r in rows if r.text]


def read_kb_question_categories(data_dir: Path) -> list[Labelled]:
    """The customer questions of ``kb-questions-dev.jsonl`` that have an answering article,
    labelled with that article's category: customer wording for the policy topics."""
    categories = {}
    for article in sorted((data_dir / "kb").glob("*.md")):
        fields = dict(
            line.split(":", 1)
            for line in article.read_text(encoding="utf-8").split("---", 2)[1].splitlines()
            if ":" in line
        )
        categories[fields.get("id", "").strip()] = fields.get("category", "").strip()
    path = data_dir / "kb-questions-dev.jsonl"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            question = json.loads(line)
            category = categories.get(question.get("article") or "")
            if category and question.get("text"):
                rows.append(Labelled(question["text"], category))
    return rows
