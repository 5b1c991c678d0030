"""Opening a ticket's page marks its customer messages read for the inbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.services.cases import reads
from tests import factories
from tests.web.conftest import SignIn


def test_the_open_page_marks_the_ticket_seen_for_its_reader_only(
    sign_in: SignIn, db: Session
) -> None:
    group = factories.make_group(db)
    agent, colleague = (factories.make_user(db, groups=[group]) for _ in range(2))
    ticket = factories.make_ticket(db, group=group)
    assert reads.unread_among(db, agent.id, [ticket.id]) == {ticket.id}
    browser = sign_in(agent)
    page = browser.client.get(f"/tickets/{ticket.id}")
    assert f'hx-post="/tickets/{ticket.id}/seen"' in page.text
    seen = browser.client.post(
        f"/tickets/{ticket.id}/seen",
        headers={"X-CSRF-Token": browser.csrf, "HX-Request": "true"},
    )
    assert seen.status_code == 204
    db.rollback()  # a new snapshot: the page's transaction committed after ours began
    assert reads.unread_among(db, agent.id, [ticket.id]) == set()
    assert reads.unread_among(db, colleague.id, [ticket.id]) == {ticket.id}


def test_another_groups_ticket_cannot_be_marked(sign_in: SignIn, db: Session) -> None:
    agent = factories.make_user(db, groups=[factories.make_group(db)])
    hidden = factories.make_ticket(db, group=factories.make_group(db))
    browser = sign_in(agent)
    answer = browser.client.post(
        f"/tickets/{hidden.id}/seen",
        headers={"X-CSRF-Token": browser.csrf, "HX-Request": "true"},
    )
    assert answer.status_code == 404
