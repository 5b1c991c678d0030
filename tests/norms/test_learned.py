"""The checker's learned heads (kefu.norms.learned): the shipped artifact loads, says what its
manifest says, and reads any text without raising."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kefu.norms import learned
from kefu.norms.text import fold
from kefu.norms.train import ADDS, RULE_HEADS, VETOES


def manifest() -> dict:
    with np.load(learned.ARTIFACT) as npz:
        return json.loads(str(npz["manifest"]))


def test_the_artifact_holds_the_upset_head_and_one_head_per_judged_rule():
    heads = learned.heads()
    assert set(manifest()["heads"]) == {"upset", *RULE_HEADS}
    switched_on = {name for name in RULE_HEADS if not manifest()["heads"][name].get("off")}
    assert set(heads) == {"upset", *switched_on}  # a head switched off ships no weights
    files = set(manifest()["files"])
    assert files == {
        "norms-dev.jsonl",
        "norms-check.jsonl",
        "norms-holdout.jsonl",
        "norms-fresh.jsonl",
    }  # set D (norms-fresh2.jsonl) is never trained on
    for name, head in heads.items():
        spec = manifest()["heads"][name]
        assert head.threshold == spec["threshold"]
        assert len(head.keys) == len(head.weights) > 1000
        assert (head.keys[1:] > head.keys[:-1]).all()  # sorted, no two n-grams share a key
    assert manifest()["heads"]["upset"]["cv"]["precision"] >= 0.85  # 5-fold, out of fold


def test_each_rule_head_judges_its_rule_with_thresholds_of_the_grid_and_costs_no_errors():
    for name, rule in RULE_HEADS.items():
        spec = manifest()["heads"][name]
        assert spec["rule"] == rule and spec["add"] in ADDS and spec["veto"] in VETOES
        if not spec.get("off"):
            head = learned.heads()[name]
            assert (head.rule, head.add, head.veto) == (rule, spec["add"], spec["veto"])
        cv = spec["cv"]["untuned"]  # out of fold, on the rows no rule was written from
        assert cv["rule_and_head"]["errors"] <= cv["rule"]["errors"], name


@pytest.mark.parametrize("text", ["", "😀", "？？？", "a" * 3000, "\ufffd"])
def test_any_text_gets_a_probability(text):
    for head in learned.heads().values():
        assert 0.0 <= head.probability(fold(text).text) <= 1.0


def test_the_upset_head_reads_a_loss_told_calmly_and_not_a_question():
    upset = learned.heads()["upset"]
    assert upset.says(fold("寄来的台灯灯罩裂了一道口子").text)
    assert not upset.says(fold("请问营业厅几点关门").text)


def test_reading_by_integer_keys_equals_the_tf_idf_of_kefu_nlp_features():
    from kefu.nlp.features import CharNgramSpace

    with np.load(learned.ARTIFACT) as npz:
        for name, head in learned.heads().items():
            vocab = str(npz[f"{name}_vocab"]).split(learned.SEPARATOR)
            space = CharNgramSpace(1, 3, {g: i for i, g in enumerate(vocab)}, npz[f"{name}_idf"])
            weights, bias = npz[f"{name}_weights"], manifest()["heads"][name]["bias"]
            for text in ["您好，这是快递那边的问题。", "😀", "\x00ab", "延误是机场安排的。" * 20]:
                ids, values = space.encode(fold(text).text)
                score = (float(values @ weights[ids]) if len(ids) else 0.0) + bias
                expected = 1.0 / (1.0 + np.exp(-score))
                assert head.probability(fold(text).text) == pytest.approx(expected, abs=1e-6)
