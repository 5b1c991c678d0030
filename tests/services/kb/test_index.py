"""The live index: published articles only, never stale across processes, the search log."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from kefu.db.models import KbSearchLog
from kefu.services.actors import SYSTEM
from kefu.services.kb import articles as kb
from kefu.services.kb import index


def _publish(db, title, body, **kw):  # noqa: D103
    article = kb.do_create_article(db, SYSTEM, title=title, body=body, status="published", **kw)
    db.commit()
    return article


def test_another_process_publish_is_seen_at_the_next_search(engine):
    # Two "processes": two sessions on the same database, one cache per database.
    make = sessionmaker(engine)
    with make() as one, make() as two:
        _publish(one, "发票怎么开", "订单完成后在订单详情申请电子发票。", tags=["发票"])
        assert [a.title for a, _ in index.search(two, "怎么开发票", source="agent").hits] == [
            "发票怎么开"
        ]
        two.commit()
        _publish(
            one, "退款多久到账", "退款原路退回，一般 1-3 个工作日到账。", tags=["退款", "到账"]
        )
        found = index.search(two, "退款多久能到账", source="agent")
        assert found.answered and found.hits[0][0].title == "退款多久到账"
        two.commit()
        draft = kb.do_create_article(one, SYSTEM, title="会员积分规则", body="积分可抵现。")
        one.commit()
        assert all(a.id != draft.id for a, _ in index.search(two, "会员积分", source="agent").hits)
        two.commit()
        kb.do_set_status(one, SYSTEM, kb.access_article(one, SYSTEM, "kb-002"), "draft")
        one.commit()
        assert all(
            a.key != "kb-002" for a, _ in index.search(two, "退款多久到账", source="agent").hits
        )


def test_the_index_is_built_once_per_change_even_with_threads_searching(engine, db):
    _publish(db, "发货时间", "当天 16:00 前付款当天发货。", tags=["发货"])
    make = sessionmaker(engine)
    before = index.indexes.builds
    errors: list[BaseException] = []

    def search() -> None:
        try:
            with make() as session:
                assert index.search(session, "什么时候发货", source="agent", log=False).hits
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=search) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert index.indexes.builds - before == 1
    with make() as session:
        index.search(session, "发货", source="agent", log=False)
    assert index.indexes.builds - before == 1


def test_a_search_is_logged_with_personal_data_masked(db, shelf):
    article = _publish(db, "退款多久到账", "退款原路退回，1-3 个工作日到账。", tags=["退款"])
    index.search(db, "退款多久到账", source="portal")
    index.search(db, "火星快递能送吗？我手机 13812345678", source="bot")
    db.commit()
    rows = db.execute(select(KbSearchLog.query, KbSearchLog.source, KbSearchLog.answered,
                             KbSearchLog.top_article_id).order_by(KbSearchLog.id)).all()  # fmt: skip
    assert rows[0] == ("退款多久到账", "portal", True, article.id)
    assert rows[1] == ("火星快递能送吗？我手机 138****5678", "bot", False, None)


def test_an_empty_knowledge_base_answers_nothing(db):
    found = index.search(db, "退款", source="agent")
    assert (found.hits, found.answered) == ([], False)
