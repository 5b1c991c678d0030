"""Harder copies of questions for training: deterministic, and what they claim to be."""

from __future__ import annotations

from kefu.retrieval.augment import KINDS, OPENINGS, variants


def test_variants_are_deterministic_per_seed():
    assert variants("退款多久到账？", seed=3) == variants("退款多久到账？", seed=3)
    assert set(variants("退款多久到账？", seed=3)) == set(KINDS)


def test_each_kind_reads_as_named():
    copies = variants("请问，退款多久到账？", seed=7)
    assert copies["traditional"] == "請問，退款多久到賬？"
    assert not any(p in copies["voice"] for p in "，？")
    assert copies["story"].endswith("请问，退款多久到账？")
    assert any(copies["story"].startswith(o) for o in OPENINGS)
