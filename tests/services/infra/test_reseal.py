"""``kefu secrets reseal``: every sealed column moved to v2 under the current master key, in
batches, idempotent, counted; values no key opens are left and counted."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.engine import make_session_factory
from kefu.db.models import (
    Base,
    Integration,
    Mailbox,
    StaffTwoFactor,
    WebchatChannel,
    WebhookSource,
    WebhookSubscription,
    WechatAccessToken,
    WechatAccount,
)
from kefu.services.infra.reseal import reseal_all
from kefu.services.infra.sealed_columns import SEALED_COLUMNS, purpose_of
from kefu.services.infra.secret_box import is_current, seal, unseal
from kefu.services.mail.mailboxes import imap_settings_of, smtp_login_of
from kefu.services.wechat.accounts import keys_of
from kefu.settings import Settings, get_settings
from tests import factories
from tests.services.infra.test_secret_box import OLD_KEY, V1_VALUE

NEW_KEY = "the-new-master-key-of-kefu-after-rotation"
runner = CliRunner()
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # an EncodingAESKey: 43 characters


def test_every_sealed_column_is_listed() -> None:
    sealed = {f"{t.name}.{c.name}" for t in Base.metadata.tables.values() for c in t.columns
              if c.name.endswith("_sealed")}  # fmt: skip
    listed = {purpose_of(column) for column in SEALED_COLUMNS}
    assert sealed <= listed and listed - sealed == {"wechat_access_tokens.token"}


def _old(column, text: str, *, v1: bool = False) -> str:
    """``text`` as the old key sealed it for ``column``: v2 under the old key, or a v1 value."""
    return V1_VALUE if v1 else seal(OLD_KEY, text, purpose=purpose_of(column))


def _fill(db, *, unreadable: bool = False) -> None:
    """A row in every sealed column's table, each value sealed under the old key (v1 or v2)."""
    user = factories.make_user(db)
    db.add(
        StaffTwoFactor(
            user_id=user.id, secret_sealed=_old(StaffTwoFactor.secret_sealed, "TOTPSECRET")
        )
    )
    for n in range(3):  # more rows than a batch
        db.add(Mailbox(name=f"mb{n}", address=f"mb{n}@example.cn", imap_host="127.0.0.1",
                       imap_password_sealed=_old(Mailbox.imap_password_sealed, "", v1=True),
                       smtp_password_sealed=_old(Mailbox.smtp_password_sealed, f"smtp-{n}")))  # fmt: skip
    db.add(WebhookSource(key="sms-gw", name="短信", kinds=["sms.received"],
                         secret_sealed=_old(WebhookSource.secret_sealed, "whsec_source")))  # fmt: skip
    db.add(WebhookSubscription(url="https://example.cn/hook", events=["ticket.created"],
                               secret_sealed=_old(WebhookSubscription.secret_sealed, "whsec_sub")))  # fmt: skip
    account = WechatAccount(
        key="wx_reseal", name="公众号", app_id="wx123",
        app_secret_sealed=_old(WechatAccount.app_secret_sealed, "app-secret"),
        token_sealed=_old(WechatAccount.token_sealed, "callbackToken"),
        encoding_aes_key_sealed=_old(WechatAccount.encoding_aes_key_sealed, AES_KEY),
    )  # fmt: skip
    db.add(account)
    db.flush()
    db.add(WebchatChannel(key="wc_reseal", name="官网",
                          secret_sealed=_old(WebchatChannel.secret_sealed, "site-secret")))  # fmt: skip
    db.add(Integration(name="回调", channels=["api"], prefix="kefu_int_reseal", token_hash="0" * 64,
                       callback_url="https://shop.example.cn/cb",
                       callback_secret_sealed=_old(Integration.callback_secret_sealed, "kefu_cb_x")))  # fmt: skip
    db.add(
        Integration(name="无回调", channels=["api"], prefix="kefu_int_none", token_hash="1" * 64)
    )
    token = "v1:junk-no-key-opens" if unreadable else _old(WechatAccessToken.token, "access-token")
    db.add(WechatAccessToken(account_id=account.id, token=token, refreshes=1))
    db.commit()


def _values(db) -> dict[str, list[str]]:
    db.rollback()  # a fresh snapshot: the reseal wrote through its own sessions
    return {purpose_of(c): list(db.scalars(select(c).where(c.is_not(None))  # no callback: NULL
                                           .order_by(c.class_.__mapper__.primary_key[0])))
            for c in SEALED_COLUMNS}  # fmt: skip


def test_reseal_moves_every_column_to_the_new_key(db, engine, tmp_path) -> None:
    _fill(db)
    Settings(secret_key=NEW_KEY, secret_key_previous=OLD_KEY, data_dir=tmp_path)
    sessions = make_session_factory(engine)
    before = _values(db)

    dry = reseal_all(sessions, NEW_KEY, dry_run=True, batch_rows=2)
    assert dry.total("resealed") == 15 and dry.total("current") == 0
    assert {"webchat_channels.secret_sealed", "integrations.callback_secret_sealed"} <= set(
        dry.columns
    )
    assert _values(db) == before  # a dry run changes nothing

    done = reseal_all(sessions, NEW_KEY, batch_rows=2)
    assert {name: c.resealed for name, c in done.columns.items()} == {
        purpose_of(c): len(before[purpose_of(c)]) for c in SEALED_COLUMNS
    }
    after = _values(db)
    for column in SEALED_COLUMNS:
        name = purpose_of(column)
        for old, new in zip(before[name], after[name], strict=True):
            assert is_current(NEW_KEY, new) and new != old
            assert unseal(NEW_KEY, new, purpose=name) == unseal(NEW_KEY, old, purpose=name)

    Settings(secret_key=NEW_KEY, data_dir=tmp_path)  # the old key can go now
    mailbox = db.scalars(select(Mailbox).order_by(Mailbox.id)).first()
    assert imap_settings_of(mailbox, NEW_KEY).password == "邮箱密码 p@ss"
    assert smtp_login_of(mailbox, NEW_KEY).password == "smtp-0"
    keys = keys_of(db.scalars(select(WechatAccount)).one(), NEW_KEY)
    assert (keys.app_secret, keys.token) == ("app-secret", "callbackToken") and keys.aes_key
    channel = db.scalars(select(WebchatChannel)).one()
    assert factories.channel_secret(channel, secret_key=NEW_KEY) == "site-secret"
    shop = db.scalars(select(Integration).where(Integration.name == "回调")).one()
    assert factories.callback_secret(shop, secret_key=NEW_KEY) == "kefu_cb_x"
    assert (
        db.scalar(select(Integration.callback_secret_sealed).where(Integration.name == "无回调"))
        is None
    )

    again = reseal_all(sessions, NEW_KEY, batch_rows=2)  # idempotent
    assert again.total("resealed") == 0 and again.total("current") == 15
    assert _values(db) == after


def test_the_command_counts_and_leaves_what_no_key_opens(db, cli_env, monkeypatch) -> None:
    _fill(db, unreadable=True)
    monkeypatch.setenv("KEFU_SECRET_KEY", NEW_KEY)
    monkeypatch.setenv("KEFU_SECRET_KEY_PREVIOUS", OLD_KEY)
    get_settings.cache_clear()  # making the user read the settings

    dry = runner.invoke(app, ["secrets", "reseal", "--dry-run"])
    assert dry.exit_code == 1, dry.output  # one value is unreadable
    lines = dry.stdout.splitlines()
    assert "mailboxes.smtp_password_sealed: 0 current, 3 to reseal, 0 unreadable" in lines
    assert "wechat_access_tokens.token: 0 current, 0 to reseal, 1 unreadable" in lines
    assert "webchat_channels.secret_sealed: 0 current, 1 to reseal, 0 unreadable" in lines
    assert "integrations.callback_secret_sealed: 0 current, 1 to reseal, 0 unreadable" in lines
    assert lines[-1] == "total: 0 current, 14 to reseal, 1 unreadable"

    done = runner.invoke(app, ["secrets", "reseal"])
    assert done.stdout.splitlines()[-1] == "total: 0 current, 14 resealed, 1 unreadable"
    again = runner.invoke(app, ["secrets", "reseal"])
    assert again.stdout.splitlines()[-1] == "total: 14 current, 0 resealed, 1 unreadable"
    db.rollback()
    assert db.scalars(select(WechatAccessToken.token)).one() == "v1:junk-no-key-opens"


@pytest.fixture(autouse=True)
def _forget_previous_keys(tmp_path):
    yield
    Settings(secret_key=NEW_KEY, data_dir=tmp_path)
