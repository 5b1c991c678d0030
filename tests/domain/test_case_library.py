"""The case library's pure rules: the entry of an archived case, outcome tiers, the ranking of
similar cases, and the knowledge-base draft."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain import case_library as lib
from kefu.domain.case_loop import Case, CasePath, Compensation, Stage
from kefu.domain.roles import Role

ARCHIVED = Case(
    CasePath.COMPLAINT, Stage.ARCHIVED, facts="李先生的订单SL20240615 洗衣机漏水，电话13912345678",
    category="quality", five_whys=("为什么漏水？进水管松动",), solution="上门更换进水管",
    compensation=Compensation("coupon", 30_00, Role.AGENT), rating=4, lesson="安装后做通水测试",
)  # fmt: skip


def test_an_archived_case_becomes_an_anonymised_entry():
    entry = lib.entry_of(ARCHIVED, lib.CaseContext(tags=("售后", "VIP 王芳"),
                                                   known=(("王芳", "【客户】"),)))  # fmt: skip
    assert entry.problem == "【姓名】的订单【单号】 洗衣机漏水，电话【手机号】"
    assert entry.title == "【姓名】的订单【单号】 洗衣机漏水"
    assert (entry.root_cause, entry.solution, entry.lesson) == (
        "为什么漏水？进水管松动", "上门更换进水管", "安装后做通水测试")  # fmt: skip
    assert (entry.compensation_kind, entry.compensation_amount) == ("coupon", 30_00)
    assert entry.tags == ("售后", "VIP 【客户】")
    assert (entry.first_time, entry.reopen_count, entry.rating) == (True, 0, 4)


def test_the_customers_words_stand_in_when_no_facts_were_recorded_and_a_rejected_offer_is_none():
    rejected = Compensation("cash", 500_00, Role.AGENT, rejected_by=Role.SUPERVISOR, comment="太高")
    case = Case(CasePath.COMPLAINT, Stage.ARCHIVED, compensation=rejected)
    entry = lib.entry_of(case, lib.CaseContext(first_message="空调不制冷。师傅一直没来",
                                               reopen_count=2, category="quality"))  # fmt: skip
    assert (entry.title, entry.problem) == ("空调不制冷", "空调不制冷。师傅一直没来")
    assert entry.compensation_kind is None and entry.compensation_amount is None
    assert (entry.first_time, entry.reopen_count, entry.category) == (False, 2, "quality")
    long = lib.entry_of(Case(CasePath.COMPLAINT, Stage.ARCHIVED, facts="很" * 500),
                        lib.CaseContext())  # fmt: skip
    assert len(long.problem) == lib.PROBLEM_CHARS and long.problem.endswith("…")
    assert len(long.title) == lib.TITLE_CHARS
    assert lib.title_of("你好，在吗？支付的时候卡了一下，被扣了两次钱") == "支付的时候卡了一下"
    assert lib.title_of("Hello!") == "Hello!"
    assert lib.title_of("麻烦问一下，发票开错了抬头") == "发票开错了抬头"
    assert lib.title_of("订单【单号】，还没发货，急用") == "订单【单号】，还没发货"
    assert lib.title_of("再问一次！退款到底什么时候到") == "再问一次！退款到底什么时候到"


def test_outcome_tiers_put_first_time_and_well_rated_first_and_reopened_last():
    tiers = [
        lib.Outcome(True, 0, 5),
        lib.Outcome(True, 0, None),
        lib.Outcome(True, 0, 2),
        lib.Outcome(False, 0, 5),
        lib.Outcome(False, 1, 5),
        lib.Outcome(False, 3, 5),
    ]
    assert [o.tier for o in tiers] == sorted(o.tier for o in tiers)
    assert len({o.tier for o in tiers}) == len(tiers)
    assert lib.Outcome(False, 1, 2).chips == ("not_first_time", "reopened", "rated_poor")
    assert lib.Outcome(True, 0, 4).chips == ("first_time", "rated_good")


WELL_RATED = lib.Outcome(True, 0, 5)


def _candidate(id_, score, category="logistics", outcome=WELL_RATED):
    return lib.Candidate(id_, score, category, outcome)


def test_rank_offers_good_matches_by_outcome_and_drops_weak_ones():
    reopened = lib.Outcome(False, 1, 5)
    unrated = lib.Outcome(True, 0, None)
    found = lib.rank(
        [
            _candidate(1, 0.30, outcome=reopened),  # most similar, but reopened
            _candidate(2, 0.20),  # good and well rated
            _candidate(3, 0.20, outcome=unrated),
            _candidate(4, 0.05),  # too weak in itself
            _candidate(5, 0.07, category="account_privacy"),  # below a third of the best
        ],
        "logistics",
        limit=5,
    )
    assert [m.id for m in found] == [2, 3, 1]
    assert found[0].same_category and found[0].score == 0.25


def test_rank_puts_the_same_category_first():
    found = lib.rank([_candidate(1, 0.20, "quality"), _candidate(2, 0.20)], "logistics", limit=2)
    assert [m.id for m in found] == [2, 1]
    reopened = lib.Outcome(False, 1, 3)
    found = lib.rank([_candidate(1, 0.30, "quality"), _candidate(2, 0.15, outcome=reopened)],
                     "logistics", limit=2)  # fmt: skip
    assert [m.id for m in found] == [2, 1]  # a shared product name is not the same problem
    assert lib.rank([], "logistics", limit=3) == []
    assert [m.id for m in lib.rank([_candidate(i, 0.5) for i in range(9)], None, limit=3)] == [
        0,
        1,
        2,
    ]


@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.booleans(),
                          st.one_of(st.none(), st.integers(1, 5))), max_size=20))  # fmt: skip
def test_rank_never_offers_below_the_floor_and_keeps_category_then_outcome_order(rows):
    candidates = [
        lib.Candidate(i, s, ("logistics", "quality")[i % 2],
                      lib.Outcome(first and not reopens, reopens, rating))
        for i, (s, reopens, first, rating) in enumerate(rows)
    ]  # fmt: skip
    found = lib.rank(candidates, "logistics", limit=20)
    assert all(m.score >= lib.MIN_SCORE for m in found)
    order = [(not m.same_category, m.outcome.tier) for m in found]
    assert order == sorted(order)


def test_the_article_draft_has_the_entrys_sections_and_tags():
    draft = lib.article_draft(title="洗衣机漏水", problem="洗衣机漏水", root_cause="进水管松动",
                              solution="上门更换进水管", compensation="", lesson="通水测试",
                              category="quality", tags=["售后", "案例库"])  # fmt: skip
    assert draft.title == "洗衣机漏水" and draft.category == "quality"
    assert draft.tags == ("案例库", "售后")
    assert draft.body == ("## 问题\n\n洗衣机漏水\n\n## 原因\n\n进水管松动\n\n"
                          "## 处理方法\n\n上门更换进水管\n\n## 经验\n\n通水测试")  # fmt: skip
