"""Index terms and query plans: the pure half of search (services/search/tokens.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kefu.services.search.tokens import (
    MAX_QUERY_PIECES,
    find_spans,
    index_terms,
    parse_query,
    snippet,
)


def _matches(text: str, query: str) -> bool:
    """Whether the index terms of ``text`` satisfy the query plan, as the engines decide."""
    terms = set(index_terms(text))
    for piece in parse_query(query).pieces:
        if piece.prefix:
            ok = any(t.startswith(piece.terms[0]) for t in terms)
        else:
            ok = all(t in terms for t in piece.terms) or piece.word in terms
        if not ok:
            return False
    return True


def test_a_cjk_run_gives_its_bigrams_its_last_character_and_its_long_words():
    terms = index_terms("中华人民共和国快递员")
    assert "快递" in terms and "递员" in terms and "员" in terms
    assert "中华人民共和国" in terms and "共和国" in terms  # jieba search-mode words
    assert "中" not in terms  # a character that begins a bigram needs no term of its own


def test_a_word_finds_the_longer_word_holding_it():
    assert _matches("今天的快递员态度很差", "快递")
    assert _matches("今天的快递员态度很差", "递员")
    assert not _matches("今天的快递还没到", "快递员")


def test_traditional_and_simplified_find_each_other():
    assert _matches("快遞員說已經簽收了", "快递员")
    assert _matches("快递员说已经签收了", "快遞員")
    assert index_terms("頭髮") == index_terms("头发")


def test_full_width_letters_and_digits_are_half_width():
    assert _matches("订单号 SO20240101-001 的包裹", "ＳＯ２０２４０１０１－００１")
    assert index_terms("ｉＰｈｏｎｅ１５") == index_terms("iphone15")


def test_one_character_is_a_prefix_query_that_finds_it_anywhere_in_a_run():
    for text in ("我要退款", "退款", "退", "不想要了退"):
        assert _matches(text, "退"), text
    assert not _matches("我要换货", "退")


def test_order_numbers_phones_and_emails_are_terms_of_their_own():
    terms = index_terms("订单SO20240101-001，电话138-1234-5678，邮箱Wang.Li@Example.com")
    for term in ("so20240101-001", "so20240101", "13812345678", "wang.li@example.com"):
        assert term in terms
    plan = parse_query("SO20240101-001 13812345678 wang.li@example.com")
    assert plan.exact_terms == ("so20240101-001", "13812345678", "wang.li@example.com")


def test_a_number_is_found_whole_never_by_a_part():
    assert _matches("电话13812345678", "13812345678")
    assert _matches("电话 138-1234-5678", "13812345678")  # separators do not hide it
    assert _matches("电话13812345678", "138 1234 5678") is False  # three short numbers, not one
    assert not _matches("电话13812345678", "1381234")
    assert not _matches("电话13812345678", "5678")


def test_mixed_letters_and_digits_are_found_by_either_part():
    assert _matches("我的iphone15坏了", "iphone")
    assert _matches("我的iphone15坏了", "iphone15")
    assert not _matches("我的iphone15坏了", "iph")


def test_punctuation_and_emoji_make_no_query():
    assert parse_query("！!？?。，…😡").empty
    assert index_terms("！!？?。，…😡") == []


def test_a_long_query_is_cut_to_a_bounded_number_of_pieces():
    plan = parse_query(" ".join(f"词{i}" for i in range(200)))
    assert len(plan.pieces) == MAX_QUERY_PIECES


def test_the_engines_syntax_quotes_every_term():
    plan = parse_query("快递员 退 SO2024-01")
    assert plan.fts5() == '("快递" AND "递员") AND "退"* AND "so2024-01"'
    assert plan.tsquery() == "('快递' & '递员') & '退':* & 'so2024-01'"


def test_a_jieba_word_may_match_whole():
    plan = parse_query("中华人民共和国")
    assert plan.pieces[0].word == "中华人民共和国"
    assert "| '中华人民共和国'" in plan.tsquery()


def test_spans_point_into_the_original_text_whatever_its_width_or_script():
    text = "您好，快遞員說ＳＯ２０２４－０１已签收"
    spans = find_spans(text, parse_query("快递员 so2024-01"))
    assert [text[s:e] for s, e in spans] == ["快遞員", "ＳＯ２０２４－０１"]


def test_a_snippet_is_a_window_around_the_first_match_with_its_spans():
    text = "前言" * 60 + "我的快递员一直不接电话" + "后记" * 60
    cut = snippet(text, parse_query("快递员 电话"))
    assert cut.text.startswith("…") and cut.text.endswith("…")
    assert [cut.text[s:e] for s, e in cut.spans] == ["快递员", "电话"]
    assert len(cut.text) <= 82


def test_a_query_found_only_by_its_bigrams_marks_them():
    cut = snippet("快递很慢，递员不理人", parse_query("快递员"))
    assert [cut.text[s:e] for s, e in cut.spans] == ["快递", "递员"]


@given(st.text(alphabet="快递员退款订单号电话的了好SOso-0123456789 ，。!", max_size=40))
def test_every_substring_of_a_cjk_run_is_found(text):
    """Recall: a CJK substring of a text (what LIKE finds) is always found by the index."""
    runs = [r for r in "".join(c if "\u4e00" <= c <= "\u9fff" else " " for c in text).split()]
    for run in runs:
        for length in (1, 2, 3, 4):
            for start in range(max(0, len(run) - length + 1)):
                assert _matches(text, run[start : start + length])


@given(st.text(max_size=60))
def test_any_text_gives_terms_without_spaces_or_quotes(text):
    for term in index_terms(text):
        assert term and not any(ch.isspace() or ch in "\"'" for ch in term)
    plan = parse_query(text)
    for piece in plan.pieces:
        assert all(t and not any(ch.isspace() or ch in "\"'" for ch in t) for t in piece.terms)


@given(st.text(max_size=60))
def test_terms_hold_only_what_the_fts5_tokenizer_keeps_in_one_token(text):
    """SQLite's ``ascii`` tokenizer (tokenchars -_./@%+) must see each term as one token."""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_./@%+")
    for term in index_terms(text) + [t for p in parse_query(text).pieces for t in p.terms]:
        assert all(not ch.isascii() or ch in allowed for ch in term), term
