"""A master key replaced (``KEFU_SECRET_KEY_PREVIOUS``): what kefu signed under the old key still
verifies while the old key is listed, and not after; every token says its format's version."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from kefu.domain.survey_links import NONCE_BYTES, Verdict, make_token, read_token
from kefu.errors import NotAuthenticated
from kefu.keyring import key_by_id, key_id, keys_for, previous_keys
from kefu.services.kb import feedback
from kefu.services.staff import pending_login
from kefu.services.webchat import visitor_tokens
from kefu.settings import Settings

OLD = "the-old-master-key-0123456789-abcdefghij"
NEW = "the-new-master-key-0123456789-abcdefghij"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def rotated(tmp_path):
    """NEW is the master key, OLD listed as its previous one; afterwards OLD is forgotten."""
    Settings(secret_key=NEW, secret_key_previous=OLD, data_dir=tmp_path)
    yield
    Settings(secret_key=NEW, data_dir=tmp_path)


def _forget(tmp_path) -> None:
    Settings(secret_key=NEW, data_dir=tmp_path)


def test_keys_have_public_ids_and_previous_ones_follow_the_current(rotated) -> None:
    assert keys_for(NEW) == (NEW, OLD) and previous_keys(NEW) == (OLD,)
    assert key_id(NEW) != key_id(OLD) and len(key_id(NEW)) == 8
    assert OLD not in key_id(OLD) and key_by_id(NEW, key_id(OLD)) == OLD
    assert key_by_id(NEW, key_id("unlisted")) is None


def test_a_survey_link_signed_under_the_old_key_still_answers(rotated, tmp_path) -> None:
    token = make_token(OLD, 7, NOW + timedelta(days=1), secrets.token_bytes(NONCE_BYTES))
    assert token.startswith("s1.")
    assert read_token(NEW, token, NOW, previous=previous_keys(NEW)).verdict == Verdict.OK
    _forget(tmp_path)
    assert read_token(NEW, token, NOW, previous=previous_keys(NEW)).verdict == Verdict.TAMPERED


def test_a_visitor_token_signed_under_the_old_key_still_reads(rotated, tmp_path) -> None:
    visitor = visitor_tokens.anonymous_visitor(3)
    token = visitor_tokens.issue(OLD, visitor, NOW)
    assert token.startswith("v1.")
    assert visitor_tokens.read(NEW, token, 3, NOW) == visitor
    _forget(tmp_path)
    assert visitor_tokens.read(NEW, token, 3, NOW) is None


def test_a_pending_sign_in_signed_under_the_old_key_still_counts(rotated, tmp_path) -> None:
    user = SimpleNamespace(id=42, password_hash="$argon2id$v=19$...")
    token = pending_login.issue(OLD, user, NOW)  # type: ignore[arg-type]
    assert token.startswith("p1.42.")
    assert pending_login.user_id_of(NEW, token, NOW) == 42
    with pytest.raises(NotAuthenticated):  # a token of the format before the version tag
        pending_login.user_id_of(NEW, token.removeprefix("p1."), NOW)
    _forget(tmp_path)
    with pytest.raises(NotAuthenticated):
        pending_login.user_id_of(NEW, token, NOW)


def test_a_feedback_token_carries_its_version_and_the_old_key_still_counts(
    rotated, tmp_path
) -> None:
    token = feedback.feedback_token(OLD, 5)
    version, mac = token.split(".")
    assert version == "f1" and len(mac) == 32
    assert feedback.token_is_genuine(NEW, 5, token)
    assert not feedback.token_is_genuine(NEW, 6, token)
    assert not feedback.token_is_genuine(NEW, 5, mac)  # no version: not a token kefu makes
    _forget(tmp_path)
    assert not feedback.token_is_genuine(NEW, 5, token)
