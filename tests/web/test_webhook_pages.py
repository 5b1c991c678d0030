"""The admin pages of webhook sources and subscriptions, and a phone case's speaking rate on the
ticket page: secrets shown once, refusals beside their field, recent deliveries, the badge."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kefu.db.models import User, WebhookSource, WebhookSubscription
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.infra.sealed_columns import opened
from kefu.settings import Settings
from tests import factories
from tests.web.conftest import SignIn

# The pages queue webhook deliveries: the live relays are paused and what the test left queued is
# put out of their way, so they never write while the next test's first writes run on SQLite.
pytestmark = pytest.mark.usefixtures("held_outbox")

SECRET = re.compile(r'value="(whsec_[^"]+)"')


def test_a_source_is_made_its_secret_shown_once_and_rotated(
    sign_in: SignIn, admin: User, db, settings: Settings
) -> None:
    browser = sign_in(admin)
    made = browser.form("/admin/webhook-sources", {
        "name": "呼叫中心", "key": "call-center", "kinds": ["call.transcript", "sms.received"],
        "tolerance_seconds": "120", "group_id": ""})  # fmt: skip
    assert made.status_code == 201, made.text
    secret = SECRET.search(made.text).group(1)
    assert "/api/v1/channels/webhook/call-center" in made.text
    source = db.scalar(select(WebhookSource))
    assert opened(settings.secret_key, source, WebhookSource.secret_sealed) == secret
    assert (source.kinds, source.tolerance_seconds) == (["call.transcript", "sms.received"], 120)
    shown = browser.client.get(f"/admin/webhook-sources/{source.id}")
    assert secret not in shown.text and "whsec_" not in shown.text and "已设置" in shown.text
    rotated = browser.form(f"/admin/webhook-sources/{source.id}/secret")
    assert SECRET.search(rotated.text).group(1) != secret
    listed = browser.client.get("/admin/webhook-sources")
    assert "call-center" in listed.text and "whsec_" not in listed.text
    bad = browser.form(
        "/admin/webhook-sources", {"name": "x", "kinds": [], "tolerance_seconds": "9000"}
    )
    assert bad.status_code == 422 and 'id="error-kinds"' in bad.text


def test_a_subscription_refuses_internal_addresses_and_lists_its_deliveries(
    sign_in: SignIn, admin: User, db
) -> None:
    """(The live server's relay is paused: the deliveries stay queued, as listed.)"""
    browser = sign_in(admin)
    refused = browser.form("/admin/webhook-subscriptions", {
        "url": "http://169.254.169.254/latest", "events": ["ticket.created"]})  # fmt: skip
    assert refused.status_code == 422 and 'id="error-url"' in refused.text
    made = browser.form("/admin/webhook-subscriptions", {
        "url": "http://127.0.0.1:9/hook", "events": ["ticket.created", "message.created"],
        "description": "同步到 CRM"})  # fmt: skip
    assert made.status_code == 201 and SECRET.search(made.text)
    subscription = db.scalar(select(WebhookSubscription))
    factories.make_ticket(db, text="发票抬头错了")
    page = browser.client.get(f"/admin/webhook-subscriptions/{subscription.id}")
    assert page.text.count(f"whk-{subscription.id}-") == 2  # ticket.created and message.created
    assert "whsec_" not in page.text
    off = browser.form(f"/admin/webhook-subscriptions/{subscription.id}", {
        "url": "http://127.0.0.1:9/hook", "events": ["ticket.created"], "description": ""})  # fmt: skip
    assert off.status_code == 303
    db.refresh(subscription)
    assert not subscription.enabled and subscription.events == ["ticket.created"]
    gone = browser.form(f"/admin/webhook-subscriptions/{subscription.id}/delete")
    assert gone.status_code == 303
    db.rollback()
    assert db.scalar(select(WebhookSubscription)) is None


def test_a_call_turn_shows_its_speaking_rate_and_the_case_its_summary(
    sign_in: SignIn, admin: User, db
) -> None:
    ticket = factories.make_ticket(db, channel="phone", text="我想问下退款多久到账")
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    reply = tickets.do_add_message(
        db, SYSTEM, locked, text="您好" * 20, internal=False, channel="phone", send=False
    )
    reply.call_turn = {
        "start_s": 0,
        "end_s": 10,
        "units": 40,
        "rate": 240,
        "limit": 200,
        "fast": True,
    }
    db.commit()
    browser = sign_in(admin)
    page = browser.client.get(f"/tickets/{ticket.id}")
    assert "语速 240 字/分" in page.text and "偏快" in page.text
    assert "通话语速" in page.text and "1 / 1 段" in page.text
    english = browser.client.get(f"/language?to=en&back=/tickets/{ticket.id}")
    assert english.status_code in (200, 303)
    page = browser.client.get(f"/tickets/{ticket.id}")
    assert "Pace 240 chars/min" in page.text
