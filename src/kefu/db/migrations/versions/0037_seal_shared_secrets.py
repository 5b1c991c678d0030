"""seal the web chat channels' identity secrets and the integrations' callback secrets

Two secrets kefu shares with other systems were stored as they are: a web chat channel's secret
(the site signs its users' identities with it) and an integration's callback secret (kefu signs
replies and order lookups with it). Like every other such secret they are now sealed with the
secret box under the master key (services/infra/secret_box.py, v2 AES-256-GCM, bound to the
column): ``webchat_channels.secret_sealed`` and ``integrations.callback_secret_sealed`` replace
the plaintext columns. The rows there are sealed here with the secret key of the settings the
upgrade runs with (``KEFU_SECRET_KEY``); a downgrade opens them again with it. The settings are
read only when there is a row to seal or open, so an empty database needs no key.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 23:00:00
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

BATCH_ROWS = 500
# (table, plaintext column, sealed column, whether a row must have one)
SECRETS = (
    ("webchat_channels", "secret", "secret_sealed", True),
    ("integrations", "callback_secret", "callback_secret_sealed", False),
)


def _secret_key() -> str:
    # Imported here: only a database with rows to move needs the settings (and their key).
    from kefu.settings import get_settings

    return get_settings().secret_key


def _copy(table: str, source: str, target: str, change: Callable[[str, str], str]) -> None:
    """Each row's ``source`` value, changed by ``change(key, value)``, into ``target``, in
    batches by id; rows without a value are left without one."""
    rows_of = sa.table(table, sa.column("id", sa.BigInteger), sa.column(source, sa.Text),
                       sa.column(target, sa.Text))  # fmt: skip
    bind = op.get_bind()
    key: str | None = None
    after = 0
    while True:
        rows = bind.execute(
            sa.select(rows_of.c.id, rows_of.c[source])
            .where(rows_of.c.id > after, rows_of.c[source].is_not(None))
            .order_by(rows_of.c.id)
            .limit(BATCH_ROWS)
        ).all()
        for row_id, value in rows:
            key = key or _secret_key()
            bind.execute(
                rows_of.update().where(rows_of.c.id == row_id).values({target: change(key, value)})
            )
        if len(rows) < BATCH_ROWS:
            return
        after = rows[-1][0]


def upgrade() -> None:
    from kefu.services.infra.secret_box import seal

    for table, plain, sealed, required in SECRETS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(sealed, sa.Text(), nullable=True))
        purpose = f"{table}.{sealed}"  # services/infra/sealed_columns.py purpose_of
        _copy(table, plain, sealed, lambda key, value: seal(key, value, purpose=purpose))  # noqa: B023
        with op.batch_alter_table(table) as batch_op:
            if required:
                batch_op.alter_column(sealed, existing_type=sa.Text(), nullable=False)
            batch_op.drop_column(plain)


def downgrade() -> None:
    from kefu.services.infra.secret_box import unseal

    for table, plain, sealed, required in SECRETS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(plain, sa.String(100), nullable=True))
        purpose = f"{table}.{sealed}"
        _copy(table, sealed, plain, lambda key, value: unseal(key, value, purpose=purpose))  # noqa: B023
        with op.batch_alter_table(table) as batch_op:
            if required:
                batch_op.alter_column(plain, existing_type=sa.String(100), nullable=False)
            batch_op.drop_column(sealed)
