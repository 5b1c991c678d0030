"""services/infra/rebuilt_cache.py: one value per database, rebuilt when its stamp changes
(the threads' side: tests/services/kb/test_index.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from kefu.db.engine import make_engine
from kefu.services.infra.rebuilt_cache import RebuiltCache


def test_a_value_is_kept_per_database_until_its_stamp_changes(tmp_path: Path) -> None:
    made: list[tuple[str, int]] = []

    def build(session: Session, stamp: int) -> str:
        made.append((str(session.get_bind().url), stamp))
        return f"value {len(made)}"

    cache: RebuiltCache[int, str] = RebuiltCache(build)
    first, second = (make_engine(f"sqlite:///{tmp_path / n}.db") for n in ("a", "b"))
    with Session(first) as a, Session(second) as b:
        assert cache.get(a, 1) == "value 1"
        assert cache.get(a, 1) == "value 1"  # kept
        assert cache.get(b, 1) == "value 2"  # another database, another value
        assert cache.get(a, 2) == "value 3"  # a's rows changed
        assert cache.get(b, 1) == "value 2"
    assert cache.builds == 3 and [s for _, s in made] == [1, 1, 2]
    first.dispose()
    second.dispose()
