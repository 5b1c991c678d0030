"""The token → actor cache: expiry, races with staff changes, and emptying on commit."""

from __future__ import annotations

from sqlalchemy import update

from kefu.db.models import User
from kefu.domain.roles import Role
from kefu.services.actors import Actor
from kefu.services.infra.token_cache import TokenCache
from tests import factories

AGENT = Actor(user_id=7, role=Role.AGENT, via="token", name="客服")


def test_entry_lives_for_ttl_seconds():
    now = [100.0]
    cache = TokenCache(5, clock=lambda: now[0])
    cache.put("d1", AGENT, cache.generation())
    assert cache.get("d1") == AGENT
    now[0] = 104.9
    assert cache.get("d1") == AGENT
    now[0] = 105.0
    assert cache.get("d1") is None


def test_zero_ttl_caches_nothing():
    cache = TokenCache(0)
    cache.put("d1", AGENT, cache.generation())
    assert cache.get("d1") is None


def test_lookup_that_raced_a_staff_change_is_not_cached():
    cache = TokenCache(5)
    before = cache.generation()
    cache.clear()  # a change committed while the lookup ran
    cache.put("d1", AGENT, before)
    assert cache.get("d1") is None


def test_committing_a_staff_change_empties_the_cache(db):
    cache = TokenCache(60)
    user = factories.make_user(db)
    cache.put("d1", AGENT, cache.generation())

    factories.make_customer(db)  # not staff: the entry stays
    assert cache.get("d1") == AGENT

    db.get(User, user.id).is_active = False
    db.flush()
    assert cache.get("d1") == AGENT  # not yet committed
    db.commit()
    assert cache.get("d1") is None


def test_change_behind_the_orm_is_seen_after_ttl(db):
    now = [0.0]
    cache = TokenCache(5, clock=lambda: now[0])
    user = factories.make_user(db)
    cache.put("d1", AGENT, cache.generation())
    db.execute(update(User).where(User.id == user.id).values(is_active=False))
    db.commit()
    assert cache.get("d1") == AGENT  # another process's change: not known here yet
    now[0] = 5.0
    assert cache.get("d1") is None
