"""``/admin/wechat``: an admin connects a 公众号; its secrets are sealed and never shown back;
the callback URL to paste into WeChat is on the page; a wrong key is said next to its field."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, User, WechatAccount
from kefu.services.infra.sealed_columns import opened
from kefu.settings import Settings
from tests.web.conftest import SignIn
from tests.wechat_peer import AES_KEY

FORM = {
    "name": "官方服务号", "app_id": "wx0123456789abcdef", "app_secret": "the-app-secret-value",
    "token": "kefuToken2026", "encoding_aes_key": AES_KEY, "message_mode": "safe",
    "api_base_url": "https://api.weixin.qq.com", "group_id": "", "bot_mode": "first",
    "greeting": "欢迎关注", "template_id": "TPL-1", "enabled": "on",
}  # fmt: skip


def test_an_admin_connects_an_account_and_its_secrets_stay_write_only(
    sign_in: SignIn, db: Session, admin: User, settings: Settings
) -> None:
    browser = sign_in(admin)
    made = browser.form("/admin/wechat", FORM)
    assert made.status_code == 303, made.text[:2000]
    account = db.scalar(select(WechatAccount))
    assert (
        opened(settings.secret_key, account, WechatAccount.app_secret_sealed)
        == "the-app-secret-value"
    )
    assert opened(settings.secret_key, account, WechatAccount.token_sealed) == "kefuToken2026"

    page = browser.client.get(made.headers["location"])
    assert page.status_code == 200
    assert f"/api/v1/channels/wechat/{account.key}" in page.text  # to paste into WeChat
    for secret in ("the-app-secret-value", "kefuToken2026", AES_KEY, account.app_secret_sealed):
        assert secret not in page.text
    assert "已设置" in page.text

    kept = browser.form(
        f"/admin/wechat/{account.id}",
        {**FORM, "app_secret": "", "token": "", "encoding_aes_key": "", "name": "改名了"},
    )
    assert kept.status_code == 303
    db.rollback()  # the server's commit, not this session's old read
    account = db.get(WechatAccount, account.id)
    assert account.name == "改名了"
    assert (
        opened(settings.secret_key, account, WechatAccount.app_secret_sealed)
        == "the-app-secret-value"
    )
    trail = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "wechat_account"))
    assert all("the-app-secret-value" not in str(e.after) for e in trail)
    listing = browser.client.get("/admin/wechat")
    assert "改名了" in listing.text and "the-app-secret-value" not in listing.text


def test_a_bad_key_or_a_safe_mode_without_one_is_said_next_to_the_field(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = sign_in(admin)
    short = browser.form("/admin/wechat", {**FORM, "encoding_aes_key": "tooshort"})
    assert short.status_code == 422 and 'id="error-encoding_aes_key"' in short.text
    assert "the-app-secret-value" not in short.text  # not even sent back into the form
    missing = browser.form("/admin/wechat", {**FORM, "encoding_aes_key": ""})
    assert missing.status_code == 422 and "EncodingAESKey" in missing.text
    internal = browser.form("/admin/wechat", {**FORM, "api_base_url": "http://10.1.2.3"})
    assert internal.status_code == 422 and 'id="error-api_base_url"' in internal.text
    assert db.scalar(select(WechatAccount)) is None
