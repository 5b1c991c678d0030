"""The demo's customers: who they are and how they reach 示例商城 (pure; no database).

Most customers are imported up front with their identities on one to three channels — the
point of kefu is one profile whether the customer writes on WeChat, by email, by phone or
in the web chat. A few are first-time visitors whose profile is created by their first
message, as it is for real strangers.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any, TypeVar

from kefu.demo.content import Content

GENERATED_CUSTOMERS = 48
VISITORS = 16
CHANNEL_WEIGHTS = {"wechat": 35, "webchat": 25, "email": 15, "phone": 15, "api": 10}
CHANNEL_COUNT_WEIGHTS = {1: 40, 2: 40, 3: 20}
EMAIL_WORDS = [
    "sunny",
    "xiaoyu",
    "happy",
    "lily",
    "tiger",
    "moon",
    "river",
    "cloud",
    "peach",
    "star",
    "mango",
    "bamboo",
]
EMAIL_DOMAINS = ["example.com", "example.cn", "example.net"]  # reserved names: never a real mailbox
PHONE_PREFIXES = ["138", "139", "186", "155", "177", "199", "136", "150"]
OPENID_ALPHABET = string.ascii_letters + string.digits + "-_"

T = TypeVar("T")


@dataclass(frozen=True)
class CustomerProfile:
    key: str
    name: str
    call: str  # how an agent addresses them: 王女士, Kevin, 亲
    language: str
    tags: tuple[str, ...]
    note: str
    city: str
    identities: tuple[tuple[str, str], ...]  # (channel, external id)
    weight: int
    preexisting: bool  # imported with do_create_customer; False: created by the first message

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(channel for channel, _ in self.identities)

    def identity(self, channel: str) -> str:
        return dict(self.identities)[channel]

    @property
    def email(self) -> str | None:
        return dict(self.identities).get("email")

    @property
    def phone(self) -> str | None:
        return dict(self.identities).get("phone")

    @property
    def writes_traditional(self) -> bool:
        return self.language in ("zh-HK", "zh-TW")


def build_customers(rng: random.Random, content: Content) -> list[CustomerProfile]:
    """Written-out profiles, then generated ones, then visitors; keys are stable."""
    profiles = [
        _written_profile(rng, content, i, raw) for i, raw in enumerate(content.people.profiles)
    ]
    names = {p.name for p in profiles}
    for i in range(GENERATED_CUSTOMERS):
        profile = _generated_profile(rng, content, i, names)
        names.add(profile.name)
        profiles.append(profile)
    nicknames = rng.sample(content.people.visitor_nicknames, VISITORS)
    profiles.extend(_visitor(rng, content, i, nick) for i, nick in enumerate(nicknames))
    return profiles


def _written_profile(
    rng: random.Random, content: Content, index: int, raw: dict[str, Any]
) -> CustomerProfile:
    name = raw["name"]
    return CustomerProfile(
        key=f"profile-{index}",
        name=name,
        call=_call(name, raw["gender"]),
        language=raw["language"],
        tags=tuple(raw["tags"]),
        note=raw["note"],
        city=_city(rng, content, raw["language"]),
        identities=tuple(_identity(rng, channel) for channel in raw["channels"]),
        weight=int(raw["weight"]),
        preexisting=True,
    )


def _generated_profile(
    rng: random.Random, content: Content, index: int, taken: set[str]
) -> CustomerProfile:
    people = content.people
    while True:
        gender = rng.choice("fm")
        given = rng.choice(people.given_female if gender == "f" else people.given_male)
        name = rng.choice(people.surnames) + given
        if name not in taken:
            break
    count = weighted(rng, CHANNEL_COUNT_WEIGHTS)
    channels = distinct_channels(rng, count)
    tags = _generated_tags(rng)
    return CustomerProfile(
        key=f"customer-{index}",
        name=name,
        call=_call(name, gender),
        language="zh-CN",
        tags=tags,
        note="年消费较高，优先响应。" if "VIP" in tags else "",
        city=rng.choice(content.catalog.cities),
        identities=tuple(_identity(rng, channel) for channel in channels),
        weight=rng.choice([1, 1, 1, 2, 2, 3]) + (2 if "VIP" in tags else 0),
        preexisting=True,
    )


def _visitor(rng: random.Random, content: Content, index: int, nickname: str) -> CustomerProfile:
    channel = rng.choice(["wechat", "wechat", "webchat"])
    return CustomerProfile(
        key=f"visitor-{index}",
        name=nickname,
        call="亲",
        language="zh-CN",
        tags=(),
        note="",
        city=rng.choice(content.catalog.cities),
        identities=(_identity(rng, channel),),
        weight=1,
        preexisting=False,
    )


def _generated_tags(rng: random.Random) -> tuple[str, ...]:
    roll = rng.random()
    if roll < 0.08:
        return ("VIP",)
    if roll < 0.25:
        return ("老客户",)
    return ()


def _call(name: str, gender: str) -> str:
    if name.isascii():
        return name.split()[0]
    if "（" in name:  # 示例科技有限公司（刘经理）
        return name.split("（")[1].rstrip("）")
    return name[0] + ("女士" if gender == "f" else "先生")


def _city(rng: random.Random, content: Content, language: str) -> str:
    return {"zh-HK": "香港", "zh-TW": "台北"}.get(language) or rng.choice(content.catalog.cities)


def distinct_channels(
    rng: random.Random, count: int, weights: dict[str, int] = CHANNEL_WEIGHTS
) -> list[str]:
    """``count`` different channels, drawn by ``weights``."""
    channels: list[str] = []
    while len(channels) < count:
        channel = weighted(rng, weights)
        if channel not in channels:
            channels.append(channel)
    return channels


def weighted(rng: random.Random, weights: dict[T, int]) -> T:
    """One key of ``weights``, drawn by its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _identity(rng: random.Random, channel: str) -> tuple[str, str]:
    """A realistic-looking external id for the channel (all random, none real)."""
    if channel == "wechat":
        return channel, "o" + "".join(rng.choice(OPENID_ALPHABET) for _ in range(27))
    if channel == "email":
        word = rng.choice(EMAIL_WORDS)
        return channel, f"{word}{rng.randrange(100, 99999)}@{rng.choice(EMAIL_DOMAINS)}"
    if channel == "phone":
        return channel, rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    if channel == "webchat":
        return channel, f"v_{rng.getrandbits(64):016x}"
    if channel == "api":
        return channel, f"app-{rng.randrange(10**7, 10**8)}"
    raise ValueError(channel)
