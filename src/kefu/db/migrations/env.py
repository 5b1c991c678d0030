"""Alembic environment: migrations run against the URL kefu passes in its config."""

from __future__ import annotations

import warnings
from typing import Any, Literal

from alembic import context
from sqlalchemy.exc import SAWarning

from kefu.db.base import UTCDateTime
from kefu.db.engine import make_engine
from kefu.db.migrate import schema_filter
from kefu.db.models import Base

config = context.config
# SQLite's batch mode reflects the tables a rebuilt table refers to; the tickets table's
# expression index (ix_tickets_sla_order) cannot be reflected, and is not touched either.
warnings.filterwarnings(
    "ignore", message="Skipped unsupported reflection of expression-based index", category=SAWarning
)
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write kefu's column types as plain SQLAlchemy types, so migrations never import kefu."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            include_object=schema_filter(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
