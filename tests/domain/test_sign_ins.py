"""How a session's browser and address are shown on its owner's list."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.sign_ins import describe_browser, mask_address


@pytest.mark.parametrize(
    ("agent", "shown"),
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36", "Chrome 120 · Windows"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge 120 · Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari 17 · iOS"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0",
         "Firefox 121 · macOS"),
        ("Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/107.0.5304.141 Mobile Safari/537.36 MicroMessenger/8.0.43", "微信 8 · Android"),
        ("curl/8.5.0", "curl 8"),
        ("", ""),
        ("<script>", ""),
    ],
)  # fmt: skip
def test_a_browser_is_named_by_product_version_and_system(agent: str, shown: str) -> None:
    assert describe_browser(agent) == shown


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("203.0.113.45", "203.0.113.*"),
        ("2001:db8:1:2::abcd", "2001:db8:1:*"),
        ("::ffff:198.51.100.7", "198.51.100.*"),
        ("", ""),
        ("not an address", ""),
    ],
)
def test_an_address_hides_its_machine_part(address: str, shown: str) -> None:
    assert mask_address(address) == shown


@given(st.ip_addresses())
def test_no_masked_address_is_the_whole_address(ip) -> None:  # type: ignore[no-untyped-def]
    masked = mask_address(str(ip))
    assert masked.endswith("*") and masked != str(ip)


@given(st.text(max_size=300))
def test_any_user_agent_is_described_short(agent: str) -> None:
    assert len(describe_browser(agent)) <= 80
