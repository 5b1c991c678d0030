"""The label sets of triage (docs/triage.md): what analysis reads out of a message."""

from __future__ import annotations

from enum import StrEnum


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Emotion(StrEnum):
    ANGRY = "angry"  # 愤怒
    ANXIOUS = "anxious"  # 焦虑
    DISAPPOINTED = "disappointed"  # 失望
    SATISFIED = "satisfied"  # 满意
    NEUTRAL = "neutral"  # 平静


class Intent(StrEnum):
    INQUIRY = "inquiry"  # 咨询
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬
    OTHER = "other"


class Category(StrEnum):
    LOGISTICS = "logistics"  # 物流配送
    QUALITY = "quality"  # 商品质量
    RETURN_REFUND = "return_refund"  # 退换货 / 退款
    PRICE_BILLING = "price_billing"  # 价格费用
    ORDER_PAYMENT = "order_payment"  # 订单支付
    ACCOUNT_PRIVACY = "account_privacy"  # 账户隐私
    SERVICE = "service"  # 服务态度
    PRODUCT_INFO = "product_info"  # 售前咨询
    OTHER = "other"  # 其他


class Risk(StrEnum):
    MEDIA = "media"
    REGULATOR = "regulator"
    LEGAL = "legal"
    SAFETY = "safety"
    PRIVACY = "privacy"
    DISCRIMINATION = "discrimination"
