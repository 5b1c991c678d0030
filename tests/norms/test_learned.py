"""The checker's learned heads (kefu.norms.learned): the shipped artifact loads, says what its
manifest says, and reads any text without raising."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kefu.norms import learned
from kefu.norms.text import fold


def test_the_artifact_holds_both_heads_with_their_thresholds_and_cross_validation():
    heads = learned.heads()
    assert set(heads) == {"blame", "upset"}
    with np.load(learned.ARTIFACT) as npz:
        manifest = json.loads(str(npz["manifest"]))
    assert set(manifest["files"]) == {"norms-dev.jsonl", "norms-check.jsonl", "norms-holdout.jsonl"}
    for name, head in heads.items():
        spec = manifest["heads"][name]
        assert head.threshold == spec["threshold"]
        assert len(head.keys) == len(head.weights) > 1000
        assert (head.keys[1:] > head.keys[:-1]).all()  # sorted, no two n-grams share a key
        assert spec["cv"]["precision"] >= 0.85, name  # 5-fold, out of fold


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
        manifest = json.loads(str(npz["manifest"]))
        for name, head in learned.heads().items():
            vocab = str(npz[f"{name}_vocab"]).split(learned.SEPARATOR)
            space = CharNgramSpace(1, 3, {g: i for i, g in enumerate(vocab)}, npz[f"{name}_idf"])
            weights, bias = npz[f"{name}_weights"], manifest["heads"][name]["bias"]
            for text in ["您好，这是快递那边的问题。", "😀", "\x00ab", "延误是机场安排的。" * 20]:
                ids, values = space.encode(fold(text).text)
                score = (float(values @ weights[ids]) if len(ids) else 0.0) + bias
                expected = 1.0 / (1.0 + np.exp(-score))
                assert head.probability(fold(text).text) == pytest.approx(expected, abs=1e-6)
