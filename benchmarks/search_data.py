#!/usr/bin/env python3
"""Fill a database with many tickets and messages, indexed for search, for benchmarks/search_recall.py.

Writes N tickets of M messages each (customer messages from the ingest benchmark's generator,
agent replies from a few dozen phrasings), spread over three groups and N/3 customers, with
their search documents in the same transactions, in batches of set-based statements (what
intake does); on PostgreSQL the GIN index is dropped during the load and built again at the end.
The schema is migrated first. Run on an empty database or one of its own:

    .venv/bin/python benchmarks/search_data.py --database-url sqlite:///data/search-bench.db \
        --tickets 100000 --messages-per-ticket 10
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy import text as sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import GIVEN, PRODUCTS, SURNAMES, make_text  # noqa: E402

from kefu.db import migrate  # noqa: E402
from kefu.db.engine import make_engine  # noqa: E402
from kefu.db.models import Customer, Group, Identity, Message, Ticket  # noqa: E402
from kefu.services.search import index  # noqa: E402

REPLIES = [
    "您好，很抱歉给您带来不便，我们已经为您加急处理{product}的问题。",
    "亲，已为您登记退货，快递员会在{days}天内上门取件，请保持电话畅通。",
    "您的退款{amount}元已经原路退回，预计1-3个工作日到账。",
    "非常理解您的心情，{product}的维修申请已提交，工单号{ticket}。",
    "您好，已经帮您修改收货地址，新的物流信息稍后会短信通知您。",
    "抱歉让您久等了，您反映的{product}质量问题我们已经反馈给质检部门。",
    "发票已重新开具，电子发票会发送到您预留的邮箱，请注意查收。",
    "您好，优惠券需要满足指定商品才能使用，我再帮您核实一下订单。",
    "感谢您的耐心等待，补发的{product}今天已经发出，单号SF{tracking}。",
    "会员积分的问题已经转给会员中心，{days}个工作日内给您答复。",
]


def _reply(rng: random.Random) -> str:
    return rng.choice(REPLIES).format(
        product=rng.choice(PRODUCTS),
        days=rng.randint(1, 7),
        amount=rng.choice([59, 99, 128, 199, 299]),
        ticket=f"GD{rng.randrange(10**7, 10**8)}",
        tracking=rng.randrange(10**11, 10**12),
    )


def build(url: str, tickets: int, per_ticket: int, batch: int, seed: int) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    if postgres:  # a GIN index is built far faster at once than row by row
        with engine.begin() as conn:
            for kind in index.KINDS:
                conn.execute(sql(f"DROP INDEX IF EXISTS ix_search_documents_{kind}_terms"))
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    with engine.begin() as conn:
        groups = [
            conn.execute(
                insert(Group).returning(Group.id), {"name": f"检索组{i}{seed}"}
            ).scalar_one()
            for i in range(3)
        ]
    customers = max(1, tickets // 3)
    with engine.begin() as conn:
        base = conn.execute(select(Customer.id).order_by(Customer.id.desc()).limit(1)).scalar() or 0
        for first in range(0, customers, batch):
            rows = [
                {"name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                 "phone": f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}", "note": "",
                 "language": "zh-CN", "created_at": start, "updated_at": start}
                for _ in range(first, min(customers, first + batch))
            ]  # fmt: skip
            ids = (
                conn.execute(
                    insert(Customer).returning(Customer.id, sort_by_parameter_order=True), rows
                )
                .scalars()
                .all()
            )
            conn.execute(insert(Identity), [
                {"customer_id": i, "channel": "api", "external_id": f"sb-{seed}-{i}", "verified": False,
                 "created_at": start} for i in ids
            ])  # fmt: skip
            index.write(conn, [
                index.customer_doc(i, name=r["name"], phone=r["phone"], identities=[f"sb-{seed}-{i}"])
                for i, r in zip(ids, rows, strict=True)
            ])  # fmt: skip
    customer_ids = range(base + 1, base + customers + 1)
    per_batch = max(1, batch // per_ticket)
    for first in range(0, tickets, per_batch):
        with engine.begin() as conn:
            count = min(per_batch, tickets - first)
            at = [start + timedelta(minutes=first + k) for k in range(count)]
            texts = [make_text(rng) for _ in range(count)]
            rows = [
                {"subject": text.splitlines()[0][:60], "status": "open", "channel": "api",
                 "customer_id": rng.choice(customer_ids), "group_id": rng.choice(groups + [None]),
                 "created_at": when, "updated_at": when, "last_message_at": when, "case_file": {},
                 "sla_pauses": [], "risks": [], "chat_passed_by": []}
                for text, when in zip(texts, at, strict=True)
            ]  # fmt: skip
            ticket_ids = (
                conn.execute(
                    insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True), rows
                )
                .scalars()
                .all()
            )
            messages = []
            for tid, text, when, row in zip(ticket_ids, texts, at, rows, strict=True):
                for n in range(per_ticket):
                    inbound = n % 2 == 0
                    messages.append({
                        "ticket_id": tid, "channel": "api", "direction": "inbound" if inbound else "outbound",
                        "author_type": "customer" if inbound else "user",
                        "author_customer_id": row["customer_id"] if inbound else None,
                        "body_text": text if n == 0 else make_text(rng) if inbound else _reply(rng),
                        "created_at": when + timedelta(seconds=n),
                    })  # fmt: skip
            message_ids = (
                conn.execute(
                    insert(Message).returning(Message.id, sort_by_parameter_order=True), messages
                )
                .scalars()
                .all()
            )
            docs = [
                index.ticket_doc(t, r["subject"]) for t, r in zip(ticket_ids, rows, strict=True)
            ]
            docs += [
                index.message_doc(m, r["ticket_id"], r["body_text"])
                for m, r in zip(message_ids, messages, strict=True)
            ]
            index.write(conn, docs)
        done = first + count
        if done % (per_batch * 50) < per_batch or done == tickets:
            rate = done * per_ticket / (time.perf_counter() - began)
            print(
                f"{done:,} tickets, {done * per_ticket:,} messages ({rate:,.0f} messages/s)",
                flush=True,
            )  # noqa: T201
    if postgres:
        with engine.begin() as conn:
            conn.execute(sql("SET LOCAL maintenance_work_mem = '1GB'"))
            for kind in index.KINDS:
                conn.execute(sql(GIN_INDEX.format(kind=kind)))
            conn.execute(sql("ANALYZE search_documents"))
        print(f"GIN indexes built; {time.perf_counter() - began:,.0f} s in all", flush=True)  # noqa: T201
    engine.dispose()


GIN_INDEX = (
    "CREATE INDEX ix_search_documents_{kind}_terms ON search_documents USING gin (terms)"
    " WHERE kind = '{kind}'"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages-per-ticket", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5_000, help="messages per transaction")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    build(args.database_url, args.tickets, args.messages_per_ticket, args.batch, args.seed)


if __name__ == "__main__":
    main()
