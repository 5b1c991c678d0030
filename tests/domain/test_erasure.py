from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.erasure import CASE_FILE_KEPT, scrub

MARK = "已删除"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


@given(json_values)
def test_no_text_survives_and_scrubbing_again_changes_nothing(value):
    once = scrub(value, MARK)
    assert all(s in ("", MARK) for s in _strings(once))
    assert scrub(once, MARK) == once


def test_a_case_file_keeps_its_figures_and_decisions():
    case_file = {
        "facts": "客户电话13912345678，包裹丢失",
        "category_confirmed": True,
        "five_whys": ["仓库漏发", "系统没提醒"],
        "compensation": {"kind": "coupon", "amount": 2000, "proposed_by": "agent",
                         "comment": "客户李先生同意"},
        "rating": 4,
        "waiting_until": "2026-12-08T10:00:00+00:00",
    }  # fmt: skip
    assert scrub(case_file, MARK, CASE_FILE_KEPT) == {
        "facts": MARK,
        "category_confirmed": True,
        "five_whys": [MARK, MARK],
        "compensation": {"kind": "coupon", "amount": 2000, "proposed_by": "agent", "comment": MARK},
        "rating": 4,
        "waiting_until": "2026-12-08T10:00:00+00:00",
    }
