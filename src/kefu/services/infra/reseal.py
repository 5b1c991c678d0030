"""``kefu secrets reseal``: every sealed value rewritten in the format ``seal`` writes now, under
the current master key (after ``KEFU_SECRET_KEY`` changed, with the old key in
``KEFU_SECRET_KEY_PREVIOUS``; or to move v1 values to v2).

Column by column (``sealed_columns.SEALED_COLUMNS``), in batches of rows by primary key, each
batch its own transaction. A value already current is left alone, so a second run changes
nothing; one no key opens is counted and left as it is (an admin enters that secret again). A
value is written back only if it is still the one read, so a secret an admin changes meanwhile
is never overwritten with the old one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from kefu.services.infra.sealed_columns import SEALED_COLUMNS, purpose_of
from kefu.services.infra.secret_box import SecretUnreadable, is_current, seal, unseal

BATCH_ROWS = 500


@dataclass
class ColumnCounts:
    current: int = 0  # already sealed as seal writes now
    resealed: int = 0  # rewritten (or, in a dry run, to be rewritten)
    unreadable: int = 0  # no key opens it: left as it is


@dataclass
class ResealReport:
    columns: dict[str, ColumnCounts] = field(default_factory=dict)

    def total(self, what: str) -> int:
        return sum(getattr(counts, what) for counts in self.columns.values())


def reseal_all(
    sessions: Callable[[], Session],
    secret_key: str,
    *,
    dry_run: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> ResealReport:
    """Reseal every sealed column (see the module's docstring); a dry run only counts."""
    report = ResealReport()
    for column in SEALED_COLUMNS:
        report.columns[purpose_of(column)] = _reseal_column(
            sessions, secret_key, column, dry_run=dry_run, batch_rows=batch_rows
        )
    return report


def _reseal_column(
    sessions: Callable[[], Session],
    secret_key: str,
    column: InstrumentedAttribute[Any],
    *,
    dry_run: bool,
    batch_rows: int,
) -> ColumnCounts:
    model = column.class_
    (key,) = model.__mapper__.primary_key
    purpose = purpose_of(column)
    counts = ColumnCounts()
    after: Any = None
    while True:
        with sessions() as session:
            query = select(key, column).where(column != "").order_by(key).limit(batch_rows)
            if after is not None:
                query = query.where(key > after)
            rows = session.execute(query).all()
            for row_id, sealed in rows:
                if is_current(secret_key, sealed):
                    counts.current += 1
                    continue
                try:
                    fresh = seal(secret_key, unseal(secret_key, sealed, purpose=purpose),
                                 purpose=purpose)  # fmt: skip
                except SecretUnreadable:
                    counts.unreadable += 1
                    continue
                counts.resealed += 1
                if not dry_run:
                    session.execute(
                        update(model)
                        .where(key == row_id, column == sealed)
                        .values({column.key: fresh})
                        .execution_options(synchronize_session=False)
                    )
            session.commit()
        if len(rows) < batch_rows:
            return counts
        after = rows[-1][0]
