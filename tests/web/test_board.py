"""The supervisor board over HTTP: its figures for an arranged team, who may open it, reassigning
a case and setting an agent's status from it (and the services' refusals), hostile names."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AgentStatusPeriod, Customer, Ticket, User
from kefu.services.actors import SYSTEM
from kefu.services.cases import links
from kefu.services.staff import directory as staff
from tests import factories
from tests.board_data import HOSTILE, Board, arrange, fresh
from tests.web.conftest import Browser, SignIn

HTMX = {"HX-Request": "true"}


@pytest.fixture
def arranged(db, engine) -> Board:
    return arrange(db, engine)


@pytest.fixture
def supervisor(sign_in: SignIn, arranged: Board) -> Browser:
    return sign_in(arranged.supervisor)


def _figures(html: str, group: str) -> dict[str, int]:
    """The figures of one group's card (``shared``: the queue without a group)."""
    card = re.search(rf'<article data-group="{group}".*?</article>', html, re.S)
    assert card, f"no card for {group}"
    return {k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(\d+)<', card.group(0))}


def _agent_row(html: str, user_id: int) -> str:
    row = re.search(rf'<tr [^>]*data-agent="{user_id}">.*?</tr>', html, re.S)
    assert row, f"no row for agent {user_id}"
    return row.group(0)


def _post(browser: Browser, path: str, data: dict[str, str], *, htmx: bool = True):
    """A board form as the page sends it: by htmx (or as a plain form), same origin, the token."""
    headers = {"Origin": _origin(browser), **(HTMX if htmx else {})}
    return browser.client.post(path, data={"csrf_token": browser.csrf, **data}, headers=headers)


def _origin(browser: Browser) -> str:
    return str(browser.client.base_url).rstrip("/")


def _assign(browser: Browser, ticket_id: int, assignee: str, *, htmx: bool = True):
    return _post(
        browser, f"/board/tickets/{ticket_id}/assign", {"assignee_id": assignee}, htmx=htmx
    )


def _told(answer) -> str:
    assert answer.status_code == 204, answer.text[:500]
    return json.loads(answer.headers["HX-Trigger"])["kefu-board-changed"]["message"]


def test_the_board_shows_the_figures_of_every_group(supervisor: Browser, arranged: Board) -> None:
    b = arranged
    page = supervisor.client.get("/board")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert _figures(html, str(b.after_sales.id)) == {
        "open": 5, "unassigned": 3, "waiting_chats": 1, "at_risk": 1, "breached": 1, "crises": 1,
    }  # fmt: skip
    assert _figures(html, str(b.complaints.id))["open"] == 1
    assert _figures(html, "shared") == {
        "open": 1, "unassigned": 1, "waiting_chats": 0, "at_risk": 0, "breached": 0, "crises": 0,
    }  # fmt: skip
    assert "在线 1 / 2" in html
    totals = html[html.index('class="board-totals"') : html.index('class="queue-cards"')]
    assert re.findall(r'data-figure="(\w+)">(\d+)<', totals) == [
        ("online", "1"), ("open", "7"), ("unassigned", "4"), ("waiting_chats", "1"),
        ("at_risk", "1"), ("breached", "1"), ("crises", "1"),
    ]  # fmt: skip
    row = _agent_row(html, b.agent.id)
    assert "2 / 10" in row and "1 / 3" in row  # two open cases of ten, one chat of three
    assert 'value="online" selected' in row
    crises = html[html.index('id="board-crises"') : html.index('id="board-sla"')]
    assert f'data-ticket="{b.crisis.id}"' in crises and "媒体曝光威胁" in crises
    sla = html[html.index('id="board-sla"') : html.index('id="board-approvals"')]
    breached, at_risk = sla.split('id="at-risk-title"')
    assert (
        f'data-ticket="{b.breached.id}"' in breached and f'data-ticket="{b.at_risk.id}"' in at_risk
    )
    assert re.search(r'<time class="clock" data-due="[^"]+Z"', at_risk)
    assert 'hx-get="/approvals"' in html


def test_a_group_narrows_the_agents_and_the_lists(supervisor: Browser, arranged: Board) -> None:
    b = arranged
    agents = supervisor.client.get(f"/board/agents?group={b.complaints.id}")
    assert agents.status_code == 200 and agents.text.lstrip().startswith(
        '<section id="board-agents"'
    )
    assert f'data-agent="{b.specialist.id}"' in agents.text
    assert f'data-agent="{b.agent.id}"' not in agents.text
    lists = supervisor.client.get(f"/board/crises?group={b.complaints.id}")
    assert "没有未结的危机工单" in lists.text
    assert supervisor.client.get("/board?group=999999").status_code == 404
    assert supervisor.client.get("/board/nothing").status_code == 404


def test_only_supervisors_and_admins_open_the_board(
    sign_in: SignIn, db: Session, arranged: Board
) -> None:
    agent = sign_in(arranged.agent)
    refused = agent.client.get("/board")
    assert refused.status_code == 403 and "<html" in refused.text  # a page, not JSON
    assert agent.client.get("/board/sla").status_code == 403
    assert _assign(agent, arranged.chat.id, "").status_code == 403
    status = _post(agent, f"/board/agents/{arranged.hostile.id}/status", {"status": "offline"})
    assert status.status_code == 403
    admin = sign_in(factories.make_user(db, role="admin"))
    assert admin.client.get("/board").status_code == 200


def test_the_reassign_menu_offers_the_groups_handlers(supervisor: Browser, arranged: Board) -> None:
    b = arranged
    menu = supervisor.client.get(f"/board/tickets/{b.crisis.id}/assign")
    assert menu.status_code == 200 and menu.text.startswith('<form class="reassign"')
    offered = re.findall(r'<option value="(\d*)"( selected)?>', menu.text)
    assert offered == [("", ""), (str(b.agent.id), " selected"), (str(b.hostile.id), "")]
    assert "张伟 · 在线 · 2/10" in menu.text  # status and load now
    shared = supervisor.client.get(f"/board/tickets/{b.unrouted.id}/assign").text
    assert f'value="{b.specialist.id}"' in shared  # no group yet: any handler
    assert supervisor.client.get("/board/tickets/999999/assign").status_code == 404


def test_a_case_is_reassigned_from_the_board(
    supervisor: Browser, db: Session, arranged: Board
) -> None:
    b = arranged
    told = _told(_assign(supervisor, b.at_risk.id, str(b.agent.id)))
    assert told == f"工单 #{b.at_risk.id} 已分配给 张伟"
    fresh(db)
    assert db.get(Ticket, b.at_risk.id).assignee_id == b.agent.id
    told = _told(_assign(supervisor, b.at_risk.id, ""))
    assert told == f"工单 #{b.at_risk.id} 已退回队列"
    fresh(db)
    assert db.get(Ticket, b.at_risk.id).assignee_id is None
    plain = _assign(supervisor, b.at_risk.id, str(b.hostile.id), htmx=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/board"
    fresh(db)
    assert db.get(Ticket, b.at_risk.id).assignee_id == b.hostile.id


def test_reassigning_is_refused_where_the_services_refuse(
    supervisor: Browser, db: Session, arranged: Board
) -> None:
    b = arranged
    staff.do_update_user(db, SYSTEM, db.get(User, b.hostile.id), {"is_active": False})
    customer = db.get(Customer, b.at_risk.customer_id)
    duplicate = factories.make_ticket(db, customer=customer, group=b.after_sales)
    links.do_merge(db, SYSTEM, duplicate.id, b.at_risk.id)
    db.commit()
    gone = _assign(supervisor, b.crisis.id, str(b.hostile.id))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    merged = _assign(supervisor, duplicate.id, str(b.agent.id))
    assert merged.status_code == 409 and merged.json()["error"]["code"] == "ticket_merged"
    for bad in ("abc", "0", "²", str(2**70)):
        assert _assign(supervisor, b.crisis.id, bad).status_code == 422, bad
    assert _assign(supervisor, 999999, "").status_code == 404
    fresh(db)
    assert db.get(Ticket, b.crisis.id).assignee_id == b.agent.id


def test_an_agents_status_is_set_from_the_board(
    supervisor: Browser, db: Session, arranged: Board
) -> None:
    b = arranged
    path = f"/board/agents/{b.agent.id}/status"
    assert _told(_post(supervisor, path, {"status": "break"})) == "张伟 的状态已设为小休"
    fresh(db)
    agent = db.get(User, b.agent.id)
    assert (agent.status, agent.online) == ("break", False)  # a break takes no new cases
    periods = db.scalars(
        select(AgentStatusPeriod.status).where(AgentStatusPeriod.user_id == agent.id)
    ).all()
    assert periods == ["online", "break"]
    row = _agent_row(supervisor.client.get("/board/agents").text, b.agent.id)
    assert 'value="break" selected' in row
    assert _post(supervisor, path, {"status": "asleep"}).status_code == 422
    assert _post(supervisor, "/board/agents/999999/status", {"status": "online"}).status_code == 404


def test_forms_need_the_token_and_kefus_own_origin(supervisor: Browser, arranged: Board) -> None:
    path = f"/board/agents/{arranged.agent.id}/status"
    client = supervisor.client
    no_token = client.post(path, data={"status": "busy"}, headers={"Origin": _origin(supervisor)})
    assert no_token.status_code == 403
    foreign = client.post(
        path,
        data={"status": "busy", "csrf_token": supervisor.csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


def test_hostile_names_are_shown_as_text(supervisor: Browser, arranged: Board) -> None:
    b = arranged
    html = supervisor.client.get("/board").text
    assert HOSTILE not in html and "<script>alert(2)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and "&lt;img src=x onerror=" in html
    menu = supervisor.client.get(f"/board/tickets/{b.chat.id}/assign").text
    assert HOSTILE not in menu and "&lt;img src=x onerror=" in menu
    told = _told(_assign(supervisor, b.chat.id, str(b.hostile.id)))
    assert told.endswith(HOSTILE)  # data for the toast, which shows it as text
