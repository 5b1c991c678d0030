from kefu.domain.passwords import breached, problem


def test_short_breached_and_own_name_are_refused_a_passphrase_is_not():
    assert problem("short") == "密码至少 8 个字符。"
    assert problem("x" * 201) == "密码最多 200 个字符。"
    for known in ("password123", "qwertyuiop", "1qaz2wsx", "Iloveyou!"[:-1], "woaini1314"):
        assert problem(known) == "这个密码出现在已泄露的常用密码中，请换一个。", known
    assert problem("zhangwei2026!", email="zhangwei@demo.kefu") == "密码不能包含你的邮箱名。"
    assert problem("correct-horse-battery", email="zhang.wei@demo.kefu") is None
    assert problem("客服的长密码2026") is None
    assert len(breached()) > 30_000
