"""A tiny development-data directory with the layout of ../shared/data, for training tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kefu.nlp.data import REVIEW_CORPORA

POSITIVE = [
    "很好吃，送得也快",
    "质量不错，推荐",
    "服务很好，下次还来",
    "房间干净，满意",
    "性价比高，好评",
]
NEGATIVE = [
    "太难吃了，再也不买",
    "质量很差，退货",
    "送了两个小时，凉了",
    "房间很脏，失望",
    "客服不理人，差评",
]
# (text, sentiment, emotion, intent, category, risks)
TRIAGE = [
    ("我的快递五天了还没到，到底怎么回事？", "negative", "anxious", "complaint", "logistics", []),
    ("快递员态度太差了，东西直接扔门口！", "negative", "angry", "complaint", "logistics", []),
    ("收到的杯子有裂缝，太失望了", "negative", "disappointed", "complaint", "quality", []),
    ("充电宝冒烟了差点着火", "negative", "angry", "complaint", "quality", ["safety"]),
    ("退款一周了还没到账", "negative", "angry", "complaint", "return_refund", []),
    ("怎么申请退货呀", "neutral", "neutral", "inquiry", "return_refund", []),
    ("刚买就降价了，能退差价吗", "negative", "neutral", "inquiry", "price_billing", []),
    (
        "被扣了两次钱，我要去12315投诉",
        "negative",
        "angry",
        "complaint",
        "price_billing",
        ["regulator"],
    ),
    ("订单能改地址吗", "neutral", "neutral", "inquiry", "order_payment", []),
    ("付款一直失败怎么办", "negative", "anxious", "inquiry", "order_payment", []),
    (
        "我的信息被泄露了，天天接到骚扰电话",
        "negative",
        "angry",
        "complaint",
        "account_privacy",
        ["privacy"],
    ),
    ("密码忘了怎么找回", "neutral", "neutral", "inquiry", "account_privacy", []),
    ("客服小姐姐很耐心，谢谢", "positive", "satisfied", "praise", "service", []),
    ("等了半小时都没有客服回复", "negative", "angry", "complaint", "service", []),
    ("这款耳机支持降噪吗", "neutral", "neutral", "inquiry", "product_info", []),
    ("建议多出几个颜色", "neutral", "neutral", "suggestion", "product_info", []),
    ("东西很好用，五星好评", "positive", "satisfied", "praise", "quality", []),
    ("在吗", "neutral", "neutral", "other", "other", []),
    ("建议APP加个夜间模式", "neutral", "neutral", "suggestion", "other", []),
    ("你好", "neutral", "neutral", "other", "other", []),
]


def _priority(emotion: str, intent: str, category: str, risks: list[str]) -> str:
    if risks:
        return "P1"
    if intent == "complaint":
        return "P2" if category == "quality" else "P3"
    return "P4"


def write_triage(path: Path, rows=TRIAGE) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i, (text, sentiment, emotion, intent, category, risks) in enumerate(rows, 1):
            row = {
                "id": f"t-{i}",
                "text": text,
                "sentiment": sentiment,
                "emotion": emotion,
                "intent": intent,
                "category": category,
                "risks": risks,
                "priority": _priority(emotion, intent, category, risks),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_reviews(path: Path, positive=POSITIVE, negative=NEGATIVE) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "review"])
        writer.writerows([[1, t] for t in positive] + [[0, t] for t in negative])


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    sentiment = root / "public" / "sentiment"
    sentiment.mkdir(parents=True)
    for corpus in REVIEW_CORPORA:
        write_reviews(sentiment / f"{corpus}.train.csv")
    write_reviews(sentiment / "chnsenticorp.dev.csv")
    (sentiment / "xs_chat.train.txt").write_text(
        "positive,谢谢 亲\nnegative,太 慢 了\n", encoding="utf-8"
    )
    write_triage(root / "triage-dev.jsonl")
    return root


@pytest.fixture(scope="session")
def tiny_model(tiny_data, tmp_path_factory) -> Path:
    from kefu.nlp.train import Recipe, SpaceRecipe, train

    recipe = Recipe(review_space=SpaceRecipe(min_df=1))
    out = tmp_path_factory.mktemp("model") / "tiny.npz"
    train(tiny_data, out, recipe=recipe, messages=tiny_data)
    return out


@pytest.fixture(scope="session")
def tiny_accurate_model(tiny_data, tmp_path_factory) -> Path:
    """A tiny artifact and, beside it, its accurate path (heads that read e5 embeddings)."""
    from kefu.nlp.train import Recipe, SpaceRecipe, train

    out = tmp_path_factory.mktemp("model") / "tiny.npz"
    train(
        tiny_data,
        out,
        recipe=Recipe(review_space=SpaceRecipe(min_df=1)),
        accurate=True,
        messages=tiny_data,
    )
    return out
