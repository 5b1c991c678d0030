#!/usr/bin/env python3
"""IMAP-to-ticket latency with IDLE: a mail APPENDed to a mailbox on a private Dovecot (the
tests' harness, tests/mailservers/dovecot.py) until its ticket row exists in kefu's database.

kefu's fetcher runs as in ``kefu serve``: an IDLE loop in a thread (services/mail/fetch.py
``Fetcher.idle``) on a fresh SQLite data directory. N mails are appended one after another;
each latency is from the end of the APPEND to the commit of its ticket (the MailRaw row set to
``imported`` with a ticket id, polled every 5 ms). Printed: median, p95 and max, the target
(< 5 s), and beside it the baseline of polling at the default interval
(``KEFU_MAIL_POLL_SECONDS``): a mail waits for the next round, on average half the interval,
at worst all of it, plus one round's own time (measured here).

    .venv/bin/python benchmarks/mail_latency.py            # 20 mails
    .venv/bin/python benchmarks/mail_latency.py --mails 50

Needs root (Dovecot's private instance) and only contacts 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' Dovecot harness

from tests import mail_data  # noqa: E402
from tests.mailservers.dovecot import PASSWORD, Dovecot  # noqa: E402

from kefu.db import migrate  # noqa: E402
from kefu.db.engine import make_engine, make_session_factory, writer_bind  # noqa: E402
from kefu.db.models import MailRaw  # noqa: E402
from kefu.services.actors import SYSTEM  # noqa: E402
from kefu.services.mail.fetch import Fetcher  # noqa: E402
from kefu.services.mail.mailboxes import do_create_mailbox  # noqa: E402
from kefu.settings import Settings  # noqa: E402

TARGET_SECONDS = 5.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    data = Path(tempfile.mkdtemp(prefix="kefu-mail-bench-"))
    settings = Settings(env="test", data_dir=data, log_level="WARNING")
    migrate.upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    sessions = make_session_factory(writer_bind(engine))
    dovecot = Dovecot.start()
    stop = threading.Event()
    try:
        address = dovecot.add_user("bench")
        with sessions() as session:
            box = do_create_mailbox(
                session, SYSTEM, secret_key=settings.secret_key, name="bench", address=address,
                imap_host=dovecot.host, imap_port=dovecot.imap_port, imap_security="none",
                imap_username=address, imap_password=PASSWORD,
            )  # fmt: skip
            session.commit()
            box_id = box.id
        # One round by hand first: the folder's state is learnt, the analyzer loaded.
        dovecot.append(address, mail_data.plain(
            sender="warm@customer.test", to=address, subject="预热", body="预热邮件。",
            message_id=mail_data.new_id(),
        ))  # fmt: skip
        started = time.perf_counter()
        Fetcher(sessions, settings).fetch_mailbox(box_id)
        round_seconds = time.perf_counter() - started

        idle = threading.Thread(target=Fetcher(sessions, settings).idle, args=(box_id, stop))
        idle.start()
        time.sleep(0.5)  # the loop has logged in and is idling
        latencies = []
        for n in range(args.mails):
            message_id = mail_data.new_id()
            raw = mail_data.plain(
                sender=f"c{n}@customer.test", to=address, subject=f"订单问题 {n}",
                body=f"第 {n} 封：我的订单还没有发货，请帮忙查一下。", message_id=message_id,
                charset="gb2312",
            )  # fmt: skip
            dovecot.append(address, raw)
            sent = time.perf_counter()
            while True:
                with sessions() as session:
                    ticket_id = session.scalar(
                        select(MailRaw.ticket_id).where(MailRaw.header_message_id == message_id)
                    )
                if ticket_id is not None:
                    latencies.append(time.perf_counter() - sent)
                    break
                if time.perf_counter() - sent > 60:
                    raise SystemExit(f"mail {n} never became a ticket")
                time.sleep(0.005)
    finally:
        stop.set()
        # The IDLE loop sees the server go away before it sees ``stop``: not worth a warning.
        logging.getLogger("kefu.services.mail.fetch").setLevel(logging.ERROR)
        dovecot.stop()
        engine.dispose()

    median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    interval = settings.mail_poll_seconds
    print(f"IMAP IDLE → ticket, {len(latencies)} mails (SQLite)")
    print(
        f"  median {median * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms   max {max(latencies) * 1000:8.1f} ms"
    )
    print(f"  target: < {TARGET_SECONDS:.0f} s  →  {'PASS' if p95 < TARGET_SECONDS else 'FAIL'}")
    print(
        f"baseline: polling every {interval:g} s (KEFU_MAIL_POLL_SECONDS; one round {round_seconds * 1000:.0f} ms)"
    )
    print(
        f"  median ≈ {interval / 2 + round_seconds:6.1f} s   p95 ≈ {interval * 0.95 + round_seconds:6.1f} s   max ≈ {interval + round_seconds:6.1f} s"
    )
    print(json.dumps({
        "mails": len(latencies), "idle_median_ms": round(median * 1000, 1),
        "idle_p95_ms": round(p95 * 1000, 1), "idle_max_ms": round(max(latencies) * 1000, 1),
        "poll_interval_s": interval, "poll_round_ms": round(round_seconds * 1000, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
