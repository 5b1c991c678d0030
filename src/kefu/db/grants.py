"""Least privilege on PostgreSQL: what kefu's runtime role may do once the owner has migrated.

Two roles (docs/deployment.md, "Database roles"): the owner, which owns the schema and is used
only by ``kefu db upgrade`` (``KEFU_MIGRATE_DATABASE_URL``), and the runtime role of
``KEFU_DATABASE_URL``, which every server and worker uses. After each upgrade the owner grants
the runtime role (``grant_runtime``, run by ``kefu db upgrade`` itself, or by hand with
``kefu db grant ROLE``):

- SELECT, INSERT, UPDATE, DELETE on kefu's tables, and the sequences behind their ids; no
  TRUNCATE, REFERENCES or TRIGGER, nothing on the schema but USAGE (so no CREATE, ALTER, DROP);
- on ``alembic_version`` SELECT only;
- on ``audit_events`` SELECT and INSERT, and UPDATE of the ``before`` and ``after`` snapshots
  only: erasure of a customer's personal data rewrites the snapshots that hold it
  (services/customers/personal_data.py), nothing may change who did what when. No DELETE: the
  retention sweep removes audit events past their period through
  ``kefu_expire_audit_events`` (migration 0036), which deletes no event younger than a day.

Every statement is idempotent, so running them again after each upgrade (new tables) is safe.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

AUDIT_TABLE = "audit_events"
AUDIT_UPDATABLE = ("before", "after")  # the snapshots erasure rewrites
EXPIRE_AUDIT = "kefu_expire_audit_events(bigint[])"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def runtime_grants(role: str) -> list[str]:
    """The statements that leave ``role`` with the runtime privileges (and no more) on every
    table of the schema as it is now."""
    r = _ident(role)
    columns = ", ".join(_ident(c) for c in AUDIT_UPDATABLE)
    return [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"REVOKE CREATE ON SCHEMA public FROM {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {r}",
        f"REVOKE UPDATE, DELETE ON {AUDIT_TABLE} FROM {r}",
        f"GRANT UPDATE ({columns}) ON {AUDIT_TABLE} TO {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"GRANT EXECUTE ON FUNCTION {EXPIRE_AUDIT} TO {r}",
    ]


def grant_runtime(connection: Connection, role: str) -> None:
    """Grant ``role`` the runtime privileges, on a connection of the schema's owner (committed
    by the caller)."""
    if connection.dialect.name != "postgresql":
        return
    for statement in runtime_grants(role):
        connection.execute(text(statement))
