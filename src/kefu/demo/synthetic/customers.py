"""The synthetic customers: who writes, on which channels, and how often (pure; no database).

About a third of the customers are imported before the history starts (the shop's existing
customer base); the others appear with their first message, so customer ids grow with time as
they do in real use. How often a customer writes is heavy-tailed — most write once or twice,
a few dozens of times — and a customer picks up new channels over time (an identity is added the
first time they write on one). External ids are made from the row's id, so they never collide
with the demo's, with each other, or with an earlier run of the generator.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from kefu.demo.content import Content
from kefu.demo.people import CustomerProfile, distinct_channels, weighted
from kefu.demo.synthetic.rows import SYSTEM, Actor, Ids, Rows, dumps

# How often each channel is among a customer's identities (and a ticket's channel).
CHANNEL_WEIGHTS = {
    "wechat": 33,
    "webchat": 25,
    "email": 14,
    "phone": 14,
    "api": 6,
    "sms": 3,
    "social": 3,
    "app_review": 2,
}
IDENTITY_COUNT_WEIGHTS = {1: 45, 2: 38, 3: 17}
VERIFIED_CHANNELS = frozenset({"email", "phone", "sms"})
IMPORTED_SHARE = 0.35
NICKNAME_SHARE = 0.3  # first-time visitors on chat channels known only by a nickname
TRADITIONAL = {"zh-HK": 0.02, "zh-TW": 0.01}  # languages of the rest: zh-CN
VIP_SHARE, REGULAR_SHARE = 0.05, 0.15
MAX_WEIGHT = 40.0
# Phone prefixes the demo's own customers do not use, so numbers never collide with theirs.
PHONE_PREFIXES = ("130", "131", "132", "133", "135", "137", "151", "152", "153", "157", "158",
                  "159", "180", "181", "182", "183", "185", "187", "188", "189")  # fmt: skip
EMAIL_WORDS = ("sunny", "xiaoyu", "happy", "lily", "tiger", "moon", "river", "cloud", "peach",
               "star", "mango", "bamboo", "lucky", "panda", "maple", "echo", "kiki", "leo")  # fmt: skip
EMAIL_DOMAINS = (
    "example.org",
    "mail.example.org",
    "inbox.example.org",
)  # reserved: no real mailbox


@dataclass
class CustomerRecord:
    id: int
    profile: CustomerProfile
    created_at: datetime


@dataclass
class NewRows:
    """Rows of customers and identities made since they were last taken, to be written with the
    ticket that made them: (table, row), and audit events as ``Rows.audit`` takes them."""

    rows: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    audits: list[tuple[Any, ...]] = field(default_factory=list)

    def write_to(self, out: Rows) -> None:
        for table, row in self.rows:
            out.add(table, row)
        for audit in self.audits:
            out.audit(*audit)


class CustomerPool:
    """The customers so far, drawn by how often they write; new ones are created on demand."""

    def __init__(
        self, rng: random.Random, content: Content, ids: Ids, tag_ids: dict[str, int]
    ) -> None:
        self.rng = rng
        self.content = content
        self.ids = ids
        self.tag_ids = tag_ids
        self.new = NewRows()
        self.everyone: list[CustomerRecord] = []
        self.cumulative: list[float] = []
        self.traditional: list[CustomerRecord] = []
        self.traditional_cumulative: list[float] = []

    # --- creating ------------------------------------------------------------------------------

    def import_customers(self, count: int, at: datetime, admin_id: int) -> None:
        """The shop's existing customers, imported by the admin before the history starts."""
        for i in range(count):
            moment = at + timedelta(seconds=7 * i)
            count = weighted(self.rng, IDENTITY_COUNT_WEIGHTS)
            channels = distinct_channels(self.rng, count, CHANNEL_WEIGHTS)
            self._create(moment, channels, imported_by=admin_id)

    def create(self, at: datetime, channel: str, *, traditional: bool = False) -> CustomerRecord:
        """A customer whose first message (on ``channel``) arrives at ``at``."""
        channels = [channel] if channel != "web" else []
        for extra in ("phone", "email"):
            if extra not in channels and self.rng.random() < 0.25:
                channels.append(extra)
        if not channels:
            channels = ["phone"]  # a case opened by staff: the customer called in
        return self._create(at, channels, traditional=traditional)

    def _create(
        self,
        at: datetime,
        channels: list[str],
        *,
        imported_by: int | None = None,
        traditional: bool = False,
    ) -> CustomerRecord:
        rng = self.rng
        customer_id = self.ids.next("customers")
        language = _language(rng, traditional)
        visitor = imported_by is None and channels[0] in ("wechat", "webchat")
        if visitor and rng.random() < NICKNAME_SHARE:
            name, call = rng.choice(self.content.people.visitor_nicknames), "亲"
        else:
            name, call = _person(rng, self.content)
        tags = _tags(rng, language, imported=imported_by is not None)
        profile = CustomerProfile(
            key=f"synthetic-{customer_id}",
            name=name,
            call=call,
            language=language,
            tags=tags,
            note="年消费较高，优先响应。" if "VIP" in tags else "",
            city={"zh-HK": "香港", "zh-TW": "台北"}.get(language)
            or rng.choice(self.content.catalog.cities),
            identities=(),
            weight=1,
            preexisting=imported_by is not None,
        )
        customer = CustomerRecord(customer_id, profile, at)
        for channel in channels:
            self.add_identity(customer, channel, at)
        self._created(customer, imported_by)
        weight = min(MAX_WEIGHT, rng.paretovariate(1.4)) * (1.5 if "VIP" in tags else 1.0)
        self._add(self.everyone, self.cumulative, customer, weight)
        if profile.writes_traditional:
            self._add(self.traditional, self.traditional_cumulative, customer, weight)
        return customer

    def add_identity(self, customer: CustomerRecord, channel: str, at: datetime) -> None:
        """The customer is known on ``channel`` from ``at`` (an identity row)."""
        identity_id = self.ids.next("identities")
        external_id = _external_id(self.rng, channel, identity_id)
        profile = customer.profile
        customer.profile = replace(
            profile, identities=(*profile.identities, (channel, external_id))
        )
        verified = channel in VERIFIED_CHANNELS
        self.new.rows.append(
            ("identities", (identity_id, customer.id, channel, external_id, verified, at))
        )

    def _created(self, customer: CustomerRecord, imported_by: int | None) -> None:
        """The customer's row (email and phone from its identities), tags and ``customer.create``
        (the writer writes customers before identities, whatever the order here)."""
        p, at = customer.profile, customer.created_at
        self.new.rows.append(
            ("customers", (customer.id, p.name, p.email, p.phone, p.note, p.language, at, at))
        )
        self.new.rows.extend(("customer_tags", (customer.id, self.tag_ids[t])) for t in p.tags)
        after: dict[str, Any] = {"name": p.name}
        actor = SYSTEM if imported_by is None else Actor.user(imported_by)
        if imported_by is not None:
            after |= {"email": p.email, "phone": p.phone, "language": p.language,
                      "tags": list(p.tags)}  # fmt: skip
        after["identities"] = [f"{c}:{e}" for c, e in p.identities]
        self.new.audits.append((actor, "customer.create", "customer", customer.id, None,
                                customer.id, None, dumps(after), at))  # fmt: skip

    def take_new(self) -> NewRows:
        """The rows made since the last call."""
        new, self.new = self.new, NewRows()
        return new

    @staticmethod
    def _add(
        customers: list[CustomerRecord],
        cumulative: list[float],
        customer: CustomerRecord,
        weight: float,
    ) -> None:
        customers.append(customer)
        cumulative.append((cumulative[-1] if cumulative else 0.0) + weight)

    # --- choosing ------------------------------------------------------------------------------

    def pick(self, *, traditional: bool) -> CustomerRecord | None:
        """An existing customer, by how often they write (None if there is none yet)."""
        customers, cumulative = (
            (self.traditional, self.traditional_cumulative)
            if traditional
            else (self.everyone, self.cumulative)
        )
        if not customers:
            return None
        point = self.rng.random() * cumulative[-1]
        return customers[min(bisect.bisect_right(cumulative, point), len(customers) - 1)]

    def __len__(self) -> int:
        return len(self.everyone)


def choose_channel(rng: random.Random, allowed: tuple[str, ...] | None) -> str:
    """A channel by how much it is used, among ``allowed`` (None: any)."""
    options = {c: w for c, w in CHANNEL_WEIGHTS.items() if allowed is None or c in allowed}
    return weighted(rng, options) if options else rng.choice(allowed or ("webchat",))


def _language(rng: random.Random, traditional: bool) -> str:
    roll = rng.random()
    if traditional:
        return "zh-HK" if roll < 0.65 else "zh-TW"
    for language, share in TRADITIONAL.items():
        if roll < share:
            return language
        roll -= share
    return "zh-CN"


def _person(rng: random.Random, content: Content) -> tuple[str, str]:
    people = content.people
    female = rng.random() < 0.55
    surname = rng.choice(people.surnames)
    given = rng.choice(people.given_female if female else people.given_male)
    return surname + given, surname + ("女士" if female else "先生")


def _tags(rng: random.Random, language: str, *, imported: bool) -> tuple[str, ...]:
    tags: list[str] = []
    roll = rng.random()
    if roll < VIP_SHARE:
        tags.append("VIP")
    elif imported and roll < VIP_SHARE + REGULAR_SHARE:
        tags.append("老客户")
    if language in ("zh-HK", "zh-TW"):
        tags.append("港澳台")
    return tuple(tags)


def _external_id(rng: random.Random, channel: str, identity_id: int) -> str:
    """An id in the channel's own style; the identity's row id makes it unique."""
    if channel in ("phone", "sms"):
        # A bijection on 8 digits (7 919 is prime to 10): distinct ids give distinct numbers.
        return rng.choice(PHONE_PREFIXES) + f"{(identity_id * 7_919 + 1_234_567) % 10**8:08d}"
    if channel == "email":
        return f"{rng.choice(EMAIL_WORDS)}{identity_id}@{rng.choice(EMAIL_DOMAINS)}"
    if channel == "wechat":
        return f"oSyn{identity_id:010d}{rng.getrandbits(64):016x}"[:28]
    if channel == "webchat":
        return f"v_{identity_id:08x}{rng.getrandbits(32):08x}"
    if channel == "social":
        return str(5_000_000_000 + identity_id * 37)
    if channel == "app_review":
        return f"review-{identity_id}"
    return f"u{identity_id:07d}"  # api: the integrating system's user id
