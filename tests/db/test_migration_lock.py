"""The migration lock (db/migrate.py): a process that wants to upgrade while another holds the
lock waits for it, on either engine, so servers started together never race on the schema."""

from __future__ import annotations

import threading

from kefu.db import migrate


def test_a_second_upgrader_waits_until_the_first_lets_go(settings):
    url = settings.resolved_database_url
    order: list[str] = []
    first_holds, first_may_go = threading.Event(), threading.Event()

    def first() -> None:
        with migrate.migration_lock(url):
            order.append("first has it")
            first_holds.set()
            first_may_go.wait(30)
            order.append("first lets go")

    def second() -> None:
        with migrate.migration_lock(url):
            order.append("second has it")

    one = threading.Thread(target=first)
    one.start()
    assert first_holds.wait(30)
    two = threading.Thread(target=second)
    two.start()
    two.join(timeout=1.0)
    assert two.is_alive(), "the second took the lock the first holds"
    first_may_go.set()
    one.join(30)
    two.join(30)
    assert order == ["first has it", "first lets go", "second has it"]


def test_the_lock_is_free_again_after_an_upgrade_failed_under_it(settings):
    url = settings.resolved_database_url
    try:
        with migrate.migration_lock(url):
            raise RuntimeError("a migration failed")
    except RuntimeError:
        pass
    done = threading.Event()

    def again() -> None:
        with migrate.migration_lock(url):
            done.set()

    thread = threading.Thread(target=again)
    thread.start()
    thread.join(30)
    assert done.is_set()
