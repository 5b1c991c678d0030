"""The priority rule of docs/triage.md, row by row."""

from __future__ import annotations

import pytest

from kefu.domain.priority import Cues, grade, is_lower
from kefu.domain.tickets import Priority
from kefu.domain.triage_labels import Category as C
from kefu.domain.triage_labels import Emotion as E
from kefu.domain.triage_labels import Intent as I
from kefu.domain.triage_labels import Risk as R

MONEY = Cues(money_lost=True)
REPEAT = Cues(repeat_contact=True)
DEADLINE = Cues(deadline=True)

ROWS = [
    # P1: any risk, whatever the rest says
    (I.INQUIRY, C.OTHER, E.NEUTRAL, [R.MEDIA], Cues(), "P1", "p1_risk"),
    (I.PRAISE, C.SERVICE, E.SATISFIED, [R.PRIVACY], Cues(), "P1", "p1_risk"),
    (I.COMPLAINT, C.QUALITY, E.ANGRY, [R.SAFETY, R.LEGAL], MONEY, "P1", "p1_risk"),
    # P2: quality complaint
    (I.COMPLAINT, C.QUALITY, E.NEUTRAL, [], Cues(), "P2", "p2_quality_complaint"),
    # P2: money already lost, in return/refund or price/billing only
    (I.COMPLAINT, C.RETURN_REFUND, E.ANXIOUS, [], MONEY, "P2", "p2_money_lost"),
    (I.COMPLAINT, C.PRICE_BILLING, E.DISAPPOINTED, [], MONEY, "P2", "p2_money_lost"),
    (I.COMPLAINT, C.LOGISTICS, E.ANXIOUS, [], MONEY, "P3", "p3_complaint"),
    (I.COMPLAINT, C.RETURN_REFUND, E.ANGRY, [], Cues(), "P3", "p3_complaint"),
    (I.INQUIRY, C.RETURN_REFUND, E.ANXIOUS, [], MONEY, "P4", "p4_routine"),
    # P2: angry and not the first contact
    (I.COMPLAINT, C.SERVICE, E.ANGRY, [], REPEAT, "P2", "p2_angry_repeat"),
    (I.COMPLAINT, C.SERVICE, E.DISAPPOINTED, [], REPEAT, "P3", "p3_complaint"),
    (I.COMPLAINT, C.LOGISTICS, E.ANGRY, [], Cues(), "P3", "p3_complaint"),
    # P3: other complaints; anxious inquiry with a deadline
    (I.COMPLAINT, C.ACCOUNT_PRIVACY, E.NEUTRAL, [], Cues(), "P3", "p3_complaint"),
    (I.INQUIRY, C.LOGISTICS, E.ANXIOUS, [], DEADLINE, "P3", "p3_urgent_inquiry"),
    (I.INQUIRY, C.LOGISTICS, E.NEUTRAL, [], DEADLINE, "P4", "p4_routine"),
    (I.INQUIRY, C.LOGISTICS, E.ANXIOUS, [], Cues(), "P4", "p4_routine"),
    (I.SUGGESTION, C.PRODUCT_INFO, E.ANXIOUS, [], DEADLINE, "P4", "p4_routine"),
    # P4: everything else
    (I.PRAISE, C.SERVICE, E.SATISFIED, [], Cues(), "P4", "p4_routine"),
    (I.OTHER, C.OTHER, E.NEUTRAL, [], Cues(True, True, True), "P4", "p4_routine"),
]


@pytest.mark.parametrize(
    ("intent", "category", "emotion", "risks", "cues", "priority", "rule"), ROWS
)
def test_rule_table(intent, category, emotion, risks, cues, priority, rule):
    decided = grade(intent=intent, category=category, emotion=emotion, risks=risks, cues=cues)
    assert (decided.priority, decided.rule) == (Priority(priority), rule)
    assert decided.reason


def test_p1_reason_names_every_risk_in_a_stable_order():
    decided = grade(
        intent=I.COMPLAINT, category=C.QUALITY, emotion=E.ANGRY, risks=[R.LEGAL, R.MEDIA, R.MEDIA]
    )
    assert decided.reason == "危机信号：媒体曝光、法律行动"


def test_is_lower():
    assert is_lower(Priority.P3, Priority.P1) and not is_lower(Priority.P1, Priority.P3)
    assert not is_lower(Priority.P2, Priority.P2)
