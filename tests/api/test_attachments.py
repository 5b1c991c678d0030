"""GET /api/v1/attachments/{id}: how a file is served (the access rule is in test_tickets)."""

from __future__ import annotations

import pytest

from kefu.api.attachments import content_disposition


@pytest.mark.parametrize(
    ("stored", "header"),
    [
        ("报价单.txt", "attachment; filename=\"___.txt\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.txt"),
        ('a"b;c%d.txt', "attachment; filename=\"a_b_c_d.txt\"; filename*=UTF-8''a%22b%3Bc%25d.txt"),
        # A name stored before names were cleaned is cleaned when served.
        ("x\r\nSet-Cookie: a=b\u202e.txt", "attachment; filename=\"xSet-Cookie: a=b.txt\"; "
         "filename*=UTF-8''xSet-Cookie%3A%20a%3Db.txt"),
    ],
)  # fmt: skip
def test_the_name_is_sent_as_rfc_5987_with_an_ascii_fallback(stored, header):
    assert content_disposition(stored) == header
