"""The answering bot on real rows: a held case stays out of the queues and the SLA sweep, every
hand-off trigger puts it into routing with the bot's exchange on its timeline, 解决了 is
self-service, out of hours it collects a contact and opens the case for the morning."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import BotArticleOffer, BotConversation, Message, OutboxEntry, Ticket
from kefu.services.actors import SYSTEM
from kefu.services.bot import measures
from kefu.services.bot.knowledge import DEMO_KB, ArticleAnswer, FolderKnowledge
from kefu.services.bot.service import bot_takes_now, do_bot_turn, sweep_idle
from kefu.services.cases import inbox, timeline
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.sla import clocks
from kefu.services.staff.auth import actor_for
from kefu.services.webchat import channels
from kefu.services.webchat.messages import WEBCHAT
from tests import factories
from tests.factories import _writes

# 2026-12-07 is a Monday: 10:00 Beijing is working time, 22:00 is not.
WORKING = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
_ids = count(1)

SHIPPING = ArticleAnswer(
    "kb-001",
    "发货时间与配送时效",
    "现货商品当天16:00前付款的订单当天发货。\n\n大促期间发货可能顺延。",
    "/help/a/kb-001",
    0.9,
)
REFUND = ArticleAnswer(
    "kb-002", "退款到账时间", "退款原路返回，一般1-3个工作日到账。", "/help/a/kb-002", 0.7
)


class Source:
    """A knowledge source that answers from a fixed list: the best article when the question
    names one of its words, nothing otherwise."""

    def search(self, session: Session, question: str) -> tuple[list[ArticleAnswer], bool]:
        if "发货" in question or "没解决" in question:
            return [SHIPPING, REFUND], True
        return [], False


@_writes
def _write(db: Session, channel, visitor: str, text: str, now: datetime) -> tuple[int, int]:
    """A visitor's message through intake, as the web chat sends it; (ticket id, message id)."""
    result = receive_inbound(
        db, WEBCHAT,
        InboundMessage(
            channel="webchat", external_id=f"wc:{visitor}:{next(_ids)}",
            sender=Sender(visitor, "访客"), text=text, webchat_channel_id=channel.id,
            group_id=channel.group_id,
            bot_holds=bot_takes_now(channel.bot_mode, channel.group.calendar if channel.group else None, now),
        ),
        raw="{}", attachments_root=Path(tempfile.gettempdir()), max_attachment_bytes=1000,
        received_at=now,
    )  # fmt: skip
    db.commit()
    return result.ticket_id, result.message_id


@_writes
def _turn(db: Session, ticket_id: int, message_id: int, now: datetime):
    done = do_bot_turn(db, ticket_id, message_id, now=now, source=Source())
    db.commit()
    return done


@_writes
def _sweep(db: Session, now: datetime) -> None:
    clocks.sweep_once(db, now)
    db.commit()


@_writes
def _idle(db: Session, now: datetime) -> dict[str, int]:
    counts = sweep_idle(db, now)
    db.commit()
    return counts


@_writes
def _raise_priority(db: Session, ticket_id: int, priority: str) -> None:
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None
    ticket.priority, ticket.risks = priority, []  # raised as a repeat complaint would be
    db.commit()


@_writes
def _switch_off(db: Session, channel) -> None:
    channels.do_update_channel(db, SYSTEM, channel, {"bot_mode": "off"})
    db.commit()


def _say(db, channel, visitor, text, now=WORKING):
    ticket_id, message_id = _write(db, channel, visitor, text, now)
    return ticket_id, _turn(db, ticket_id, message_id, now)


def _authors(db: Session, ticket_id: int) -> list[tuple[str, str]]:
    rows = db.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id))
    return [(m.author_type, m.body_text) for m in rows]


@pytest.fixture
def group(db):
    return factories.make_group(db, "机器人测试组", calendar={"always_open": True})


@pytest.fixture
def channel(db, group, demo_kb):
    return factories.make_webchat_channel(db, group_id=group.id, bot_mode="first")


def _held(db, ticket_id) -> Ticket:
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket


def _in_inbox(db, group, ticket_id) -> bool:
    agent = factories.make_user(db, role="agent", groups=[group])
    actor = actor_for(agent, via="session")
    found = db.scalars(
        select(Ticket.id).where(inbox.view_condition(actor, inbox.View.GROUPS, WORKING))
    )
    return ticket_id in set(found)


def _handed_off(db, group, ticket_id, reason):
    ticket = _held(db, ticket_id)
    conversation = db.get(BotConversation, ticket_id)
    assert conversation is not None and conversation.handoff_reason == reason
    assert not ticket.bot_holds and ticket.sla_check_at is not None
    assert _in_inbox(db, group, ticket_id)
    # the transcript on the ticket's timeline, as the agent reads it
    entries = timeline.of_ticket(db, ticket)
    kinds = [e["actor_type"] for e in entries if e["kind"] == "message"]
    assert "customer" in kinds and "bot" in kinds
    return ticket


def test_an_answer_is_the_articles_text_with_its_link_and_the_quick_replies(db, channel, group):
    ticket_id, turn = _say(db, channel, "v-answer", "请问什么时候发货？")
    assert turn is not None and turn.handoff is None
    bot_message = db.get(Message, turn.message_id)
    assert bot_message.author_type == "bot" and bot_message.direction == "outbound"
    assert "现货商品当天16:00前付款的订单当天发货。" in bot_message.body_text
    assert "/help/a/kb-001" in bot_message.body_text
    assert bot_message.bot_payload["quick_replies"] == ["解决了", "没解决", "转人工"]
    assert bot_message.bot_payload["article"]["url"] == "/help/a/kb-001"
    # queued for the visitor through the outbox, like an agent's reply
    assert db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == turn.message_id))
    ticket = _held(db, ticket_id)
    assert ticket.bot_holds and ticket.sla_check_at is None
    assert not _in_inbox(db, group, ticket_id)


def test_the_bot_holds_a_case_out_of_the_sla_sweep(db, channel, group):
    ticket_id, _ = _say(db, channel, "v-sweep", "请问什么时候发货？")
    _, message_id = _write(db, channel, "v-sweep", "还有一个问题", WORKING)  # intake sets check
    _sweep(db, WORKING + timedelta(minutes=5))
    ticket = _held(db, ticket_id)
    assert ticket.first_response_due_at is None and ticket.bot_holds


def test_solved_is_self_service_with_no_agent(db, channel):
    ticket_id, _ = _say(db, channel, "v-solved", "请问什么时候发货？")
    _, turn = _say(db, channel, "v-solved", "解决了")
    assert turn.solved
    ticket = _held(db, ticket_id)
    assert ticket.status == "resolved" and ticket.assignee_id is None and not ticket.bot_holds
    conversation = db.get(BotConversation, ticket_id)
    assert conversation.solved_by_bot and conversation.handoff_reason is None
    offer = db.scalar(select(BotArticleOffer).where(BotArticleOffer.ticket_id == ticket_id))
    assert offer.outcome == "solved"
    figures = measures.bot_measures(db, WORKING - timedelta(hours=1), WORKING + timedelta(hours=1))
    assert figures["solved_by_bot"] >= 1
    assert figures["articles"]["kb-001"]["solved"] >= 1


def test_asking_for_a_person_hands_off_with_the_transcript(db, channel, group):
    ticket_id, _ = _say(db, channel, "v-asks", "请问什么时候发货？")
    _, turn = _say(db, channel, "v-asks", "轉人工")
    assert turn.handoff == "customer_asked"
    _handed_off(db, group, ticket_id, "customer_asked")


def test_low_confidence_twice_hands_off(db, channel, group):
    ticket_id, first = _say(db, channel, "v-low", "我的积分怎么兑换优惠券")
    assert first.handoff is None
    _, second = _say(db, channel, "v-low", "会员等级怎么升级")
    assert second.handoff == "low_confidence"
    _handed_off(db, group, ticket_id, "low_confidence")


def test_unsolved_offers_the_next_article_then_a_miss_hands_off(db, channel, group):
    ticket_id, _ = _say(db, channel, "v-unsolved", "请问什么时候发货？")
    _, turn = _say(db, channel, "v-unsolved", "没解决")
    assert turn.handoff is None
    assert "/help/a/kb-002" in db.get(Message, turn.message_id).body_text
    _, turn = _say(db, channel, "v-unsolved", "会员等级怎么升级")
    assert turn.handoff == "low_confidence"
    _handed_off(db, group, ticket_id, "low_confidence")
    offers = db.scalars(
        select(BotArticleOffer)
        .where(BotArticleOffer.ticket_id == ticket_id)
        .order_by(BotArticleOffer.id)
    )
    assert [o.outcome for o in offers] == ["unsolved", None]


def test_an_angry_customer_is_handed_off(db, channel, group):
    ticket_id, turn = _say(db, channel, "v-angry", "等了一个星期还没到，气死我了！！！😡")
    assert turn.handoff == "angry"
    _handed_off(db, group, ticket_id, "angry")


@pytest.mark.parametrize(
    "text",
    ["你们再不处理我就去消费者协会和12315投诉", "我要找媒体曝光你们，发到微博上",
     "充电宝用着突然冒烟起火了，把手烫伤了"],
)  # fmt: skip
def test_a_crisis_risk_is_handed_off_at_once(db, channel, group, text):
    ticket_id, turn = _say(db, channel, f"v-risk-{hash(text)}", text)
    assert turn.handoff == "risk"
    _handed_off(db, group, ticket_id, "risk")


@pytest.mark.parametrize("priority", ["P1", "P2"])
def test_an_urgent_case_is_handed_off(db, channel, group, priority):
    ticket_id, message_id = _write(db, channel, f"v-{priority}", "请问什么时候发货？", WORKING)
    _raise_priority(db, ticket_id, priority)
    turn = _turn(db, ticket_id, message_id, WORKING)
    assert turn.handoff == "priority"
    _handed_off(db, group, ticket_id, "priority")


def test_a_redelivered_message_is_answered_once(db, channel):
    ticket_id, message_id = _write(db, channel, "v-twice", "请问什么时候发货？", WORKING)
    assert _turn(db, ticket_id, message_id, WORKING) is not None
    assert _turn(db, ticket_id, message_id, WORKING) is None
    bots = [a for a, _ in _authors(db, ticket_id) if a == "bot"]
    assert len(bots) == 1


def test_a_channel_with_the_bot_off_never_holds(db, group):
    off = factories.make_webchat_channel(db, group_id=group.id, bot_mode="off")
    ticket_id, turn = _say(db, off, "v-off", "请问什么时候发货？")
    assert turn is None
    ticket = _held(db, ticket_id)
    assert not ticket.bot_holds and ticket.sla_check_at is not None
    assert _in_inbox(db, group, ticket_id)


def test_outside_hours_mode_answers_only_outside_working_hours(db):
    office = factories.make_group(db, "白班组")  # the default calendar: weekdays 09:00-18:00
    night = factories.make_webchat_channel(db, group_id=office.id, bot_mode="outside_hours")
    day_ticket, day_turn = _say(db, night, "v-day", "请问什么时候发货？", WORKING)
    assert day_turn is None and not _held(db, day_ticket).bot_holds
    night_ticket, night_turn = _say(db, night, "v-night", "请问什么时候发货？", NIGHT)
    assert night_turn is not None and _held(db, night_ticket).bot_holds


def test_out_of_hours_collects_a_contact_and_opens_the_case_for_the_morning(db):
    office = factories.make_group(db, "售后白班")
    night = factories.make_webchat_channel(db, group_id=office.id, bot_mode="first")
    ticket_id, turn = _say(db, night, "v-contact", "我要找人工客服", NIGHT)
    assert turn.handoff is None
    asked = db.get(Message, turn.message_id)
    assert asked.bot_payload["form"] == "contact"
    _, turn = _say(db, night, "v-contact", "电话是 12345", NIGHT)  # not a phone number
    assert (
        turn.handoff is None and db.get(Message, turn.message_id).bot_payload["form"] == "contact"
    )
    _, turn = _say(db, night, "v-contact", "13800138000", NIGHT)
    assert turn.handoff is None  # the problem first: none was asked yet
    _, turn = _say(db, night, "v-contact", "上周买的耳机左边没声音，想换货", NIGHT)
    assert turn.handoff == "out_of_hours_contact"
    conversation = db.get(BotConversation, ticket_id)
    assert conversation.state["contact"] == "13800138000"
    held = _held(db, ticket_id)
    assert held.customer.phone == "13800138000"  # the call-back number, on the customer
    assert "离线留言" in [t.name for t in held.tags]
    lines = [e["summary"] for e in timeline.of_ticket(db, held) if e["kind"] == "event"]
    assert "智能助手转人工（非工作时间留下联系方式）" in lines
    _sweep(db, NIGHT + timedelta(minutes=1))
    ticket = _held(db, ticket_id)
    # due by the SLA calendar: counted from 09:00 on Tuesday morning, not from the night
    morning = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    assert ticket.first_response_due_at is not None and ticket.first_response_due_at > morning
    assert ticket.first_response_due_at < morning + timedelta(hours=4)


def test_the_folder_source_finds_the_demo_article_for_a_shipping_question(db):
    answers, answered = FolderKnowledge(DEMO_KB).search(db, "现货什么时候发货，几天能到")
    assert answered and answers[0].key == "kb-001" and answers[0].url == "/help/a/kb-001"


def test_a_conversation_the_customer_left_ends_resolved_and_not_as_self_service(db, channel):
    ticket_id, _ = _say(db, channel, "v-left", "请问什么时候发货？")
    assert _idle(db, WORKING + timedelta(minutes=30)) == {"handed_off": 0, "closed": 0}
    assert _idle(db, WORKING + timedelta(hours=2)) == {"handed_off": 0, "closed": 1}
    ticket = _held(db, ticket_id)
    assert ticket.status == "resolved" and not ticket.bot_holds
    assert not db.get(BotConversation, ticket_id).solved_by_bot
    assert _idle(db, WORKING + timedelta(hours=3)) == {"handed_off": 0, "closed": 0}
    assert _turn(db, ticket_id, 10**9, WORKING) is None  # the bot says no more on it


def test_a_customer_who_wanted_a_person_and_left_goes_to_the_agents(db):
    office = factories.make_group(db, "夜间无人组")
    night = factories.make_webchat_channel(db, group_id=office.id, bot_mode="first")
    ticket_id, turn = _say(db, night, "v-left-asking", "转人工", NIGHT)
    assert turn.handoff is None  # asked for a contact
    assert _idle(db, NIGHT + timedelta(hours=2)) == {"handed_off": 1, "closed": 0}
    ticket = _held(db, ticket_id)
    assert not ticket.bot_holds and ticket.status == "new" and ticket.sla_check_at is not None
    assert db.get(BotConversation, ticket_id).handoff_reason == "customer_asked"


def test_switching_the_bot_off_hands_its_chats_to_the_agents(db, channel, group):
    ticket_id, _ = _say(db, channel, "v-switched", "请问什么时候发货？")
    assert not _in_inbox(db, group, ticket_id)
    _switch_off(db, channel)
    ticket = _held(db, ticket_id)
    assert not ticket.bot_holds and _in_inbox(db, group, ticket_id)
    assert db.get(BotConversation, ticket_id).handoff_reason == "bot_off"


def test_the_bots_time_does_not_count_on_the_agents_clocks(db, channel):
    ticket_id, _ = _say(db, channel, "v-clock", "请问什么时候发货？", WORKING)
    handoff_at = WORKING + timedelta(minutes=10)
    _, turn = _say(db, channel, "v-clock", "转人工", handoff_at)
    assert turn.handoff == "customer_asked"
    _sweep(db, handoff_at)
    ticket = _held(db, ticket_id)
    # a web chat's first answer is due 30 s after the hand-off, not 30 s after the first question
    assert ticket.first_response_due_at == handoff_at + timedelta(seconds=30)
    assert ticket.sla_pauses == [[WORKING.isoformat(), handoff_at.isoformat()]]
