"""How the checker reads the customer's turns (norms/customer.py): what it remembers between
checks is its readings (an emotion, upset or not) by the text's digest, never the customer's
words; the learned heads' n-gram counts last one check (ASVS V14.2.2)."""

from __future__ import annotations

import uuid

from kefu.norms import customer
from kefu.norms.checker import check, clear_caches
from kefu.norms.model import ReplyContext


def _held() -> list[object]:
    memos = (customer._upset_seen, customer._emotion_seen)
    return [item for memo in memos for pair in memo.answers.items() for item in pair]


def test_the_checker_remembers_readings_of_customer_texts_not_the_texts():
    clear_caches()
    words = f"我的订单{uuid.uuid4().hex[:8]}一直没到，急死了"
    context = ReplyContext.from_turns([{"role": "customer", "text": words}])
    first = check("好的。", context)
    assert check("好的。", context) == first  # the second check reads from memory
    held = _held()
    assert held  # it remembers something: the readings
    for item in held:
        assert isinstance(item, (bytes, bool, str))
        assert not isinstance(item, str) or len(item) < 20  # an emotion's name
        assert words.encode() not in (item if isinstance(item, bytes) else str(item).encode())
        assert not isinstance(item, bytes) or len(item) == 32  # a SHA-256
    for reading in (customer.folded_customer, customer._statements, customer.customer_emotion):
        assert not hasattr(reading, "cache_info")  # no functools cache keyed by the text
    assert "missing_empathy" in {f.rule for f in first}  # and the reading still counts


def test_the_memory_is_bounded_and_forgets_the_oldest():
    memo: customer._ByDigest[int] = customer._ByDigest(2)
    calls: list[str] = []
    for text in ("一", "二", "一", "三", "二"):
        memo.get(text, lambda text=text: calls.append(text) or len(calls))
    # 一 and 二 read once each; 一 again from memory; 三 pushes out 二 (the oldest used)
    assert calls == ["一", "二", "三", "二"]
    assert len(memo.answers) == 2


def test_a_texts_ngrams_are_shared_within_a_check_and_kept_by_nothing_after():
    from kefu.norms import learned

    folded = customer.folded_customer("快递一直没到，我很着急")
    with learned.one_check():
        assert learned.grams(folded) is learned.grams(folded)  # counted once for every head
    assert learned.grams(folded) is not learned.grams(folded)  # outside a check: nothing kept
    check("好的。", ReplyContext.from_turns([{"role": "customer", "text": "我很着急"}]))
    assert learned._this_check.get() is None  # the check's counts went with it
