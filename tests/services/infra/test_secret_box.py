import pytest

from kefu.services.infra.secret_box import SecretUnreadable, seal, unseal


def test_a_sealed_secret_opens_with_the_same_key_only() -> None:
    sealed = seal("key-one", "邮箱密码 p@ss")
    assert "p@ss" not in sealed and sealed.startswith("v1:")
    assert unseal("key-one", sealed) == "邮箱密码 p@ss"
    with pytest.raises(SecretUnreadable):
        unseal("key-two", sealed)


def test_sealing_twice_gives_different_text() -> None:
    assert seal("k", "same") != seal("k", "same")


def test_an_altered_or_plain_value_is_unreadable() -> None:
    sealed = seal("k", "secret")
    altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    for bad in (altered, "secret", "v1:not-a-token"):
        with pytest.raises(SecretUnreadable):
            unseal("k", bad)
