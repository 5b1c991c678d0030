"""PostgreSQL: ``pg_dump`` (custom format) inside a snapshot the row counts are taken in too,
and ``pg_restore`` into the configured database. The password goes to the tools in their
environment (PGPASSWORD), never on their command line, where ``ps`` would show it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # nosec: pg_dump and pg_restore, fixed argument lists
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from kefu.db.engine import make_engine
from kefu.services.backups.manifest import BackupError

TOOL_DIRS = "/usr/lib/postgresql"
# Query parameters of the URL the tools read from their environment.
_ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "host": "PGHOST",
}


def find_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on the PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path(TOOL_DIRS).glob(f"*/bin/{name}"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)],
    )
    if versions:
        return str(versions[-1])
    raise BackupError(
        f"找不到 {name}：请安装 PostgreSQL 客户端工具（Debian：apt install postgresql-client），"
        "版本不低于数据库服务器"
    )


def connection_arguments(url: str) -> tuple[list[str], dict[str, str]]:
    """The tools' arguments naming the database of ``url``, and the environment carrying its
    password and TLS settings."""
    parsed = make_url(url)
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or ""]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    for key, variable in _ENVIRONMENT.items():
        value = parsed.query.get(key)
        if isinstance(value, str):
            env[variable] = value
    return args, env


def dump(url: str, target: Path) -> tuple[dict[str, int], str | None]:
    """``pg_dump`` of the configured database into ``target``; the rows per table and the
    Alembic revision seen in the very snapshot the dump reads."""
    tool = find_tool("pg_dump")
    args, env = connection_arguments(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                tables = table_rows(conn)
                revision = _revision(conn, tables)
                _run(
                    [tool, "--format=custom", f"--snapshot={snapshot}", "--file", str(target)]
                    + args,
                    env,
                )
    finally:
        engine.dispose()
    return tables, revision


def restore(staged: Path, url: str) -> None:
    """``pg_restore`` into the configured database, in one transaction (all or nothing).
    Owners and grants are left out: the restoring role owns what it makes. Empty tables already
    there (a schema without rows) are dropped first and made again from the dump."""
    tool = find_tool("pg_restore")
    args, env = connection_arguments(url)
    options = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    if has_tables(url):
        options += ["--clean", "--if-exists"]
    _run([tool, *options, *args, str(staged)], env)


def table_rows(conn: Connection) -> dict[str, int]:
    names = conn.execute(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        )
    ).scalars()
    return {
        name: int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())  # noqa: S608 - names from pg_tables
        for name in names
    }


def filled_tables(url: str, names: Iterable[str]) -> list[str]:
    """Those of ``names`` that hold rows in the configured database."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            present = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                ).scalars()
            )
            return [
                name
                for name in names
                if name in present
                and conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')).scalar_one()  # noqa: S608 - names from the models
            ]
    finally:
        engine.dispose()


def has_tables(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT EXISTS (SELECT 1 FROM pg_tables "
                        "WHERE schemaname = current_schema())"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def rows_now(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return table_rows(conn)
    finally:
        engine.dispose()


def _revision(conn: Connection, tables: dict[str, int]) -> str | None:
    if "alembic_version" not in tables:
        return None
    value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value is not None else None


def _run(command: list[str], env: dict[str, str]) -> None:
    name = Path(command[0]).name
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
    except OSError as e:
        raise BackupError(f"无法运行 {name}：{e}") from e
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()[-5:]
        raise BackupError(f"{name} 失败（退出码 {done.returncode}）：" + " / ".join(lines))
