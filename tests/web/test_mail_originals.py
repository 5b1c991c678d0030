"""显示原文: the timeline shows a customer's mail without its quoted history; its original is a
link away, for staff who can see the ticket and nobody else."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.db.models import User
from kefu.services.actors import SYSTEM
from kefu.services.mail.mailboxes import do_create_mailbox
from kefu.settings import Settings
from tests import factories, mail_data
from tests.web.conftest import SignIn

QUOTED = "我想退货。\n\n在 2026年12月1日，客服 写道：\n> 您好，请问有什么可以帮您？\n"


def test_the_original_is_one_link_away_for_those_who_see_the_ticket(
    sign_in: SignIn, admin: User, db: Session, settings: Settings
) -> None:
    group = factories.make_group(db)
    box = do_create_mailbox(
        db, SYSTEM, secret_key=settings.secret_key, name="客服", address="kf@shop.test",
        group_id=group.id,
    )  # fmt: skip
    db.commit()
    raw = mail_data.plain(
        sender="a@customer.test", to="kf@shop.test", subject="退货", body=QUOTED,
        message_id=mail_data.new_id(),
    )  # fmt: skip
    row = mail_data.take(db, settings, box, raw)
    url = f"/tickets/{row.ticket_id}/messages/{row.message_id}/original"

    browser = sign_in(admin)
    view = browser.client.get(f"/tickets/{row.ticket_id}")
    assert view.status_code == 200 and f'href="{url}"' in view.text and "显示原文" in view.text
    original = browser.client.get(url)
    assert original.status_code == 200
    assert "您好，请问有什么可以帮您" in original.text  # the quote the timeline leaves out
    assert original.headers["content-type"].startswith("text/plain")
    source = browser.client.get(url + "?raw=1")
    assert source.content == raw and source.headers["content-type"] == "message/rfc822"

    outsider = sign_in(factories.make_user(db, role="agent", groups=[factories.make_group(db)]))
    assert outsider.client.get(url).status_code == 404
    assert outsider.client.get(url + "?raw=1").status_code == 404
