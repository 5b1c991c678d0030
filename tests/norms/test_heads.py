"""How a rule's learned head combines with its patterns (learned.Head.judges, checker._judged):
above ``add`` it raises the rule where no pattern hit, below ``veto`` it takes a pattern hit
back, the informal 你 stays whatever the head says, and a rule without a head is its patterns.
The heads here are made by hand (one n-gram each) so that each case is certain."""

from __future__ import annotations

import numpy as np

from kefu.norms import ReplyContext, Turn, check, learned
from kefu.norms.checker import clear_caches
from kefu.norms.learned import NEVER_ADD, NEVER_VETO, Head, gram_key
from kefu.norms.text import fold

CALM = ReplyContext(turns=(Turn("customer", "请问一下"),), customer_emotion="neutral")


def head(rule: str, gram: str, *, add: float = NEVER_ADD, veto: float = NEVER_VETO) -> Head:
    """A head that reads ``gram`` as p ≈ 0.99 and its absence as p ≈ 0.01."""
    return Head(
        name=rule,
        n_max=3,
        keys=np.array([gram_key(gram)], dtype=np.int64),
        idf=np.array([1.0]),
        weights=np.array([10.0]),
        bias=-5.0,
        threshold=min(add, 1.0),
        rule=rule,
        add=add,
        veto=veto,
    )


def found(reply: str, *heads: Head) -> dict[str, list[tuple[int, int]]]:
    """The spans of each rule with these heads and the shipped upset head only."""
    upset = learned.heads()["upset"]
    with learned.using({"upset": upset, **{h.name: h for h in heads}}):
        clear_caches()
        out: dict[str, list[tuple[int, int]]] = {}
        for f in check(reply, CALM):
            out.setdefault(f.rule, []).append((f.start, f.end))
    clear_caches()
    return out


def test_a_head_reads_its_gram_as_likely_and_its_absence_as_unlikely():
    h = head("dismissive", "算了")
    assert h.probability(fold("那就算了吧").text) > 0.99
    assert h.probability(fold("好的").text) < 0.01


def test_above_add_the_head_raises_a_rule_no_pattern_found_over_the_whole_reply():
    reply = "这种事您就当没发生算了。"
    assert "dismissive" not in found(reply)
    assert found(reply, head("dismissive", "算了", add=0.9))["dismissive"] == [(0, len(reply))]


def test_a_head_switched_off_for_adding_raises_nothing():
    assert "dismissive" not in found("这种事您就当没发生算了。", head("dismissive", "算了"))


def test_below_veto_the_head_takes_a_pattern_hit_back():
    reply = "这款净水器保证出水达到直饮标准，检测报告在详情页。"
    assert "over_promise" in found(reply)
    assert "over_promise" not in found(reply, head("over_promise", "一定", veto=0.1))
    # the head reads its gram: the hit stands
    assert "over_promise" in found(reply, head("over_promise", "保证", veto=0.1))


def test_a_veto_never_takes_back_the_informal_you():
    reply = "你自己去查物流。"
    plain = found(reply)["impolite"]
    vetoed = found(reply, head("impolite", "呵呵", veto=0.1))["impolite"]
    assert len(vetoed) == 1 and vetoed[0] == (0, 1)  # the 你, not 自己去查
    assert len(plain) == 2


def test_a_head_judges_only_its_own_rule():
    reply = "这个我们做不到。"
    assert "negative_refusal" in found(reply, head("over_promise", "一定", veto=0.1))


def test_judges_by_its_thresholds():
    h = head("vague_commitment", "回头", add=0.9, veto=0.1)
    yes, no = fold("回头再说").text, fold("明天上午").text
    assert h.judges(yes, hit=False) and not h.judges(no, hit=False)
    assert h.judges(yes, hit=True) and not h.judges(no, hit=True)
    off = head("vague_commitment", "回头")
    assert off.judges(no, hit=True) and not off.judges(yes, hit=False)
