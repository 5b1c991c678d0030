"""The timeline's rows: times as the page shows them, and file sizes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kefu.web.timeline_rows import Clock, file_size

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.mark.parametrize(
    ("at", "short", "local"),
    [
        (datetime(2026, 12, 6, 16, 30, tzinfo=UTC), "00:30", "2026-12-07 00:30"),  # today there
        (datetime(2026, 12, 6, 15, 59, tzinfo=UTC), "12-06 23:59", "2026-12-06 23:59"),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "01-01 08:00", "2026-01-01 08:00"),
        (datetime(2025, 12, 31, 15, 0, tzinfo=UTC), "2025-12-31", "2025-12-31 23:00"),
        (datetime(2026, 12, 7, 1, 5), "09:05", "2026-12-07 09:05"),  # naive: read as UTC
    ],
)
def test_a_moment_reads_in_beijing_time_against_today_there(
    at: datetime, short: str, local: str
) -> None:
    moment = Clock(NOW).moment(at)
    assert (moment.short, moment.local) == (short, local)
    assert moment.iso.endswith("Z") and datetime.fromisoformat(moment.iso) == at.replace(
        tzinfo=at.tzinfo or UTC
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1536, "1.5 KB"), (5 * 1024 * 1024, "5.0 MB")],
)
def test_file_sizes_in_bytes_kilobytes_and_megabytes(size: int, shown: str) -> None:
    assert file_size(size) == shown
