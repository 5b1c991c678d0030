"""The bell: my notices, the live count, marking read; and whether a chat is offered to me."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Notification
from tests import factories
from tests.web.conftest import SignIn


def _notice(db: Session, user_id: int, body: str, ticket_id: int | None = None) -> Notification:
    row = Notification(user_id=user_id, kind="sla.warn", body=body, ticket_id=ticket_id)
    db.add(row)
    db.commit()
    return row


def test_the_bell_counts_my_unread_notices_only(sign_in: SignIn, db: Session) -> None:
    me, other = factories.make_user(db), factories.make_user(db)
    ticket = factories.make_ticket(db)
    first = _notice(db, me.id, "工单 #1 首次响应即将超时", ticket.id)
    _notice(db, me.id, "<b>第二条</b>")
    _notice(db, other.id, "别人的通知")
    browser = sign_in(me)
    assert browser.client.get("/notifications/count").text == "2"
    page = browser.client.get("/notifications")
    assert "工单 #1 首次响应即将超时" in page.text
    assert "&lt;b&gt;第二条&lt;/b&gt;" in page.text
    assert "别人的通知" not in page.text
    opened = browser.form(f"/notifications/{first.id}/read")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/tickets/{ticket.id}"
    assert browser.client.get("/notifications/count").text == "1"
    assert browser.form("/notifications/read-all").status_code == 303
    assert browser.client.get("/notifications/count").text == ""


def test_someone_elses_notice_cannot_be_marked(sign_in: SignIn, db: Session) -> None:
    me, other = factories.make_user(db), factories.make_user(db)
    theirs = _notice(db, other.id, "别人的通知")
    answer = sign_in(me).form(f"/notifications/{theirs.id}/read")
    assert answer.status_code == 404
    db.refresh(theirs)
    assert theirs.read_at is None


def test_a_chat_offer_is_mine_only_while_it_is_offered_to_me(sign_in: SignIn, db: Session) -> None:
    group = factories.make_group(db)
    agent, colleague = (factories.make_user(db, groups=[group]) for _ in range(2))
    ticket = factories.make_ticket(db, group=group, subject="在线咨询")
    ticket.chat_offer_user_id = agent.id
    ticket.chat_offer_expires_at = utcnow() + timedelta(seconds=30)
    db.commit()
    assert sign_in(agent).client.get(f"/notifications/chat-offer/{ticket.id}").json() == {
        "mine": True,
        "subject": "在线咨询",
    }
    assert sign_in(colleague).client.get(f"/notifications/chat-offer/{ticket.id}").json() == {
        "mine": False,
        "subject": "",
    }
    ticket.chat_offer_expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert not sign_in(agent).client.get(f"/notifications/chat-offer/{ticket.id}").json()["mine"]
    outsider = factories.make_user(db, groups=[factories.make_group(db)])
    assert sign_in(outsider).client.get(f"/notifications/chat-offer/{ticket.id}").status_code == 404
