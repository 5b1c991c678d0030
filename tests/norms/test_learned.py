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
        assert head.space.size == len(head.weights) > 1000
        assert spec["cv"]["precision"] >= 0.85, name  # 5-fold, out of fold


@pytest.mark.parametrize("text", ["", "😀", "？？？", "a" * 3000, "\ufffd"])
def test_any_text_gets_a_probability(text):
    for head in learned.heads().values():
        assert 0.0 <= head.probability(fold(text).text) <= 1.0


def test_the_upset_head_reads_a_loss_told_calmly_and_not_a_question():
    upset = learned.heads()["upset"]
    assert upset.says(fold("寄来的台灯灯罩裂了一道口子").text)
    assert not upset.says(fold("请问营业厅几点关门").text)
