"""Articles: versions on each save, publishing, restore, permissions, and the index state."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, KbArticleVersion
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM
from kefu.services.kb import articles as kb
from kefu.services.staff.auth import actor_for
from tests import factories


def _article(db, **overrides):
    fields = {"title": "退款多久到账", "body": "原路退回，1-3 个工作日到账。", "category": "return_refund",
              "tags": ["退款", " 到账 ", "退款"], "status": "published"} | overrides  # fmt: skip
    article = kb.do_create_article(db, SYSTEM, **fields)
    db.commit()
    return article


def test_a_new_article_gets_the_next_key_a_first_version_and_clean_tags(db):
    first = _article(db)
    second = _article(db, title="第二篇")
    assert (first.key, second.key) == ("kb-001", "kb-002")
    assert first.tags == ["退款", "到账"]
    assert [v.number for v in kb.versions(db, first)] == [1]
    assert first.published_at is not None


def test_each_changing_save_is_a_version_with_author_and_note_and_an_unchanged_one_is_not(db):
    editor = actor_for(factories.make_user(db, role="supervisor"), via="session")
    article = _article(db)
    kb.do_update_article(
        db, editor, article, {"body": "原路退回，3 个工作日内到账。"}, note="改时效"
    )
    kb.do_update_article(db, editor, article, {"body": "原路退回，3 个工作日内到账。"})
    db.commit()
    versions = kb.versions(db, article)
    assert [(v.number, v.author_id, v.note) for v in versions] == [
        (2, editor.user_id, "改时效"), (1, None, "")]  # fmt: skip
    assert versions[1].content["body"] == "原路退回，1-3 个工作日到账。"
    actions = db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "kb_article")
        .order_by(AuditEvent.id)
    )
    assert list(actions) == ["kb_article.create", "kb_article.update"]


def test_restoring_an_old_version_saves_it_as_the_newest(db):
    article = _article(db)
    kb.do_update_article(db, SYSTEM, article, {"title": "新标题", "tags": ["新"]})
    kb.do_restore_version(db, SYSTEM, article, 1)
    db.commit()
    assert (article.title, article.tags, article.current_version) == (
        "退款多久到账",
        ["退款", "到账"],
        3,
    )
    assert kb.versions(db, article)[0].note == "restored v1"
    with pytest.raises(KefuError) as missing:
        kb.do_restore_version(db, SYSTEM, article, 9)
    assert missing.value.status_code == 404


def test_agents_read_only_published_articles_and_may_not_edit(db):
    agent = actor_for(factories.make_user(db, role="agent"), via="session")
    draft = _article(db, status="draft")
    published = _article(db, title="已发布")
    assert kb.access_article(db, agent, published.key).id == published.id
    with pytest.raises(KefuError) as hidden:
        kb.access_article(db, agent, draft.key)
    assert hidden.value.status_code == 404
    assert [a.key for a in kb.list_articles(db, agent)] == [published.key]
    with pytest.raises(KefuError) as refused:
        kb.do_update_article(db, agent, published, {"title": "改"})
    assert refused.value.status_code == 403
    with pytest.raises(KefuError):
        kb.do_set_status(db, agent, published, "archived")


def test_the_index_version_moves_only_when_published_content_changes(db):
    draft = _article(db, status="draft")
    start = kb.index_state(db).version
    kb.do_update_article(db, SYSTEM, draft, {"body": "草稿改了"})
    assert kb.index_state(db).version == start  # a draft's edit changes nothing published
    kb.do_set_status(db, SYSTEM, draft, "published")
    published = kb.index_state(db)
    assert published.version == start + 1
    kb.do_update_article(db, SYSTEM, draft, {"body": "已发布的改了"})
    kb.do_set_status(db, SYSTEM, draft, "archived")
    after = kb.index_state(db)
    assert after.version == start + 3 and after.stamp != published.stamp


def test_list_filters_by_status_category_and_text(db):
    _article(db)
    _article(db, title="发票怎么开", category="price_billing", status="draft")
    _article(db, title="无类别", category=None)
    keys = lambda **f: [a.key for a in kb.list_articles(db, SYSTEM, kb.ArticleFilter(**f))]  # noqa: E731
    assert keys(status="draft") == ["kb-002"]
    assert keys(category="return_refund") == ["kb-001"]
    assert keys(category="none") == ["kb-003"]
    assert keys(query="发票") == ["kb-002"]
    assert keys(query="%") == []


def test_an_unknown_category_or_a_taken_key_is_refused(db):
    _article(db, key="faq-1")
    with pytest.raises(KefuError) as category:
        _article(db, category="weather")
    assert category.value.details == {"field": "category"}
    with pytest.raises(KefuError) as taken:
        _article(db, key="faq-1")
    assert taken.value.code == "key_taken"
    db.rollback()
    assert db.scalar(select(KbArticleVersion.id).where(KbArticleVersion.number > 1)) is None
