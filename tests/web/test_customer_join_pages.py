"""One customer across channels in the workspace: suggestions on the profile and beside the
ticket, confirmed or dismissed by an agent who sees both, and a contact proven with a code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Customer, CustomerJoin, OutboxEntry
from kefu.services.customers import joins
from tests import factories
from tests.web.conftest import SignIn


def _suggested_pair(db: Session):
    group = factories.make_group(db)
    agent = factories.make_user(db, role="agent", groups=[group])
    older = factories.make_customer(db, name="周婷", email="zhou.ting@example.com")
    newer = factories.make_customer(
        db, name="周婷 邮件", identities=[("email", "Zhou.Ting@example.com")]
    )
    ticket = factories.make_ticket(db, customer=newer, group=group)
    factories.make_ticket(db, customer=older, group=group)
    joins.sweep(db, utcnow())
    db.commit()
    return agent, older, newer, ticket


def test_a_suggestion_shows_beside_the_ticket_and_on_the_profile_and_is_confirmed(
    sign_in: SignIn, db: Session
) -> None:
    agent, older, newer, ticket = _suggested_pair(db)
    browser = sign_in(agent)
    panel = browser.client.get(f"/customers/{newer.id}/panel?ticket={ticket.id}")
    assert "可能与 1 位客户是同一人" in panel.text
    profile = browser.client.get(f"/customers/{newer.id}")
    assert "可能是同一客户" in profile.text and "邮件发件人（未验证）" in profile.text
    assert f'href="/customers/{older.id}"' in profile.text
    [row] = db.scalars(select(CustomerJoin))
    done = browser.form(f"/customers/joins/{row.id}/confirm", {"back": str(newer.id)})
    assert (
        done.status_code == 303 and done.headers["location"] == f"/customers/{older.id}?done=joined"
    )
    db.rollback()
    assert db.get(Customer, newer.id).merged_into_id == older.id


def test_a_dismissed_suggestion_leaves_the_page(sign_in: SignIn, db: Session) -> None:
    agent, older, newer, _ = _suggested_pair(db)
    browser = sign_in(agent)
    [row] = db.scalars(select(CustomerJoin))
    done = browser.form(f"/customers/joins/{row.id}/dismiss", {"back": str(older.id)})
    assert done.status_code == 303
    assert "可能是同一客户" not in browser.client.get(f"/customers/{older.id}").text
    outsider = sign_in(factories.make_user(db, role="agent"))
    assert outsider.form(f"/customers/joins/{row.id}/confirm", {"back": "1"}).status_code == 404


def test_a_code_is_mailed_or_handed_out_for_the_phone(sign_in: SignIn, db: Session) -> None:
    customer = factories.make_customer(db, name="吴磊")
    browser = sign_in(factories.make_user(db, role="supervisor"))
    mailed = browser.form(
        f"/customers/{customer.id}/verify", {"kind": "email", "value": "wu.lei@example.com"}
    )
    assert mailed.status_code == 200 and "验证码已发送到 wu.lei@example.com" in mailed.text
    db.rollback()
    [notice] = db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice"))
    assert notice.target["subject"][-6:] not in mailed.text  # the agent never sees a mailed code
    phone = browser.form(
        f"/customers/{customer.id}/verify", {"kind": "phone", "value": "13700005555"}
    )
    assert phone.status_code == 200 and "请客户用手机 13700005555 发送短信" in phone.text
    bad = browser.form(f"/customers/{customer.id}/verify", {"kind": "email", "value": "nope"})
    assert bad.status_code == 422 and "邮箱地址格式不正确" in bad.text
