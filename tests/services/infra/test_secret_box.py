"""The secret box: new values are AES-256-GCM (``v2:``) bound to their purpose and key id; the
earlier Fernet values (``v1:``) still open; a previous master key still opens what it sealed."""

import base64

import pytest

from kefu.keyring import key_id, keys_for
from kefu.services.infra.secret_box import NONCE_BYTES, SecretUnreadable, is_current, seal, unseal
from kefu.settings import Settings

OLD_KEY = "an-old-master-key-of-kefu-0123456789"
# Sealed by kefu before v2 (the v1 format, Fernet), as such values sit in databases today.
V1_VALUE = (
    "v1:gAAAAABrFyXQi3QDp3EJk1Xe6e9XyCc1bBep9Kf7SCyFRqWk917iGxK-zOMqRBGKRIj7DoBPD-l7Kx3QGU4tyb"
    "W6XrGsyKByF49ZNh_PciS3PmggMppjidM="
)
PURPOSE = "mailboxes.imap_password_sealed"


def test_a_v1_value_sealed_by_earlier_kefu_still_opens() -> None:
    assert unseal(OLD_KEY, V1_VALUE, purpose=PURPOSE) == "邮箱密码 p@ss"
    assert not is_current(OLD_KEY, V1_VALUE)
    with pytest.raises(SecretUnreadable):
        unseal("another-key", V1_VALUE, purpose=PURPOSE)


def test_a_v2_value_round_trips_under_its_key_and_purpose_only() -> None:
    sealed = seal("key-one", "邮箱密码 p@ss", purpose=PURPOSE)
    version, kid, body = sealed.split(":")
    assert (version, kid) == ("v2", key_id("key-one")) and "p@ss" not in sealed
    # 96-bit nonce, the ciphertext (as long as the text), the 128-bit GCM tag
    assert len(base64.urlsafe_b64decode(body)) == NONCE_BYTES + len("邮箱密码 p@ss".encode()) + 16
    assert unseal("key-one", sealed, purpose=PURPOSE) == "邮箱密码 p@ss"
    assert is_current("key-one", sealed) and not is_current("key-two", sealed)
    with pytest.raises(SecretUnreadable):
        unseal("key-two", sealed, purpose=PURPOSE)
    with pytest.raises(SecretUnreadable):  # copied into another column, it does not open
        unseal("key-one", sealed, purpose="webhook_sources.secret_sealed")


def test_sealing_twice_gives_different_text() -> None:
    assert seal("k", "same", purpose=PURPOSE) != seal("k", "same", purpose=PURPOSE)


def test_a_tampered_v2_value_is_refused() -> None:
    sealed = seal("k", "secret", purpose=PURPOSE)
    prefix, body = sealed.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    tampered = []
    for at in (0, NONCE_BYTES, len(raw) - 1):  # the nonce, the ciphertext, the tag
        changed = bytearray(raw)
        changed[at] ^= 0x01
        tampered.append(f"{prefix}:{base64.urlsafe_b64encode(bytes(changed)).decode()}")
    tampered += [
        f"{prefix}:{base64.urlsafe_b64encode(bytes(raw[:-1])).decode()}",  # cut short
        f"v2:{key_id('other')}:{body}",  # another key's id
        f"{prefix}:",
        "v2:",
        "secret",
        "v1:not-a-token",
        "v3:" + sealed[3:],
    ]
    for bad in tampered:
        with pytest.raises(SecretUnreadable):
            unseal("k", bad, purpose=PURPOSE)


def test_a_previous_key_still_opens_what_it_sealed(tmp_path) -> None:
    old_v2 = seal(OLD_KEY, "webhook secret", purpose=PURPOSE)
    new_key = "a-new-master-key-of-kefu-9876543210"
    with pytest.raises(SecretUnreadable):
        unseal(new_key, old_v2, purpose=PURPOSE)

    Settings(secret_key=new_key, secret_key_previous=f" {OLD_KEY}, another ", data_dir=tmp_path)
    assert keys_for(new_key) == (new_key, OLD_KEY, "another")
    assert unseal(new_key, old_v2, purpose=PURPOSE) == "webhook secret"
    assert unseal(new_key, V1_VALUE, purpose=PURPOSE) == "邮箱密码 p@ss"
    assert not is_current(new_key, old_v2)  # `kefu secrets reseal` moves it

    Settings(secret_key=new_key, data_dir=tmp_path)  # the old key dropped again
    with pytest.raises(SecretUnreadable):
        unseal(new_key, old_v2, purpose=PURPOSE)
