"""The demo's knowledge base: 60 published articles, each with a first version by the admin."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.models import KbArticle, KbArticleVersion
from kefu.demo.loader import load_demo_kb
from kefu.demo.team import ADMIN_EMAIL
from kefu.services.kb import index
from kefu.services.staff.auth import actor_for


def test_the_demo_loads_its_articles_published_and_searchable(db, demo_team):
    admin = demo_team[ADMIN_EMAIL]
    load_demo_kb(db, actor_for(admin, via="session"))
    db.commit()
    articles = list(db.scalars(select(KbArticle)))
    assert len(articles) == 60 and {a.status for a in articles} == {"published"}
    authors = set(db.scalars(select(KbArticleVersion.author_id)))
    assert authors == {admin.id}
    found = index.search(db, "发货后几天能到", source="agent")
    assert found.answered and found.hits[0][0].key == "kb-001"
