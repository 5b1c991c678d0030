"""Two-factor sign-in rules (TOTP, RFC 6238, and recovery codes), without I/O.

A code is accepted for the time step it was made in or the one either side (a phone's clock a
little off, a code typed as its step ends), and only for a step later than the last code
accepted for the account: the same code, seen by someone over a shoulder, never works twice.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp

ISSUER = "kefu"
STEP_SECONDS = 30
DRIFT_STEPS = 1  # steps accepted either side of now
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def normal_code(code: str) -> str:
    """What was typed, without the spaces and dashes people put in codes."""
    return "".join(ch for ch in code if ch not in " -\u3000").lower()


def matching_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    """The time step whose TOTP code ``code`` is (within the drift), if later than ``after``."""
    code = normal_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten single-use codes of 10 characters (about 50 bits each), shown as ``xxxxx-xxxxx``."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def looks_like_recovery_code(code: str) -> bool:
    normal = normal_code(code)
    return len(normal) == 10 and all(ch in _RECOVERY_ALPHABET for ch in normal)
