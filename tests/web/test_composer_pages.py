"""The composer's help on the ticket page over HTTP: suggested replies filled for the case, the
script browser, macros run from the page (with CSRF), a reply's script recorded as used, other
groups' cases a 404 everywhere, and the page's weight."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from kefu.db.models import AuditEvent, Message, Script, ScriptScenario, ScriptUse
from kefu.norms.model import REWRITE_USES, RULES, WHOLE_REPLY
from kefu.services.actors import SYSTEM
from kefu.services.scripts import library as scripts
from kefu.services.scripts import macros
from kefu.services.scripts.starter import ensure_starter_library
from kefu.web.labels import LABELS
from tests import factories
from tests.checks import api_error
from tests.web.test_ticket_view import hx, refreshed

COMPLAINT = "又是物流！订单SL20240315五天了还没到，你们的快递太差劲了，气死我了！"


@pytest.fixture
def case(db, api, held_outbox):
    """An angry logistics complaint in 物流组, its agent, and an agent of another group."""
    ensure_starter_library(db)
    db.commit()
    logistics, south = factories.make_group(db, "物流组"), factories.make_group(db, "华南组")
    customer = factories.make_customer(db, name="陈静", identities=[("webchat", "visitor-9")])
    ticket = factories.make_ticket(
        db, customer=customer, group=logistics, channel="webchat", text=COMPLAINT
    )
    triage = {"intent": "complaint", "category": "logistics", "emotion": "angry"}
    assert api.patch(f"/api/v1/tickets/{ticket.id}", json=triage).status_code == 200
    return SimpleNamespace(
        ticket=ticket,
        group=logistics,
        agent=factories.make_user(db, groups=[logistics], name="李娜"),
        stranger=factories.make_user(db, groups=[south], name="赵婷"),
    )


def test_the_suggestions_are_the_best_three_filled_for_the_case(sign_in, case, db):
    agent = sign_in(case.agent)
    answer = agent.client.get(f"/tickets/{case.ticket.id}/suggestions")
    assert answer.status_code == 200
    texts = re.findall(
        r'data-action="insert-script" data-script-id="(\d+)" data-text="([^"]*)"', answer.text
    )
    assert len(texts) == 3
    assert all(text.startswith("您好，陈先生/女士，您的心情我完全理解") for _, text in texts)
    assert "SL20240315" in texts[0][1]  # the order number the customer wrote, filled in
    assert '<mark class="placeholder">[处理时限]</mark>' in answer.text  # what is left to fill
    used = db.scalars(select(Script.status).where(Script.id.in_([int(i) for i, _ in texts])))
    assert list(used) == ["published"] * 3
    page = agent.client.get(f"/tickets/{case.ticket.id}").text
    assert f'hx-get="/tickets/{case.ticket.id}/suggestions"' in page
    rules = json.loads(re.search(r'id="composer-rules">(.*?)</script>', page).group(1))
    assert rules["blame_shifting"] == {"name": "推卸责任", "use": "replace", "mark": True}
    assert rules["missing_greeting"] == {"name": "缺少问候", "use": "insert", "mark": False}
    assert rules["unfilled_placeholder"]["use"] == "advice"
    agent.client.cookies.set("kefu_lang", "en")
    english = agent.client.get(f"/tickets/{case.ticket.id}").text
    assert '"name": "Shifting blame"' in english and 'data-blocked="{n} to fix: {rules}"' in english


def test_every_norms_rule_has_a_name_and_a_known_use():
    assert set(LABELS["norm_rule"]) == set(RULES)
    assert set(REWRITE_USES) <= set(RULES) and WHOLE_REPLY <= set(RULES)
    assert set(REWRITE_USES.values()) <= {"replace", "insert", "advice"}


def test_another_groups_agent_gets_a_404_for_the_composers_help(sign_in, case, db):
    macro = macros.do_create_macro(db, SYSTEM, name="加急", actions={"priority": "P1"})
    db.commit()
    stranger, ticket = sign_in(case.stranger), case.ticket
    htmx = {"HX-Request": "true"}
    for part in ("suggestions", "scripts"):
        api_error(
            stranger.client.get(f"/tickets/{ticket.id}/{part}", headers=htmx), 404, "not_found"
        )
    api_error(hx(stranger, f"/tickets/{ticket.id}/macros/{macro.id}"), 404, "not_found")
    db.rollback()
    assert db.scalar(select(func.count()).where(AuditEvent.action == "macro.apply")) == 0
    agent = sign_in(case.agent)
    api_error(hx(agent, f"/tickets/{ticket.id}/macros/999999"), 404, "not_found")


def test_the_script_browser_finds_published_scripts_by_type_and_words(sign_in, case, db):
    scenario = db.scalar(select(ScriptScenario).where(ScriptScenario.type == "complaint"))
    scripts.create_script(db, SYSTEM, scenario=scenario, title="草稿：还没审", body="草稿内容",
                          status="draft")  # fmt: skip
    db.commit()
    url = f"/tickets/{case.ticket.id}/scripts"
    supervisor = sign_in(factories.make_user(db, role="supervisor", groups=[case.group]))
    everything = supervisor.client.get(url)
    assert everything.status_code == 200
    for heading in ("<h3>咨询</h3>", "<h3>投诉</h3>", "<h3>建议</h3>", "<h3>表扬</h3>"):
        assert heading in everything.text
    assert "草稿：还没审" not in everything.text  # only what can be sent
    agent = sign_in(case.agent)
    delayed = agent.client.get(url, params={"q": "物流 延迟"}).text
    titles = re.findall(r"<strong>([^<]+)</strong>", delayed)
    assert titles and "物流延迟" in delayed and "<h3>表扬</h3>" not in delayed
    ids = [int(i) for i in re.findall(r'data-action="fill-script" data-script-id="(\d+)"', delayed)]
    shown = db.scalars(select(Script).where(Script.id.in_(ids))).all()
    assert all(
        "物流" in s.title + s.body + db.get(ScriptScenario, s.scenario_id).name for s in shown
    )
    praise = agent.client.get(url, params={"type": "praise"}).text
    assert "<h3>表扬</h3>" in praise and "<h3>投诉</h3>" not in praise
    assert "没有找到匹配的话术" in agent.client.get(url, params={"q": "绝对不会有这种话术"}).text
    htmx = {"HX-Request": "true"}  # as the dialog's search asks: errors as JSON
    api_error(agent.client.get(url, params={"type": "rant"}, headers=htmx), 422, "validation_error")
    api_error(
        agent.client.get(url, params={"q": "长" * 101}, headers=htmx), 422, "validation_error"
    )


def test_a_macro_runs_from_the_composer_and_its_script_comes_back_filled(sign_in, case, db):
    script_id = db.scalar(select(Script.id).where(Script.key == "kefu.retail.shipping-query.1"))
    macro = macros.do_create_macro(db, SYSTEM, name="催发货并加急", script_id=script_id,
                                   actions={"priority": "P2", "tags_add": ["催发货"]})  # fmt: skip
    db.commit()
    agent, ticket = sign_in(case.agent), case.ticket
    url = f"/tickets/{ticket.id}/macros/{macro.id}"
    no_token = agent.client.post(url, headers={"Origin": str(agent.client.base_url).rstrip("/")})
    assert no_token.status_code == 403
    foreign = agent.client.post(
        url, headers={"X-CSRF-Token": agent.csrf, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    db.rollback()
    assert db.scalar(select(func.count()).where(AuditEvent.action == "macro.apply")) == 0

    ran = hx(agent, url)
    assert ran.status_code == 200, ran.text
    assert ran.json()["script_id"] == script_id and "SL20240315" in ran.json()["text"]
    said = json.loads(ran.headers["HX-Trigger"])
    assert said == {"kefu-ticket-refresh": True, "kefu-toast": "已执行宏"}
    db.rollback()
    db.refresh(ticket)
    assert ticket.priority == "P2" and [t.name for t in ticket.tags] == ["催发货"]
    applied = db.scalar(select(AuditEvent).where(AuditEvent.action == "macro.apply"))
    assert applied.actor_id == case.agent.id and applied.ticket_id == ticket.id


def test_a_reply_written_from_a_script_records_its_use(sign_in, case, db):
    agent, ticket = sign_in(case.agent), case.ticket
    suggestions = agent.client.get(f"/tickets/{ticket.id}/suggestions").text
    script_id, text = re.search(r'data-script-id="(\d+)" data-text="([^"]*)"', suggestions).groups()
    url = f"/tickets/{ticket.id}/messages"
    as_is = refreshed(
        hx(agent, url, {"text": text.replace("[处理时限]", "明天中午"), "script_id": script_id})
    )
    edited = refreshed(
        hx(
            agent,
            url,
            {"text": "非常抱歉，已为您加急催促快递，明天中午前回复您。", "script_id": script_id},
        )
    )
    noted = refreshed(
        hx(agent, url, {"text": "内部：已催", "kind": "note", "script_id": script_id})
    )
    db.rollback()
    uses = db.scalars(select(ScriptUse).order_by(ScriptUse.id)).all()
    assert [(u.message_id, u.as_is, u.agent_id) for u in uses] == [
        (as_is["kefu-composer-sent"], True, case.agent.id),
        (edited["kefu-composer-sent"], False, case.agent.id),
    ]
    assert noted["kefu-composer-sent"] not in {u.message_id for u in uses}  # a note is no reply
    before = db.scalar(select(func.count()).select_from(Message))
    api_error(hx(agent, url, {"text": "好的，马上处理", "script_id": "999999"}), 404, "not_found")
    api_error(
        hx(agent, url, {"text": "好的，马上处理", "script_id": "abc"}), 422, "validation_error"
    )
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Message)) == before  # nothing was sent


def test_the_ticket_page_weighs_under_150_kb_of_script_and_style(sign_in, case):
    agent = sign_in(case.agent)
    page = agent.client.get(f"/tickets/{case.ticket.id}").text
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:js|css)\?v=[0-9a-f]+)"', page)
    assert any("composer.js" in a for a in assets) and any("composer.css" in a for a in assets)
    total = sum(len(agent.client.get(a).content) for a in assets)
    assert total < 150_000, total
