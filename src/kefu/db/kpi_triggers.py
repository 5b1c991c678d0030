"""The triggers that mark a ticket's KPI figures stale (``kpi_stale``) in the transaction of the
change, whatever wrote it: the ORM, intake's batched SQL, a bulk ``COPY`` of the demo generator.

A trigger only appends ``(ticket_id)`` rows; nothing is updated in place, so writers never wait
on one another's marks (no shared row lock, no lock-order deadlock). The refresh
(services/analytics/rollup.py) reads the marks, recomputes those cases and deletes exactly the
marks it read. On PostgreSQL inserts are marked per statement (transition tables: one
``INSERT … SELECT DISTINCT`` per batch or ``COPY``), updates per row, only when a column the
figures read changed. SQLite has row triggers only.
"""

# ruff: noqa: S608 - every name in this SQL is one of the constants below, no input

from __future__ import annotations

from dataclasses import dataclass

# The ticket columns the figures (and the slices, emotion and sentiment counts) read.
TICKET_COLUMNS = (
    "created_at", "channel", "priority", "case_path", "stage", "status", "first_response_at",
    "resolved_at", "closed_at", "reopen_count", "assignee_id", "group_id", "category",
    "repeat_complaint", "escalations", "first_response_due_at", "resolution_due_at",
    "merged_into_id", "emotion", "sentiment",
)  # fmt: skip
ASSIGNING = "('ticket.update', 'ticket.route')"


@dataclass(frozen=True)
class Watch:
    table: str
    key: str  # the column holding the ticket id
    updates: tuple[str, ...] = ()  # columns whose change marks the ticket (old and new ticket)
    inserts: bool = True
    deletes: bool = False  # only for rows that go while their ticket stays
    where: str = ""  # which inserted rows count (SQL; ``{row}`` prefixes the row's columns)


WATCHED = (
    Watch("tickets", "id", TICKET_COLUMNS),
    Watch("messages", "ticket_id", ("ticket_id", "direction", "author_type", "created_at")),
    Watch("surveys", "ticket_id",
          ("ticket_id", "kinds", "csat", "nps", "ces", "answered_at", "sent_at")),
    Watch("sla_events", "ticket_id", ("ticket_id", "kind", "target", "due_at")),
    Watch("bot_conversations", "ticket_id", ("ticket_id", "solved_by_bot")),
    Watch("audit_events", "ticket_id",
          where="{row}ticket_id IS NOT NULL AND {row}action IN " + ASSIGNING),
    Watch("ticket_tags", "ticket_id", deletes=True),
)  # fmt: skip


def _changed(columns: tuple[str, ...], dialect: str) -> str:
    if dialect == "postgresql":
        old = ", ".join(f"OLD.{c}" for c in columns)
        new = ", ".join(f"NEW.{c}" for c in columns)
        return f"ROW({old}) IS DISTINCT FROM ROW({new})"
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def create_sql(dialect: str) -> list[str]:
    """The statements that create every trigger (and PostgreSQL's functions)."""
    return [s for w in WATCHED for s in (_postgres(w) if dialect == "postgresql" else _sqlite(w))]


def drop_sql(dialect: str) -> list[str]:
    statements = []
    for w in WATCHED:
        for event in ("ins", "upd", "del"):
            name = f"kpi_stale_{w.table}_{event}"
            if dialect == "postgresql":
                statements.append(f"DROP TRIGGER IF EXISTS {name} ON {w.table}")
                statements.append(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                statements.append(f"DROP TRIGGER IF EXISTS {name}")
    return statements


def _postgres(w: Watch) -> list[str]:
    out = []

    def function(name: str, body: str) -> None:
        out.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$"
        )

    if w.inserts:
        name = f"kpi_stale_{w.table}_ins"
        where = f" WHERE {w.where.format(row='')}" if w.where else ""
        function(name, f"INSERT INTO kpi_stale (ticket_id) SELECT DISTINCT {w.key} "  # nosec: fixed names
                       f"FROM kpi_new_rows{where};")  # fmt: skip
        out.append(
            f"CREATE TRIGGER {name} AFTER INSERT ON {w.table} REFERENCING NEW TABLE AS "
            f"kpi_new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    if w.updates:
        name = f"kpi_stale_{w.table}_upd"
        body = f"INSERT INTO kpi_stale (ticket_id) VALUES (NEW.{w.key});"  # nosec: fixed names
        if w.key in w.updates and w.key != "id":
            body += (
                f" IF OLD.{w.key} IS DISTINCT FROM NEW.{w.key} THEN INSERT INTO kpi_stale "  # nosec: fixed names
                f"(ticket_id) VALUES (OLD.{w.key}); END IF;"
            )
        function(name, body)
        out.append(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {', '.join(w.updates)} ON {w.table} "
            f"FOR EACH ROW WHEN ({_changed(w.updates, 'postgresql')}) EXECUTE FUNCTION {name}()"
        )
    if w.deletes:
        name = f"kpi_stale_{w.table}_del"
        function(name, f"INSERT INTO kpi_stale (ticket_id) SELECT id FROM tickets "  # nosec: fixed names
                       f"WHERE id = OLD.{w.key};")  # fmt: skip
        out.append(
            f"CREATE TRIGGER {name} AFTER DELETE ON {w.table} FOR EACH ROW "
            f"EXECUTE FUNCTION {name}()"
        )
    return out


def _sqlite(w: Watch) -> list[str]:
    out = []
    if w.inserts:
        when = f" WHEN {w.where.format(row='NEW.')}" if w.where else ""
        out.append(
            f"CREATE TRIGGER kpi_stale_{w.table}_ins AFTER INSERT ON {w.table}{when} BEGIN "  # nosec: fixed names
            f"INSERT INTO kpi_stale (ticket_id) VALUES (NEW.{w.key}); END"
        )
    if w.updates:
        moved = ""
        if w.key in w.updates and w.key != "id":
            moved = (
                f" INSERT INTO kpi_stale (ticket_id) SELECT OLD.{w.key} "
                f"WHERE OLD.{w.key} IS NOT NEW.{w.key};"
            )
        out.append(
            f"CREATE TRIGGER kpi_stale_{w.table}_upd AFTER UPDATE OF {', '.join(w.updates)} "  # nosec: fixed names
            f"ON {w.table} WHEN {_changed(w.updates, 'sqlite')} BEGIN "
            f"INSERT INTO kpi_stale (ticket_id) VALUES (NEW.{w.key});{moved} END"
        )
    if w.deletes:
        out.append(
            f"CREATE TRIGGER kpi_stale_{w.table}_del AFTER DELETE ON {w.table} BEGIN "  # nosec: fixed names
            f"INSERT INTO kpi_stale (ticket_id) SELECT id FROM tickets WHERE id = OLD.{w.key}; END"
        )
    return out
