import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.errors import KefuError
from kefu.services.infra.pagination import decode_cursor, encode_cursor


@given(st.integers(min_value=1, max_value=2**62))
def test_round_trip(value):
    assert decode_cursor(encode_cursor(value)) == value


@pytest.mark.parametrize(
    "bad",
    ["x", "eyJiZWZvcmUiOiAiYSJ9", "eyJiZWZvcmUiOiAtMX0", "e30", "!!!!", "eyJiZWZvcmUiOnRydWV9"],
)
def test_bad_cursors(bad):
    with pytest.raises(KefuError):
        decode_cursor(bad)


@pytest.mark.parametrize("before", [0, 2**62 + 1, 2**63, 10**40, 1.0, "5", None, [3]])
def test_cursor_values_outside_1_to_2_62_are_invalid(before):
    raw = base64.urlsafe_b64encode(json.dumps({"before": before}).encode()).decode()
    with pytest.raises(KefuError) as caught:
        decode_cursor(raw)
    assert caught.value.code == "invalid_cursor" and caught.value.status_code == 400


@given(st.text(max_size=50))
def test_arbitrary_text_never_crashes(text):
    try:
        decode_cursor(text)
    except KefuError:
        pass
