"""Writing batches of rows fast: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite.

Both writers work on the engine's raw DBAPI connection, past the ORM: the rows are complete
(ids included, see ``rows.py``), so nothing needs to be read back. Each batch is one
transaction; after each, PostgreSQL's id sequences are moved past the ids handed out, so the
database is usable — and ``kefu`` creates its next ticket without a collision — even if a long
run stops half-way. SQLite assigns ``max(id) + 1`` by itself.

For the load only, SQLite runs with ``synchronous=OFF``, a large page cache and no foreign key
checks; the connection is discarded afterwards rather than returned to the pool with those
settings.

Derived data: a part of kefu that keeps rows derived from messages or tickets (a search index)
adds a ``BulkStep`` to ``AFTER_BATCH``; it is called with each batch, after the batch's rows
are written and before the commit, and writes its own rows through the same writer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine

from kefu.db.base import Base, UTCDateTime
from kefu.demo.synthetic.rows import ID_TABLES, TABLES, Batch, Ids

SQLITE_CACHE_KIB = 256 * 1024


class TableWriter(Protocol):
    dialect: str

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Append rows (timestamps as aware UTC datetimes, JSON as text) to a table."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement in the batch's transaction."""


BulkStep = Callable[[Batch, TableWriter], None]
# Steps run after each batch's rows are written (e.g. a search index over the new messages).
AFTER_BATCH: list[BulkStep] = []


class BulkWriter:
    """Writes batches in ``TABLES`` order, one transaction each (a context manager)."""

    dialect = ""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.raw = engine.raw_connection()
        self.conn: Any = self.raw.driver_connection

    def __enter__(self) -> BulkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def first_ids(self) -> dict[str, int]:
        """The first free id of each table the generator allocates ids for."""
        raise NotImplementedError

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def write_batch(self, batch: Batch, ids: Ids, steps: Sequence[BulkStep] = ()) -> None:
        """One batch in one transaction: its rows, the steps' rows, the sequences."""
        self.begin()
        try:
            for table, rows in batch.rows.items():
                if rows:
                    self.write(table, TABLES[table], rows)
            for step in steps:
                step(batch, self)
            self.ids_used(ids, batch.last_ids)
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def ids_used(self, ids: Ids, last_ids: dict[str, int]) -> None:
        """The ids up to ``last_ids`` are taken (PostgreSQL: move the sequences)."""

    def finish(self) -> None:
        """After the last batch: what makes the database fast to read again."""

    def close(self) -> None:
        self.raw.close()


class PostgresWriter(BulkWriter):
    dialect = "postgresql"

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.sequences: dict[str, str] = {}
        with self.conn.cursor() as cur:
            for table in ID_TABLES:
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
                self.sequences[table] = cur.fetchone()[0]
        self.conn.commit()

    def first_ids(self) -> dict[str, int]:
        first = {}
        with self.conn.cursor() as cur:
            for table, sequence in self.sequences.items():
                cur.execute(
                    f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}),"  # noqa: S608 - our table names
                    f" (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}))"
                )
                first[table] = int(cur.fetchone()[0]) + 1
        self.conn.commit()
        return first

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)

    def ids_used(self, ids: Ids, last_ids: dict[str, int]) -> None:
        with self.conn.cursor() as cur:
            for table, sequence in self.sequences.items():
                if ids.used(table, last_ids[table]):
                    cur.execute("SELECT setval(%s, %s)", (sequence, last_ids[table]))

    def finish(self) -> None:
        """Fresh planner statistics, so the benchmarks' queries are planned for the new size."""
        self.conn.autocommit = True
        try:
            with self.conn.cursor() as cur:
                for table in TABLES:
                    cur.execute(f"ANALYZE {table}")
        finally:
            self.conn.autocommit = False


class SqliteWriter(BulkWriter):
    dialect = "sqlite"

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # The rows are consistent by construction (and tests/demo/test_synthetic.py checks
        # PRAGMA foreign_key_check); checking each reference on insert costs a lookup per key.
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.datetime_columns = {
            table: [i for i, c in enumerate(columns) if _is_datetime(table, c)]
            for table, columns in TABLES.items()
        }

    def first_ids(self) -> dict[str, int]:
        first = {}
        for table in ID_TABLES:
            query = f"SELECT COALESCE(MAX(id), 0) FROM {table}"  # noqa: S608 - our table names
            first[table] = int(self.conn.execute(query).fetchone()[0]) + 1
        return first

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our table names
        stamps = self.datetime_columns.get(table) or [
            i for i, c in enumerate(columns) if _is_datetime(table, c)
        ]
        self.conn.executemany(statement, _with_sqlite_stamps(rows, stamps) if stamps else rows)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, params)

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def finish(self) -> None:
        """Copy the load from the write-ahead log into the database file and empty the log,
        unless another connection is reading (then the next checkpoint does it)."""
        self.conn.execute("PRAGMA busy_timeout=0")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.raw.invalidate()  # never back into the pool with the load's pragmas


def writer_for(engine: Engine) -> BulkWriter:
    if engine.dialect.name == "postgresql":
        return PostgresWriter(engine)
    if engine.dialect.name == "sqlite":
        return SqliteWriter(engine)
    raise ValueError(f"no bulk writer for {engine.dialect.name}")


def _is_datetime(table: str, column: str) -> bool:
    model_table = Base.metadata.tables.get(table)
    return model_table is not None and isinstance(model_table.c[column].type, UTCDateTime)


def _with_sqlite_stamps(
    rows: Sequence[tuple[Any, ...]], stamps: list[int]
) -> list[tuple[Any, ...]]:
    """Timestamps as SQLAlchemy stores them on SQLite: naive UTC, always with microseconds."""
    out = []
    for row in rows:
        values = list(row)
        for i in stamps:
            value = values[i]
            if value is not None:
                values[i] = value.isoformat(" ", "microseconds")[:26]
        out.append(tuple(values))
    return out
