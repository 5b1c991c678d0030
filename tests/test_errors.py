import pytest

from kefu.errors import KefuError, NotFound, pick_language, render_message


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR, en;q=0.5", "en"),
        ("de", "zh-CN"),
        ("en;q=bad", "zh-CN"),
        ("zh-TW", "zh-CN"),
    ],
)
def test_pick_language(header, language):
    assert pick_language(header) == language


def test_messages_in_both_languages():
    assert NotFound("customer").message("zh-CN") == "客户不存在或无权访问"
    assert NotFound("customer").message("en") == "Customer not found"
    assert (
        KefuError("payload_too_large", limit=10).message("en")
        == "The request body exceeds 10 bytes"
    )


def test_unknown_code_and_missing_params_do_not_raise():
    assert render_message("no-such-code", "en") == "Internal server error"
    assert render_message("payload_too_large", "en") == "The request body exceeds {limit} bytes"
