from kefu.domain.passwords import PRODUCT_WORDS, breached, context_words, problem


def test_short_breached_and_own_name_are_refused_a_passphrase_is_not():
    assert problem("short") == "密码至少 8 个字符。"
    assert problem("x" * 201) == "密码最多 200 个字符。"
    for known in ("password123", "qwertyuiop", "1qaz2wsx", "Iloveyou!"[:-1], "woaini1314"):
        assert problem(known) == "这个密码出现在已泄露的常用密码中，请换一个。", known
    assert problem("zhangwei2026!", email="zhangwei@demo.kefu") == "密码不能包含你的邮箱名。"
    assert problem("correct-horse-battery", email="zhang.wei@demo.kefu") is None
    assert problem("蓝鲸的长密码2026") is None
    assert len(breached()) > 30_000


def test_context_words_are_the_product_organisation_mail_domain_and_name_in_pinyin():
    words = context_words(
        email="zhang.wei@acme-shop.com.cn", name="张伟", organisation="蓝鲸 Store"
    )
    assert words[: len(PRODUCT_WORDS)] == ["kefu", "客服"]
    for word in (
        "acme-shop",
        "acmeshop",
        "蓝鲸 store",
        "蓝鲸store",
        "lanjingstore",
        "张伟",
        "zhangwei",
    ):
        assert word in words, word
    # "cn" and "com" say nothing of the organisation; a short mail domain or name is not a word.
    assert "cn" not in words and "com" not in words
    assert context_words(email="a@ab.cn", name="Li") == ["kefu", "客服"]


def test_context_words_are_refused_whatever_their_case_and_separators():
    barred = "密码不能包含“{}”（产品名、机构名、邮箱域名或你的名字）。"
    assert problem("I-love-KEFU-2026") == barred.format("kefu")
    assert problem("我们客服的长密码") == barred.format("客服")
    assert problem("acme.SHOP.2026!", email="li@acme-shop.cn") == barred.format("acmeshop")
    assert problem("Blue Whale Inc 2026", organisation="Blue Whale Inc") == barred.format(
        "blue whale inc"
    )
    assert problem("bluewhale-inc-2026", organisation="Blue Whale Inc") == barred.format(
        "bluewhaleinc"
    )
    assert problem("lanjing-forever-99", organisation="蓝鲸") == barred.format("lanjing")
    assert problem("Zhang-Wei-2026!", name="张伟") == barred.format("zhangwei")
    assert problem("我是张伟的长密码", name="张伟") == barred.format("张伟")
    assert (
        problem(
            "violet-harbour-kettle",
            email="zhang.wei@acme-shop.cn",
            name="张伟",
            organisation="蓝鲸",
        )
        is None
    )
