"""WeChat's callback signatures and its safe-mode (安全模式) message encryption.

- ``signature``: SHA-1 of the token, timestamp and nonce sorted and joined (URL verification and
  plaintext messages); in safe mode ``msg_signature`` adds the encrypted text to the four.
- Encryption: AES-256-CBC with the 32 bytes of the EncodingAESKey (43 base64 characters, "="
  appended), the IV its first 16 bytes; the plaintext is 16 random bytes, the message's length
  (4 bytes, big-endian), the message and the AppID, padded PKCS#7-style to a multiple of 32.

Written from WeChat's documentation with ``cryptography``; the tests check it against wechatpy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
KEY_LENGTH = 43


class CryptoError(ValueError):
    """A message that does not decrypt, is padded wrongly or names another AppID."""


def signature(*parts: str) -> str:
    """The SHA-1 signature of ``parts`` (token, timestamp, nonce[, encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8"), usedforsecurity=False).hexdigest()


def signature_ok(expected: str, *parts: str) -> bool:
    return hmac.compare_digest(signature(*parts), expected.lower())


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key of an EncodingAESKey; ``ValueError`` for one that is not 43 base64 chars."""
    if len(encoding_aes_key) != KEY_LENGTH:
        raise ValueError("an EncodingAESKey has 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as e:
        raise ValueError("an EncodingAESKey is base64") from e
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


def encrypt(key: bytes, app_id: str, message: str, *, random: bytes | None = None) -> str:
    """``message`` encrypted for ``app_id`` (base64), as WeChat's ``Encrypt`` field."""
    body = message.encode("utf-8")
    plain = (random or os.urandom(16)) + struct.pack(">I", len(body)) + body + app_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def decrypt(key: bytes, app_id: str, encrypted: str) -> str:
    """The message inside an ``Encrypt`` field; ``CryptoError`` if it is not one for ``app_id``."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except binascii.Error as e:
        raise CryptoError("not base64") from e
    if not data or len(data) % 16:
        raise CryptoError("not a whole number of blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding")
    plain = plain[16:-pad]
    if len(plain) < 4:
        raise CryptoError("too short")
    (length,) = struct.unpack(">I", plain[:4])
    body, sender = plain[4 : 4 + length], plain[4 + length :]
    if len(body) != length or not hmac.compare_digest(sender, app_id.encode()):
        raise CryptoError("another AppID's message")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CryptoError("not UTF-8") from e
