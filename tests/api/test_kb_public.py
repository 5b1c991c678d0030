"""/api/v1/public/kb: search and feedback for anyone — published articles only, rate-limited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import KbFeedback
from kefu.services.kb.feedback import KbLimits
from tests.checks import api_error
from tests.kb_data import publish, publish_shelf


@pytest.fixture
def articles(db):
    shelf = publish_shelf(db)
    refund = publish(db, "退款多久到账", "退款原路退回，1-3 个工作日到账。", tags=["退款", "到账"])
    draft = publish(db, "内部草稿退款口径", "退款口径尚未定稿。", tags=["退款"], status="draft")
    return shelf, refund, draft


def test_anyone_searches_published_articles_only(anon, articles):
    *_, refund, draft = articles
    found = anon.get("/api/v1/public/kb/search", params={"q": "退款多久能到账"}).json()
    assert found["answered"] and found["hits"][0]["key"] == refund.key
    assert draft.key not in [h["key"] for h in found["hits"]]
    nothing = anon.get("/api/v1/public/kb/search", params={"q": "火星上能送货吗"}).json()
    assert nothing["answered"] is False


def test_a_vote_then_its_comment_and_nobody_elses(db, anon, articles):
    *_, refund, draft = articles
    vote = anon.post("/api/v1/public/kb/feedback", json={"key": refund.key, "helpful": False})
    assert vote.status_code == 201, vote.text
    done = anon.post("/api/v1/public/kb/feedback/comment", json={
        "key": refund.key, "id": vote.json()["id"], "token": vote.json()["token"], "comment": "没说节假日"})  # fmt: skip
    assert done.status_code == 204
    forged = anon.post("/api/v1/public/kb/feedback/comment", json={
        "key": refund.key, "id": vote.json()["id"], "token": "0" * 32, "comment": "改掉"})  # fmt: skip
    api_error(forged, 404, "not_found")
    row = db.scalar(select(KbFeedback))
    assert (row.helpful, row.comment, row.source) == (False, "没说节假日", "portal")
    api_error(anon.post("/api/v1/public/kb/feedback", json={"key": draft.key, "helpful": True}),
              404, "not_found")  # fmt: skip
    api_error(anon.post("/api/v1/public/kb/feedback", json={"key": refund.key, "helpful": "maybe"}),
              422, "validation_error")  # fmt: skip
    api_error(anon.get("/api/v1/public/kb/search", params={"q": " "}), 422, "validation_error")


@pytest.fixture
def tight_limits(live_app):
    """The live server's portal limits at 3 searches and 2 votes a minute, for one test."""
    shared = live_app.state.kb_limits
    live_app.state.kb_limits = KbLimits(3, 2)
    yield
    live_app.state.kb_limits = shared


def test_public_search_and_votes_are_rate_limited_per_address(anon, articles, tight_limits):
    *_, refund, _ = articles
    answers = [
        anon.get("/api/v1/public/kb/search", params={"q": "退款"}).status_code for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    votes = [anon.post("/api/v1/public/kb/feedback", json={"key": refund.key, "helpful": True})
             for _ in range(3)]  # fmt: skip
    assert [v.status_code for v in votes] == [201, 201, 429]
    api_error(votes[-1], 429, "rate_limited")
