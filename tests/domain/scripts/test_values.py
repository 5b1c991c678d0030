"""How facts read in a reply: the courteous form of address, China time, yuan."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kefu.domain.scripts.values import china_time, courteous_name, yuan


@pytest.mark.parametrize(
    ("name", "form"),
    [("王小明", "王先生/女士"), ("欧阳娜娜", "欧阳先生/女士"), ("李女士", "李女士"), ("张老师", "张老师"),
     ("Tom Lee", "Tom Lee"), ("", "您"), (None, "您"), ("顾客12", "您"), ("visitor-8f3a", "您")],
)  # fmt: skip
def test_courteous_name(name, form):
    assert courteous_name(name) == form


def test_times_read_in_china_time_and_amounts_in_yuan():
    assert china_time(datetime(2026, 12, 6, 17, 5, tzinfo=UTC)) == "12月7日 01:05"
    assert yuan(3000) == "30元"
    assert yuan(1250) == "12.50元"
