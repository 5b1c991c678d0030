"""Every database column that holds a value sealed by ``services/infra/secret_box.py``, and the
purpose each is sealed for (its associated data: ``table.column``).

Sealing and opening name the column through ``purpose_of`` so the purpose written and the one
read can never drift apart, and ``kefu secrets reseal`` walks this list. A new sealed column is
added here (tests/services/infra/test_reseal.py checks no ``*_sealed`` column is missing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from kefu.db.models import (
    Integration,
    Mailbox,
    StaffTwoFactor,
    WebchatChannel,
    WebhookSource,
    WebhookSubscription,
    WechatAccessToken,
    WechatAccount,
)
from kefu.services.infra.secret_box import unseal

SEALED_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Mailbox.imap_password_sealed,
    Mailbox.smtp_password_sealed,
    StaffTwoFactor.secret_sealed,
    WebhookSource.secret_sealed,
    WebhookSubscription.secret_sealed,
    WechatAccount.app_secret_sealed,
    WechatAccount.token_sealed,
    WechatAccount.encoding_aes_key_sealed,
    WechatAccessToken.token,
    WebchatChannel.secret_sealed,
    Integration.callback_secret_sealed,
)


def purpose_of(column: InstrumentedAttribute[Any]) -> str:
    """What a value of ``column`` is sealed for: ``"mailboxes.imap_password_sealed"``."""
    return f"{column.class_.__tablename__}.{column.key}"


def opened(secret_key: str, row: object, column: InstrumentedAttribute[Any]) -> str:
    """The plaintext of ``row``'s sealed ``column`` (``SecretUnreadable`` when no key opens it)."""
    return unseal(secret_key, getattr(row, column.key), purpose=purpose_of(column))
