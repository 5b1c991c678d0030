"""The knowledge-base panel of the ticket page: prefilled from the customer's latest message,
published articles only, a reply made of the first paragraph and the portal link."""

from __future__ import annotations

import html

from tests import factories
from tests.kb_data import publish, publish_shelf


def test_the_panel_searches_the_customers_latest_message_and_offers_a_short_reply(db, sign_in):
    group = factories.make_group(db, "售后组")
    agent = sign_in(factories.make_user(db, groups=[group]))
    ticket = factories.make_ticket(db, group=group, text="请问退款多久能到账？")
    publish_shelf(db)
    publish(db, "退款多久到账", "## 时效\n\n退款**原路退回**，一般 1-3 个工作日到账。\n\n信用卡另计。",
            tags=["退款", "到账"])  # fmt: skip
    publish(db, "退款内部口径", "草稿", tags=["退款", "到账"], status="draft")
    assert (
        f'hx-get="/tickets/{ticket.id}/kb-panel"' in agent.client.get(f"/tickets/{ticket.id}").text
    )
    panel = agent.client.get(f"/tickets/{ticket.id}/kb-panel")
    assert 'value="请问退款多久能到账？"' in panel.text
    assert "退款多久到账" in panel.text and "退款内部口径" not in panel.text
    reply = html.unescape(panel.text.split('data-text="')[1].split('"')[0])
    assert reply.startswith("退款原路退回，一般 1-3 个工作日到账。\n详细说明：http://")
    assert reply.endswith("/help/a/kb-005") and "信用卡" not in reply
    found = agent.client.get(f"/tickets/{ticket.id}/kb", params={"q": "会员积分"})
    assert "会员积分规则" in found.text


def test_another_groups_ticket_has_no_panel(db, sign_in):
    north, south = factories.make_group(db, "华北组"), factories.make_group(db, "华南组")
    stranger = sign_in(factories.make_user(db, groups=[south]))
    ticket = factories.make_ticket(db, group=north, text="退款")
    assert stranger.client.get(f"/tickets/{ticket.id}/kb-panel").status_code == 404
    assert stranger.client.get(f"/tickets/{ticket.id}/kb", params={"q": "退款"}).status_code == 404
