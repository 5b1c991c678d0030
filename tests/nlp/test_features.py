"""Character n-gram features: the same vector as scikit-learn's TfidfVectorizer, which trains them."""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from kefu.nlp.features import CharNgramSpace, char_ngrams

CORPUS = [
    "快递还没到",
    "快递到了，谢谢",
    "退款没到账！！",
    "质量太差了",
    "谢谢客服😊",
    "到底什么时候到",
]


def test_char_ngrams_by_length_then_position():
    assert char_ngrams("快递到", 1, 2) == ["快", "递", "到", "快递", "递到"]
    assert char_ngrams("好", 2, 3) == []
    assert char_ngrams("", 1, 4) == []


def _space(sublinear: bool) -> tuple[CharNgramSpace, TfidfVectorizer]:
    vectorizer = TfidfVectorizer(
        analyzer=partial(char_ngrams, n_min=1, n_max=3), sublinear_tf=sublinear
    )
    vectorizer.fit(CORPUS)
    return CharNgramSpace(
        1, 3, dict(vectorizer.vocabulary_), vectorizer.idf_.astype(np.float32), sublinear
    ), vectorizer


def test_encode_equals_sklearn_transform():
    for sublinear in (True, False):
        space, vectorizer = _space(sublinear)
        for text in ["快递快递快递还没到到底", "谢谢", "全新的句子"]:
            ids, values = space.encode(text)
            dense = np.zeros(space.size, np.float32)
            dense[ids] = values
            expected = vectorizer.transform([text]).toarray()[0]
            np.testing.assert_allclose(dense, expected, rtol=1e-5, atol=1e-6)


def test_unknown_or_empty_text_encodes_to_nothing():
    space, _ = _space(True)
    for text in ["", "abc", "🙃"]:
        ids, values = space.encode(text)
        assert len(ids) == len(values) == 0


def test_encode_batch_is_the_single_encodings_in_csr_form():
    space, _ = _space(True)
    texts = ["快递", "", "xyz", "退款没到账", "谢谢"]
    ids, values, offsets = space.encode_batch(texts)
    assert offsets[0] == 0 and offsets[-1] == len(ids) == len(values)
    for i, text in enumerate(texts):
        one_ids, one_values = space.encode(text)
        order = np.argsort(one_ids)
        np.testing.assert_array_equal(ids[offsets[i] : offsets[i + 1]], one_ids[order])
        np.testing.assert_allclose(
            values[offsets[i] : offsets[i + 1]], one_values[order], rtol=1e-5
        )
    shared = space.encode_batch(texts, grams=[char_ngrams(t, 1, 3) for t in texts])
    for mine, theirs in zip(shared, (ids, values, offsets), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert [len(a) for a in space.encode_batch([])] == [0, 0, 1]
