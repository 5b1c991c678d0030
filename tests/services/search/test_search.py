"""Search over a real database (services/search/): ranking, visibility, an index that follows
every write (edits, intake, ticket and customer merges), bad input."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.db.models import Message, SearchDocument
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM
from kefu.services.cases import links
from kefu.services.cases import tickets as ticket_service
from kefu.services.customers import profiles
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.search import index
from kefu.services.search.service import check_query, search
from kefu.services.staff.auth import actor_for
from tests import factories


def _found(db, query, actor=SYSTEM, kinds=("ticket",)):
    return [(h.kind, h.id) for h in search(db, actor, query, kinds=kinds, limit=50).hits]


def _inbound(db, sender, external_id, text, **message):
    result = receive_inbound(
        db, SYSTEM,
        InboundMessage(channel="web", external_id=external_id, sender=Sender(sender, **message), text=text),
        raw="{}", attachments_root=Path(tempfile.gettempdir()), max_attachment_bytes=1000,
    )  # fmt: skip
    db.commit()
    return result


def test_a_word_finds_the_tickets_holding_a_longer_word(db):
    mine = factories.make_ticket(db, text="快递员把包裹放在门口就走了", subject="包裹丢了")
    factories.make_ticket(db, text="我想换一个颜色", subject="换货")
    assert _found(db, "快递") == [("ticket", mine.id)]
    assert _found(db, "快遞員") == [("ticket", mine.id)]  # traditional finds simplified


def test_a_simplified_query_finds_traditional_text(db):
    mine = factories.make_ticket(db, text="快遞員說已經簽收了，但我沒收到", subject="未收到")
    assert _found(db, "快递员 签收") == [("ticket", mine.id)]


def test_a_ticket_matching_in_subject_and_messages_ranks_above_a_passing_mention(db):
    once = factories.make_ticket(db, text="顺便问一下，退款多久到账？其他都挺好", subject="咨询")
    strong = factories.make_ticket(db, text="申请退款，商品有质量问题", subject="退款申请")
    factories.make_reply(db, strong, "您好，退款已提交，预计三天到账")
    hits = search(db, SYSTEM, "退款", kinds=["ticket"], limit=10).hits
    assert [h.id for h in hits] == [strong.id, once.id]
    assert hits[0].matched_messages == 2 and len(hits[0].messages) == 2
    title = hits[0].title
    assert [title.text[s:e] for s, e in title.spans] == ["退款"]


def test_message_hits_carry_their_ticket_and_a_marked_snippet(db):
    ticket = factories.make_ticket(db, text="你好", subject="问候")
    reply = factories.make_reply(db, ticket, "订单SO20240101-001已经发出，请留意短信")
    [hit] = search(db, SYSTEM, "so20240101-001", kinds=["message"], limit=10).hits
    assert (hit.kind, hit.id, hit.ticket_id) == ("message", reply.id, ticket.id)
    assert [hit.snippet.text[s:e] for s, e in hit.snippet.spans] == ["SO20240101-001"]


def test_an_order_or_phone_number_is_found_exactly_and_a_part_of_it_finds_nothing(db):
    factories.make_customer(db, name="李先生", phone="13812345678")
    for n in range(5):
        factories.make_ticket(db, text=f"我的电话1381234{n:04d}，订单SO2024010{n}-001")
    named = factories.make_ticket(db, text="电话 138-1234-5678 打不通")
    assert _found(db, "13812345678") == [("ticket", named.id)]
    assert _found(db, "SO20240103-001") != [] and len(_found(db, "SO20240103-001")) == 1
    assert _found(db, "1381234") == []  # a partial phone number floods nothing
    assert _found(db, "0001") == []
    assert _found(db, "5678") == [("ticket", named.id)]  # a group written apart is a word


def test_the_customer_an_exact_number_names_comes_before_the_tickets(db):
    owner = factories.make_customer(db, name="李先生", phone="13812345678")
    ticket = factories.make_ticket(db, text="帮我查一下13812345678这个号码的订单")
    hits = search(db, SYSTEM, "13812345678", kinds=["ticket", "customer"], limit=10).hits
    assert [(h.kind, h.id) for h in hits] == [("customer", owner.id), ("ticket", ticket.id)]


def test_an_agent_finds_nothing_of_a_ticket_of_another_group(db):
    ours, theirs = factories.make_group(db), factories.make_group(db)
    agent = actor_for(factories.make_user(db, groups=[ours]), via="token")
    visible = factories.make_ticket(db, group=ours, text="发票抬头写错了")
    hidden_customer = factories.make_customer(db, name="发票王")
    hidden = factories.make_ticket(db, group=theirs, customer=hidden_customer, text="发票没收到")
    factories.make_reply(db, hidden, "发票已重新开具")
    assert _found(db, "发票", agent, ["ticket"]) == [("ticket", visible.id)]
    assert _found(db, "发票", agent, ["message"]) == [("message", visible.messages[0].id)]
    assert _found(db, "发票王", agent, ["customer"]) == []
    assert sorted(_found(db, "发票", SYSTEM, ["ticket"])) == sorted(
        [("ticket", visible.id), ("ticket", hidden.id)]
    )


def test_a_moved_ticket_takes_its_messages_out_of_sight(db):
    ours, theirs = factories.make_group(db), factories.make_group(db)
    agent = actor_for(factories.make_user(db, groups=[ours]), via="token")
    ticket = factories.make_ticket(db, group=ours, text="空调不制冷")
    assert _found(db, "制冷", agent) == [("ticket", ticket.id)]
    locked = ticket_service.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    ticket_service.do_update_ticket(db, SYSTEM, locked, {"group_id": theirs.id})
    db.commit()
    assert _found(db, "制冷", agent) == []


def test_the_index_follows_edits_of_subject_and_tags(db):
    ticket = factories.make_ticket(db, text="你好", subject="旧标题")
    locked = ticket_service.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    ticket_service.do_update_ticket(
        db, SYSTEM, locked, {"subject": "新标题：屏幕碎裂", "tags": ["加急"]}
    )
    db.commit()
    assert _found(db, "屏幕") == [("ticket", ticket.id)]
    assert _found(db, "加急") == [("ticket", ticket.id)]
    assert _found(db, "旧标题") == []


def test_the_index_follows_intake_new_tickets_messages_and_customers(db):
    first = _inbound(db, "wx-1", "m-1", "洗衣机漏水了", name="赵女士", phone="13900001111")
    second = _inbound(db, "wx-1", "m-2", "地板都泡坏了")
    assert first.ticket_id == second.ticket_id
    assert _found(db, "漏水") == [("ticket", first.ticket_id)]
    assert _found(db, "地板", kinds=["message"]) == [("message", second.message_id)]
    assert _found(db, "赵女士", kinds=["customer"]) == [("customer", first.customer_id)]
    assert _found(db, "13900001111", kinds=["customer"]) == [("customer", first.customer_id)]
    assert _found(db, "wx-1", kinds=["customer"]) == [("customer", first.customer_id)]


def test_merged_tickets_bring_their_messages_to_the_kept_case(db):
    group, other = factories.make_group(db), factories.make_group(db)
    agent = actor_for(factories.make_user(db, groups=[group]), via="token")
    customer = factories.make_customer(db)
    kept = factories.make_ticket(db, customer=customer, group=group, text="耳机没声音")
    duplicate = factories.make_ticket(db, customer=customer, group=other, text="耳机左边坏了")
    assert _found(db, "左边", agent) == []
    links.do_merge(db, SYSTEM, duplicate.id, kept.id)
    db.commit()
    found = _found(db, "左边", agent)
    assert found == [("ticket", kept.id)]


def test_customer_edits_and_merges_move_what_finds_them(db):
    target = factories.make_customer(db, name="王小明")
    source = factories.make_customer(db, name="小明", identities=[("wechat", "wxid_abc123")])
    profiles.do_update_customer(db, SYSTEM, target, {"email": "Ming.Wang@Example.com"})
    db.commit()
    assert _found(db, "ming.wang@example.com", kinds=["customer"]) == [("customer", target.id)]
    assert _found(db, "wxid_abc123", kinds=["customer"]) == [("customer", source.id)]
    merge = profiles.do_merge(db, SYSTEM, target_id=target.id, source_id=source.id)
    db.commit()
    assert _found(db, "wxid_abc123", kinds=["customer"]) == [("customer", target.id)]
    profiles.do_undo_merge(db, SYSTEM, merge.id)
    db.commit()
    assert _found(db, "wxid_abc123", kinds=["customer"]) == [("customer", source.id)]


def test_the_tickets_text_filter_reads_the_index(db):
    mine = factories.make_ticket(db, text="快递员态度恶劣", subject="投诉")
    factories.make_ticket(db, text="其他问题", subject="咨询")
    for text, expected in (
        ("快递", [mine.id]),
        ("快遞員", [mine.id]),
        ("！！", []),
        ("投诉", [mine.id]),
    ):
        rows, _ = ticket_service.list_tickets(
            db, SYSTEM, ticket_service.TicketFilters(text=text), cursor=None, limit=10
        )
        assert [t.id for t in rows] == expected, text


@pytest.mark.parametrize("query", ["", "   ", "退" * 201])
def test_an_empty_or_too_long_query_is_refused(db, query):
    with pytest.raises(KefuError) as caught:
        search(db, SYSTEM, query)
    assert caught.value.status_code == 422


def test_a_query_of_punctuation_finds_nothing(db):
    factories.make_ticket(db, text="！！！？？？")
    assert search(db, SYSTEM, "！？。…").hits == []


def test_pages_follow_the_cursor_without_repeats(db):
    made = {factories.make_ticket(db, text=f"第{n}个关于保修的问题").id for n in range(7)}
    seen, cursor = [], None
    while True:
        page = search(db, SYSTEM, "保修", kinds=["ticket"], limit=3, cursor=cursor)
        seen += [h.id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_a_rebuild_indexes_every_row_again_and_drops_stale_documents(db, engine):
    ticket = factories.make_ticket(db, text="蓝牙连不上", subject="蓝牙")
    factories.make_customer(db, name="陈女士")
    db.execute(SearchDocument.__table__.delete())
    db.execute(
        SearchDocument.__table__.insert().values(
            kind="message", object_id=999_999, ticket_id=ticket.id, terms=""
        )
    )
    db.commit()
    assert _found(db, "蓝牙") == []
    db.rollback()  # end the read snapshot: the rebuild commits on a connection of its own
    with engine.connect() as conn:
        counts = index.rebuild(conn, batch=1, commit=True)
    assert counts == {"ticket": 1, "message": 1, "customer": 2}  # the ticket's and 陈女士
    assert _found(db, "蓝牙") == [("ticket", ticket.id)]
    kinds = sorted(db.scalars(select(SearchDocument.kind)))
    assert kinds == ["customer", "customer", "message", "ticket"]  # the stale one is gone


def test_the_window_is_found_among_the_newest_then_further_back_then_anywhere(db, monkeypatch):
    """queries.ranked reads a small range of the newest documents first, a range as wide as the
    matches it saw there suggest next, and the whole index for a word too rare for a range."""
    from kefu.services.search import queries

    monkeypatch.setattr(queries, "WINDOW", 4)
    monkeypatch.setattr(queries, "PROBE", 6)
    monkeypatch.setattr(queries, "FARTHEST", 20)
    ticket = factories.make_ticket(db, text="很久以前的留言：发票抬头写错了", subject="发票")
    old = ticket.messages[0].id
    for n in range(40):  # the newest 40 messages: every other one asks about the parcel
        factories.make_reply(db, ticket, "包裹到了吗" if n % 2 else f"第{n}条备注")
    plan = check_query("包裹")
    common = queries.ranked(db, SYSTEM, plan, "message", limit=10)
    newest = sorted(db.scalars(select(Message.id).where(Message.body_text == "包裹到了吗")))[-4:]
    assert sorted(mid for mid, _, _ in common) == newest  # the window: the newest four matches
    rare = queries.ranked(db, SYSTEM, check_query("发票抬头"), "message", limit=10)
    assert [mid for mid, _, _ in rare] == [old]  # beyond the farthest range: asked of the index
