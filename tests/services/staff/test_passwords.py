"""Passwords: kefu's own argon2 parameters, and the cheap ones the test suite switches to."""

from __future__ import annotations

import subprocess
import sys

from kefu.services.staff import auth


def test_kefu_hashes_with_argon2id_at_its_default_cost_outside_the_test_suite() -> None:
    # The suite made hashing cheap in this process (tests/conftest.py); a fresh one is kefu.
    code = "from kefu.services.staff.auth import hash_password; print(hash_password('密码-2026'))"
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert shown.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert auth.verify_password(shown, "密码-2026")  # its parameters travel with it
    assert not auth.verify_password(shown, "密码-2027")


def test_a_hash_verifies_only_its_own_password() -> None:
    hashed = auth.hash_password("正确的密码")
    assert hashed.startswith("$argon2id$")
    assert auth.verify_password(hashed, "正确的密码")
    assert not auth.verify_password(hashed, "正确的密码 ")
    assert not auth.verify_password(None, "正确的密码")
    assert not auth.verify_password("not-a-hash", "正确的密码")
