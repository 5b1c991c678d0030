"""Artifacts: what training writes is what prediction reads; one text and a batch agree."""

from __future__ import annotations

import numpy as np
import pytest

from kefu.nlp.classifiers import load
from kefu.nlp.evaluate import RISKS
from kefu.nlp.signals import read, signal_matrix, signal_values
from tests.nlp_fixtures import TRIAGE

TEXTS = ["快递还没到", "", "谢谢客服😊", "充电宝冒烟了！！！", "abc", "退款" * 300]


def test_artifact_has_every_head_with_its_classes(tiny_model):
    models = load(tiny_model)
    risk_heads = {f"risk_{r}" for r in RISKS if any(r in row[5] for row in TRIAGE)}
    assert risk_heads, "the tiny data carries risks: each gets a learned head"
    assert (
        set(models.heads) == {"polarity", "sentiment", "emotion", "intent", "category"} | risk_heads
    )
    assert models.heads["polarity"].binary
    assert all(models.heads[h].binary and models.heads[h].threshold for h in risk_heads)
    assert (
        models.heads["category"].classes[0] == "logistics"
        and len(models.heads["category"].classes) == 9
    )
    assert models.manifest["seed"] == 13 and "messages/triage-dev.jsonl" in models.manifest["files"]
    assert all(h.version.startswith(h.name + ".") for h in models.heads.values())


def test_predict_and_predict_batch_agree(tiny_model):
    models = load(tiny_model)
    readings = [read(t) for t in TEXTS]
    batch = models.predict_batch(
        [r.text for r in readings], signal_matrix(readings, models.signal_names)
    )
    for i, reading in enumerate(readings):
        single = models.predict(reading.text, signal_values(reading, models.signal_names))
        for name, scores in single.items():
            np.testing.assert_allclose(batch[name][i], scores.values, rtol=1e-4, atol=1e-5)


def test_training_is_reproducible(tiny_data, tiny_model, tmp_path):
    from kefu.nlp.train import Recipe, SpaceRecipe, train

    again = tmp_path / "again.npz"
    train(tiny_data, again, recipe=Recipe(review_space=SpaceRecipe(min_df=1)), messages=tiny_data)
    first, second = load(tiny_model), load(again)
    for a, b in zip(first.weights, second.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_accurate_heads_read_the_embedding_and_agree_one_by_one(tiny_accurate_model):
    from kefu.nlp.classifiers import accurate_path
    from kefu.nlp.embedding import NAME, embedder

    models = load(accurate_path(tiny_accurate_model))
    assert models.embedding == NAME
    risk_heads = {f"risk_{r}" for r in RISKS if any(r in row[5] for row in TRIAGE)}
    assert set(models.heads) == {"sentiment", "emotion", "intent", "category"} | risk_heads
    assert all(
        h.embedding_weights is not None and h.embedding_weights.shape[0] == 384
        for h in models.heads.values()
    )
    readings = [read(t) for t in TEXTS]
    texts = [r.text for r in readings]
    vectors = embedder().embed(texts)
    batch = models.predict_batch(texts, signal_matrix(readings, models.signal_names), vectors)
    for i, reading in enumerate(readings):
        single = models.predict(
            reading.text, signal_values(reading, models.signal_names), vectors[i]
        )
        for name, scores in single.items():
            np.testing.assert_allclose(batch[name][i], scores.values, rtol=1e-4, atol=1e-5)
    # The embedding moves the decision: without it these heads are not the same function.
    zero = models.predict_batch(
        texts, signal_matrix(readings, models.signal_names), np.zeros_like(vectors)
    )
    assert not np.allclose(zero["emotion"], batch["emotion"])


def test_a_head_that_reads_an_embedding_refuses_to_run_without_one(tiny_accurate_model):
    from kefu.nlp.classifiers import accurate_path

    models = load(accurate_path(tiny_accurate_model))
    reading = read("快递还没到")
    with pytest.raises(ValueError, match="sentence embedding"):
        models.predict(reading.text, signal_values(reading, models.signal_names))


def test_accurate_training_is_reproducible(tiny_data, tiny_accurate_model, tmp_path):
    from kefu.nlp.classifiers import accurate_path
    from kefu.nlp.train import Recipe, SpaceRecipe, train

    again = tmp_path / "again.npz"
    train(
        tiny_data,
        again,
        recipe=Recipe(review_space=SpaceRecipe(min_df=1)),
        accurate=True,
        messages=tiny_data,
    )
    first, second = load(accurate_path(tiny_accurate_model)), load(accurate_path(again))
    for name, head in first.heads.items():
        np.testing.assert_array_equal(head.embedding_weights, second.heads[name].embedding_weights)
    for a, b in zip(first.weights, second.weights, strict=True):
        np.testing.assert_array_equal(a, b)
