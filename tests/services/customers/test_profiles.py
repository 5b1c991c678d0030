"""What the customer pages read from the profiles service: pages of a search, the merge
candidates and preview, a customer's merge history and where it was merged to."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from kefu.errors import KefuError, NotFound, PermissionDenied
from kefu.services.actors import SYSTEM, Actor
from kefu.services.customers import profiles
from kefu.services.staff import auth
from tests import factories


def _actor(db: Session, user: object) -> Actor:
    db.refresh(user)
    return auth.actor_for(user, via="session")  # type: ignore[arg-type]


def _merge(db: Session, target: object, source: object) -> int:
    merge = profiles.do_merge(db, SYSTEM, target_id=target.id, source_id=source.id)  # type: ignore[attr-defined]
    db.commit()
    return merge.id


def test_a_search_is_read_in_pages_newest_first_without_gaps_or_repeats(db: Session) -> None:
    made = [factories.make_customer(db, name=f"页客户{n}") for n in range(7)]
    factories.make_customer(db, name="别的人")
    supervisor = _actor(db, factories.make_user(db, role="supervisor"))
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = profiles.customer_page(db, supervisor, q="页客户", cursor=cursor, limit=3)
        seen += [c.id for c in rows]
        pages += 1
        if cursor is None:
            break
    assert seen == sorted((c.id for c in made), reverse=True)
    assert pages == 3
    with pytest.raises(KefuError) as refused:
        profiles.customer_page(db, supervisor, q=None, cursor="not-a-cursor", limit=3)
    assert refused.value.code == "invalid_cursor"


def test_a_page_leaves_out_customers_the_reader_may_not_see(db: Session) -> None:
    mine, theirs = factories.make_group(db), factories.make_group(db)
    agent = _actor(db, factories.make_user(db, groups=[mine]))
    seen = factories.make_ticket(db, group=mine).customer_id
    hidden = factories.make_ticket(db, group=theirs).customer_id
    rows, _ = profiles.customer_page(db, agent, q=None, cursor=None, limit=50)
    ids = {c.id for c in rows}
    assert seen in ids
    assert hidden not in ids


def test_merge_candidates_are_for_mergers_and_never_the_target_or_a_merged_profile(
    db: Session,
) -> None:
    target = factories.make_customer(db, name="张三")
    twin = factories.make_customer(db, name="张三")
    gone = factories.make_customer(db, name="张三丰")
    _merge(db, twin, gone)
    supervisor = _actor(db, factories.make_user(db, role="supervisor"))
    found = profiles.merge_candidates(db, supervisor, target, q="张三", limit=10)
    assert [c.id for c in found] == [twin.id]
    assert profiles.merge_candidates(db, supervisor, target, q="  ", limit=10) == []
    agent = _actor(db, factories.make_user(db))
    with pytest.raises(PermissionDenied):
        profiles.merge_candidates(db, agent, target, q="张三", limit=10)


def test_the_preview_lists_what_would_move_and_is_refused_like_the_merge(db: Session) -> None:
    target = factories.make_customer(db, name="目标")
    source = factories.make_customer(
        db, name="重复", identities=[("wechat", "wx-dup"), ("phone", "13800000001")]
    )
    older = factories.make_ticket(db, customer=source)
    newer = factories.make_ticket(db, customer=source)
    factories.make_ticket(db, customer=target)
    supervisor = _actor(db, factories.make_user(db, role="supervisor"))
    preview = profiles.merge_preview(db, supervisor, target_id=target.id, source_id=source.id)
    assert preview.target.id == target.id
    assert [(i.channel, i.external_id) for i in preview.identities] == [
        ("wechat", "wx-dup"),
        ("phone", "13800000001"),
    ]
    assert [t.id for t in preview.tickets] == [newer.id, older.id]

    with pytest.raises(KefuError) as same:
        profiles.merge_preview(db, supervisor, target_id=target.id, source_id=target.id)
    assert (same.value.code, same.value.status_code) == ("merge_same_customer", 422)
    with pytest.raises(NotFound):
        profiles.merge_preview(db, supervisor, target_id=target.id, source_id=10**9)
    with pytest.raises(PermissionDenied):
        agent = _actor(db, factories.make_user(db))
        profiles.merge_preview(db, agent, target_id=target.id, source_id=source.id)
    _merge(db, target, source)
    with pytest.raises(KefuError) as merged:
        profiles.merge_preview(db, supervisor, target_id=target.id, source_id=source.id)
    assert (merged.value.code, merged.value.status_code) == ("merge_already_merged", 409)


def test_the_history_shows_merges_both_ways_and_names_only_visible_customers(
    db: Session,
) -> None:
    mine, theirs = factories.make_group(db), factories.make_group(db)
    supervisor = factories.make_user(db, role="supervisor", name="陈主管")
    target = factories.make_ticket(db, group=mine).customer
    source = factories.make_ticket(db, group=theirs).customer
    other = factories.make_customer(db, name="又一个")
    merge_id = profiles.do_merge(
        db, _actor(db, supervisor), target_id=target.id, source_id=source.id
    ).id
    db.commit()
    profiles.do_undo_merge(db, _actor(db, supervisor), merge_id)
    db.commit()
    later = _merge(db, other, target)  # the target itself merged away afterwards

    history = profiles.merge_history(db, _actor(db, supervisor), db.get(type(target), target.id))
    assert [(r.merge.id, r.merged_in) for r in history] == [(later, False), (merge_id, True)]
    out, into = history
    assert (out.other_id, out.other_name, out.merged_by) == (other.id, "又一个", None)
    assert (into.other_id, into.merged_by, into.undone_by) == (source.id, "陈主管", "陈主管")
    assert into.other_name == source.name

    # An agent of the target's group sees the target (through its tickets, now on "other"),
    # but not the source, whose tickets went back to a group she is not in.
    agent = _actor(db, factories.make_user(db, groups=[mine]))
    seen = profiles.merge_history(db, agent, db.get(type(target), target.id))
    assert [r.other_name for r in seen] == [other.name, None]


def test_merged_into_names_the_target_only_to_those_who_may_see_it(db: Session) -> None:
    mine, theirs = factories.make_group(db), factories.make_group(db)
    target = factories.make_ticket(db, group=theirs).customer
    source = factories.make_customer(db)
    _merge(db, target, source)
    source = db.get(type(source), source.id)
    supervisor = _actor(db, factories.make_user(db, role="supervisor"))
    agent = _actor(db, factories.make_user(db, groups=[mine]))
    assert profiles.merged_into(db, supervisor, source).id == target.id  # type: ignore[union-attr]
    assert profiles.merged_into(db, agent, source) is None
    assert profiles.merged_into(db, supervisor, target) is None
