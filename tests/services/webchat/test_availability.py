"""Whether anyone answers now: an online agent of the channel's group, within its working hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kefu.domain.chat_offers import AgentStatus
from kefu.services.actors import SYSTEM
from kefu.services.staff import agent_status
from kefu.services.webchat import availability, offers
from kefu.services.webchat.channels import ChannelInfo
from tests import factories

# Monday 7 December 2026: 10:00 and 20:00 in Beijing.
WORKING = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
EVENING = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RULES = offers.OfferRules()


@pytest.fixture
def group(db):
    return factories.make_group(db, "在线客服组")


def _channel(db, group, language="zh-CN") -> ChannelInfo:
    return ChannelInfo.of(factories.make_webchat_channel(db, group_id=group.id, language=language))


def _online(db, group):
    user = factories.make_user(db, role="agent", groups=[group])
    agent_status.do_set_status(db, SYSTEM, user, AgentStatus.ONLINE, WORKING)
    db.commit()
    return user


def test_someone_answers_in_working_hours_when_an_agent_is_online(db, group):
    channel = _channel(db, group)
    assert availability.availability(db, channel, WORKING, RULES).online is False  # nobody
    _online(db, group)
    now = availability.availability(db, channel, WORKING, RULES)
    assert now.online is True and now.expected_response == "客服马上为您服务"


def test_outside_working_hours_the_visitor_is_told_when_we_open(db, group):
    _online(db, group)
    closed = availability.availability(db, _channel(db, group), EVENING, RULES)
    assert closed.online is False
    assert "12月08日 09:00" in closed.expected_response
    english = availability.availability(db, _channel(db, group, "en"), EVENING, RULES)
    assert "2026-12-08 09:00" in english.expected_response


def test_an_agent_on_a_break_answers_nobody(db, group):
    user = _online(db, group)
    agent_status.do_set_status(db, SYSTEM, user, AgentStatus.BREAK, WORKING)
    db.commit()
    found = availability.availability(db, _channel(db, group), WORKING, RULES)
    assert found.online is False
    assert found.expected_response == "客服暂时不在线，请留言，我们会尽快回复您"
