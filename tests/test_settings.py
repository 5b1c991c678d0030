"""Settings refuse a production start on a master key anyone could know."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from kefu.settings import DEVELOPMENT_SECRET, Settings


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (DEVELOPMENT_SECRET, "must be set"),
        ("change-me-to-64-random-characters", "placeholder"),  # deploy/systemd/kefu.env.example
        ("CHANGE-ME-please-with-a-long-random-value-here", "placeholder"),
        ("short-but-mine", "at least 32"),
    ],
)
def test_production_refuses_a_key_anyone_could_know(key, reason, tmp_path):
    with pytest.raises(ValidationError, match=reason):
        Settings(env="production", secret_key=key, data_dir=tmp_path)


def test_production_takes_a_long_random_key_and_development_any(tmp_path):
    key = secrets.token_urlsafe(32)
    assert Settings(env="production", secret_key=key, data_dir=tmp_path).secret_key == key
    assert Settings(env="development", secret_key="x", data_dir=tmp_path).secret_key == "x"


def test_the_shipped_example_file_would_not_start(tmp_path):
    example = Path(__file__).parents[1] / "deploy" / "systemd" / "kefu.env.example"
    line = next(
        ln for ln in example.read_text(encoding="utf-8").splitlines()
        if ln.startswith("KEFU_SECRET_KEY=")
    )  # fmt: skip
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(env="production", secret_key=line.split("=", 1)[1].strip(), data_dir=tmp_path)
