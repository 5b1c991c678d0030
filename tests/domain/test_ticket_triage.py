"""How messages change a ticket's triage: priority never falls, risks stay, complaints stay complaints."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.ticket_triage import TicketTriage, merge, more_urgent
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk

CRISIS = TicketTriage(
    "P1", ("media",), "complaint", "quality", "angry", "negative", "P1：危机信号：媒体曝光"
)
THANKS = TicketTriage("P4", (), "praise", "other", "satisfied", "positive", "P4：一般问题")


def test_first_message_gives_the_ticket_its_triage():
    assert merge(TicketTriage(), CRISIS) == CRISIS
    greeting = TicketTriage("P4", (), "other", "other", "neutral", "neutral", "P4：一般问题")
    assert merge(TicketTriage(), greeting).intent == "other"


def test_calm_message_after_a_crisis_lowers_nothing_but_the_mood():
    after = merge(CRISIS, THANKS)
    assert (after.priority, after.risks, after.intent, after.category) == (
        "P1",
        ("media",),
        "complaint",
        "quality",
    )
    assert (after.emotion, after.sentiment) == ("satisfied", "positive")
    assert after.priority_reason == CRISIS.priority_reason


def test_new_risk_adds_to_the_old_ones_in_spec_order():
    legal = TicketTriage(
        "P1", ("legal", "regulator"), "complaint", "service", "angry", "negative", "P1：法律"
    )
    assert merge(CRISIS, legal).risks == ("media", "regulator", "legal")


def test_an_inquiry_that_turns_into_a_complaint_becomes_one():
    ask = TicketTriage("P4", (), "inquiry", "logistics", "neutral", "neutral", "P4")
    angry = TicketTriage("P3", (), "complaint", "service", "angry", "negative", "P3：一般投诉")
    after = merge(ask, angry)
    assert (after.intent, after.category, after.priority, after.priority_reason) == (
        "complaint",
        "logistics",
        "P3",
        "P3：一般投诉",
    )


def test_a_greeting_does_not_erase_what_the_case_is_about():
    ask = TicketTriage("P4", (), "inquiry", "other", "neutral", "neutral", "P4")
    hello = TicketTriage("P4", (), "other", "other", "neutral", "neutral", "P4")
    about = TicketTriage("P4", (), "inquiry", "product_info", "neutral", "neutral", "P4")
    assert merge(merge(ask, hello), about) == TicketTriage(
        "P4", (), "inquiry", "product_info", "neutral", "neutral", "P4"
    )


def test_more_urgent():
    assert more_urgent("P1", "P4") == more_urgent("P4", "P1") == "P1"
    assert more_urgent("P3", "P3") == "P3"


_triage = st.builds(
    TicketTriage,
    priority=st.sampled_from(["P1", "P2", "P3", "P4"]),
    risks=st.lists(st.sampled_from([r.value for r in Risk]), max_size=3, unique=True).map(tuple),
    intent=st.sampled_from([i.value for i in Intent]),
    category=st.sampled_from([c.value for c in Category]),
    emotion=st.sampled_from([e.value for e in Emotion]),
    sentiment=st.sampled_from(["negative", "neutral", "positive"]),
    priority_reason=st.text(max_size=5),
)


@given(st.lists(_triage, min_size=1, max_size=12))
def test_no_sequence_of_messages_lowers_priority_or_drops_a_risk(messages):
    ticket = TicketTriage()
    for message in messages:
        after = merge(ticket, message)
        assert int(after.priority[1]) <= int(ticket.priority[1])
        assert set(ticket.risks) <= set(after.risks)
        if ticket.intent == "complaint":
            assert after.intent == "complaint"
        ticket = after
    assert ticket.priority == min((m.priority for m in messages), key=lambda p: int(p[1]))
