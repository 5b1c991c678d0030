"""The demo's written content: catalogue, people and conversation scenarios, read from JSON.

The text lives in ``data/*.json`` so that it can be read and edited without touching code;
this module turns it into typed, validated objects. Labels are checked against the triage
vocabulary (docs/triage.md) when loading, so a typo in a template fails loudly at once
instead of producing a ticket with a category nothing else understands.

Writing scenarios: a scenario is one kind of case with fixed labels, and its turns are the
conversation. The variants of a scenario's turns are aligned: one ticket takes variant
``k % n`` of every turn that has ``n`` variants, so variant k of a reply should answer
variant k of the message before it (or fit every variant). A first reply gets a greeting
(开场问候) added unless it starts with 您好. ``flags`` record what the priority rule of
docs/triage.md needs besides the labels: money lost, a repeat contact, a deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

from kefu.domain.tickets import Channel, Priority, TicketStatus
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk, Sentiment

TURN_KINDS = frozenset({"customer", "agent", "note"})
FLAGS = frozenset({"lost_money", "repeat", "deadline"})
SCRIPTS = frozenset({"hans", "hant"})
ASSIGNEE_ROLES = frozenset({"agent", "specialist", "supervisor"})
# Every slot a template may use; ``plan.ticket_slots`` fills exactly these.
SLOTS = frozenset({
    "hi", "call", "agent", "product", "price", "diff", "order", "days", "courier", "city",
    "hub", "masked_phone", "phone_tail", "coupon", "color", "size", "height", "weight",
    "weekday",
})  # fmt: skip


@dataclass(frozen=True)
class Labels:
    """What triage reads out of the case; the ticket gets exactly these."""

    category: str
    intent: str
    emotion: str
    sentiment: str
    risks: tuple[str, ...]
    priority: str


@dataclass(frozen=True)
class Turn:
    """One message of a scenario (customer, agent reply or internal note) or a status change."""

    kind: str  # customer | agent | note | status
    variants: tuple[str, ...] = ()
    status: str | None = None
    by_supervisor: bool = False


@dataclass(frozen=True)
class Scenario:
    id: str
    group: str | None  # None: the shared intake queue
    weight: float  # relative frequency among the demo tickets
    labels: Labels
    flags: frozenset[str]
    product_kinds: tuple[str, ...]
    product_names: tuple[str, ...]
    channels: tuple[str, ...] | None  # None: any channel the customer uses
    script: str  # hans (简体) | hant (繁體)
    tags: tuple[str, ...]
    statuses: tuple[str, ...] | None  # final statuses that make sense; None: any
    assignee_role: str | None
    subjects: tuple[str, ...]
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Product:
    name: str
    kind: str
    price: int


@dataclass(frozen=True)
class Catalog:
    products: tuple[Product, ...]
    couriers: tuple[str, ...]
    cities: tuple[str, ...]
    hubs: tuple[str, ...]
    coupons: tuple[str, ...]
    colors: tuple[str, ...]
    sizes: tuple[str, ...]
    weekdays: tuple[str, ...]
    customer_openers: tuple[str, ...]
    agent_greetings: tuple[str, ...]  # first reply: greeting and self-introduction
    agent_short_greetings: tuple[str, ...]  # first reply that introduces the agent itself

    def products_of(self, kinds: tuple[str, ...]) -> list[Product]:
        return [p for p in self.products if not kinds or p.kind in kinds]

    def product_named(self, name: str) -> Product:
        for product in self.products:
            if product.name == name:
                return product
        raise ValueError(f"unknown product {name!r}")


@dataclass(frozen=True)
class People:
    surnames: tuple[str, ...]
    given_female: tuple[str, ...]
    given_male: tuple[str, ...]
    visitor_nicknames: tuple[str, ...]
    profiles: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Content:
    catalog: Catalog
    people: People
    scenarios: tuple[Scenario, ...]


def _read(name: str) -> Any:
    return json.loads((resources.files("kefu.demo") / "data" / name).read_text(encoding="utf-8"))


def _scenario_files() -> list[str]:
    folder = resources.files("kefu.demo") / "data"
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith("scenarios_") and p.name.endswith(".json")
    )


@cache
def load_content() -> Content:
    """Everything the demo writes, parsed and validated once per process."""
    catalog = _parse_catalog(_read("catalog.json"))
    people = _parse_people(_read("people.json"))
    scenarios = tuple(
        _parse_scenario(raw, catalog)
        for name in _scenario_files()
        for raw in _read(name)["scenarios"]
    )
    ids = [s.id for s in scenarios]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate scenario ids in demo data")
    return Content(catalog=catalog, people=people, scenarios=scenarios)


def _parse_catalog(raw: dict[str, Any]) -> Catalog:
    products = tuple(
        Product(name=item["name"], kind=kind, price=int(item["price"]))
        for kind, items in raw["products"].items()
        for item in items
    )
    lists = {key: tuple(raw[key]) for key in Catalog.__dataclass_fields__ if key != "products"}
    for greeting in lists["agent_greetings"]:
        _check_slots(greeting, "agent_greetings")
    return Catalog(products=products, **lists)


def _parse_people(raw: dict[str, Any]) -> People:
    return People(
        surnames=tuple(raw["surnames"]),
        given_female=tuple(raw["given_female"]),
        given_male=tuple(raw["given_male"]),
        visitor_nicknames=tuple(raw["visitor_nicknames"]),
        profiles=tuple(raw["profiles"]),
    )


def _parse_labels(raw: dict[str, Any], where: str) -> Labels:
    labels = Labels(
        category=Category(raw["category"]).value,
        intent=Intent(raw["intent"]).value,
        emotion=Emotion(raw["emotion"]).value,
        sentiment=Sentiment(raw["sentiment"]).value,
        risks=tuple(Risk(r).value for r in raw["risks"]),
        priority=Priority(raw["priority"]).value,
    )
    if bool(labels.risks) != (labels.priority == Priority.P1):
        raise ValueError(f"{where}: P1 if and only if there is a risk (docs/triage.md)")
    return labels


def _parse_turn(raw: dict[str, Any], where: str) -> Turn:
    if "status" in raw:
        return Turn(kind="status", status=TicketStatus(raw["status"]).value)
    kind = raw["from"]
    if kind not in TURN_KINDS or not raw["text"]:
        raise ValueError(f"{where}: a turn needs from (customer/agent/note) and text")
    for text in raw["text"]:
        _check_slots(text, where)
    return Turn(kind=kind, variants=tuple(raw["text"]), by_supervisor=raw.get("by") == "supervisor")


def _parse_scenario(raw: dict[str, Any], catalog: Catalog) -> Scenario:
    where = f"scenario {raw['id']}"
    turns = tuple(_parse_turn(t, where) for t in raw["turns"])
    if not turns or turns[0].kind != "customer":
        raise ValueError(f"{where}: a conversation starts with the customer")
    for name in raw.get("product_names", []):
        catalog.product_named(name)
    for text in raw.get("subject", []):
        _check_slots(text, where)
    scenario = Scenario(
        id=raw["id"],
        group=raw.get("group"),
        weight=float(raw.get("weight", 1)),
        labels=_parse_labels(raw["labels"], where),
        flags=frozenset(raw.get("flags", [])),
        product_kinds=tuple(raw.get("products", [])),
        product_names=tuple(raw.get("product_names", [])),
        channels=tuple(Channel(c).value for c in raw["channels"]) if "channels" in raw else None,
        script=raw.get("script", "hans"),
        tags=tuple(raw.get("tags", [])),
        statuses=tuple(TicketStatus(s).value for s in raw["statuses"])
        if "statuses" in raw
        else None,
        assignee_role=raw.get("assignee_role"),
        subjects=tuple(raw.get("subject", [])),
        turns=turns,
    )
    _check_scenario(scenario, catalog, where)
    return scenario


def _check_scenario(scenario: Scenario, catalog: Catalog, where: str) -> None:
    if not scenario.flags <= FLAGS or scenario.script not in SCRIPTS:
        raise ValueError(f"{where}: unknown flag or script")
    if scenario.assignee_role is not None and scenario.assignee_role not in ASSIGNEE_ROLES:
        raise ValueError(f"{where}: unknown assignee_role")
    if not set(scenario.product_kinds) <= {p.kind for p in catalog.products}:
        raise ValueError(f"{where}: unknown product kind")


def _check_slots(template: str, where: str) -> None:
    used = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    unknown = used - SLOTS
    if unknown:
        raise ValueError(f"{where}: unknown slots {sorted(unknown)} in {template!r}")


def render(template: str, slots: dict[str, str]) -> str:
    """Fill a template's ``{slot}`` fields (all of them are known: checked when loading)."""
    return template.format_map(slots)
