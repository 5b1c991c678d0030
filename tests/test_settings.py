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
        ("change-me-to-64-random-characters", "placeholder"),  # an earlier kefu.env.example
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


def test_the_shipped_example_file_holds_no_secret_and_alone_would_not_start(tmp_path, monkeypatch):
    """The secrets are systemd credentials (deploy/systemd): kefu.env names none, and without
    them a production start is refused."""
    example = Path(__file__).parents[1] / "deploy" / "systemd" / "kefu.env.example"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("KEFU_SECRET_KEY", raising=False)
    names = {
        ln.split("=", 1)[0] for ln in example.read_text(encoding="utf-8").splitlines()
        if ln and not ln.startswith("#")
    }  # fmt: skip
    secrets_ = {
        "KEFU_SECRET_KEY",
        "KEFU_DATABASE_URL",
        "KEFU_MIGRATE_DATABASE_URL",
        "KEFU_REDIS_URL",
    }
    assert names.isdisjoint(secrets_)
    with pytest.raises(ValidationError, match="must be set"):
        Settings(_env_file=example, data_dir=tmp_path)  # type: ignore[call-arg]


KEY = "k" * 40


def test_secrets_are_read_from_the_files_named(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    (tmp_path / "key").write_text(KEY + "\n", encoding="utf-8")  # the newline an editor leaves
    (tmp_path / "db").write_text("postgresql+psycopg://kefu:pw@db/kefu", encoding="utf-8")
    (tmp_path / "redis").write_text("redis://127.0.0.1:6379/0", encoding="utf-8")
    made = Settings(env="production", data_dir=tmp_path, secret_key_file=tmp_path / "key",
                    database_url_file=tmp_path / "db", redis_url_file=tmp_path / "redis")  # fmt: skip
    assert made.secret_key == KEY
    assert made.database_url == "postgresql+psycopg://kefu:pw@db/kefu"
    assert made.redis_url == "redis://127.0.0.1:6379/0"


def test_systemd_credentials_are_read_from_the_credentials_directory(tmp_path, monkeypatch):
    (tmp_path / "kefu-secret-key").write_text(KEY, encoding="utf-8")
    (tmp_path / "kefu-secret-key-previous").write_text("old-1 old-2", encoding="utf-8")
    (tmp_path / "kefu-database-url").write_text("sqlite:///x.db", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    made = Settings(env="production", data_dir=tmp_path)
    assert (made.secret_key, made.database_url) == (KEY, "sqlite:///x.db")
    assert made.previous_secret_keys == ("old-1", "old-2") and made.redis_url is None


def test_a_value_given_twice_is_refused_without_showing_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    (tmp_path / "key").write_text(KEY, encoding="utf-8")
    with pytest.raises(ValidationError, match="KEFU_SECRET_KEY and KEFU_SECRET_KEY_FILE") as e:
        Settings(secret_key="the-value-itself", secret_key_file=tmp_path / "key", data_dir=tmp_path)
    assert "the-value-itself" not in str(e.value) and KEY not in str(e.value)

    (tmp_path / "kefu-database-url").write_text("sqlite:///x.db", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("KEFU_DATABASE_URL", "sqlite:///y.db")
    with pytest.raises(ValidationError, match="KEFU_DATABASE_URL and the systemd credential"):
        Settings(data_dir=tmp_path)


def test_a_file_that_cannot_be_read_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ValidationError, match="KEFU_SECRET_KEY_FILE: cannot read"):
        Settings(secret_key_file=tmp_path / "missing", data_dir=tmp_path)
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="KEFU_REDIS_URL_FILE: .* is empty"):
        Settings(redis_url_file=tmp_path / "empty", data_dir=tmp_path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValidationError, match="KEFU_DATABASE_URL_FILE: cannot read"):
        Settings(database_url_file=tmp_path / "folder", data_dir=tmp_path)


def test_the_environment_names_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    (tmp_path / "key").write_text(KEY, encoding="utf-8")
    monkeypatch.setenv("KEFU_SECRET_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.delenv("KEFU_SECRET_KEY", raising=False)
    assert Settings(env="production", data_dir=tmp_path).secret_key == KEY
