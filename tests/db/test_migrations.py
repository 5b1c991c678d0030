"""The migrations build exactly the schema of the models, and go down and up again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from kefu.db import migrate
from kefu.db.models import Base
from kefu.services.infra.secret_box import SecretUnreadable, unseal
from kefu.settings import get_settings


# SQLite's reflection cannot read an index on an expression (ix_tickets_sla_order): there it is
# left out of the comparison, on PostgreSQL it is compared like the others.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_the_migrated_schema_is_the_models_schema(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": migrate.schema_filter(conn.dialect.name)}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_down_and_up_keeps_the_rows_and_fills_the_new_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, "0002")
    db = create_engine(url)
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (name, note, language, created_at, updated_at) "
                "VALUES ('王女士', '', 'zh-CN', '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO tickets (subject, status, channel, customer_id, priority, risks, reopen_count, "
                "created_at, updated_at) VALUES ('快递', 'open', 'email', 1, 'P3', '[]', 0, "
                "'2026-12-01 00:00:00', '2026-12-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (email, name, role, is_active, language, capacity, created_at, updated_at) "
                "VALUES ('a@x', '张伟', 'agent', 1, 'zh-CN', 10, '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
            )
        )
    migrate.upgrade(url)
    with db.connect() as conn:
        pauses, escalations, check_at, warn_at = conn.execute(
            text("SELECT sla_pauses, escalations, sla_check_at, sla_warn_at FROM tickets")
        ).one()
        assert (pauses, escalations, warn_at) == ("[]", 0, None)
        assert check_at is not None  # an open ticket is handed to the sweep (0009: sla_warn_at)
        assert conn.execute(text("SELECT online, skills FROM users")).one() == (0, "[]")
    migrate.downgrade(url, "0002")
    migrate.upgrade(url)
    with db.connect() as conn:
        assert conn.execute(text("SELECT subject FROM tickets")).scalar() == "快递"
    db.dispose()


def test_0037_seals_the_shared_secrets_with_the_settings_key_and_0036_opens_them(
    engine, monkeypatch
):
    """The web chat channels' and integrations' secrets, stored as they were, come out of the
    upgrade sealed under the settings' secret key (and opening to what they were); a downgrade
    opens them again. On the test database itself: SQLite or PostgreSQL."""
    key = "the-master-key-the-migration-reads-from-settings"
    monkeypatch.setenv("KEFU_SECRET_KEY", key)
    get_settings.cache_clear()
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    try:
        migrate.downgrade(url, "0036")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO webchat_channels (key, name, secret, allowed_origins, greeting,"
                " offline_message, offline_form, language, bot_mode, enabled, created_at, updated_at)"
                " VALUES ('wc_old', '官网', 'site-secret-0036', '[]', '', '', true, 'zh-CN',"
                " 'off', true, '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
            ))  # fmt: skip
            for n, secret in ((1, "'kefu_cb_0036'"), (2, "NULL")):
                conn.execute(text(
                    "INSERT INTO integrations (name, channels, prefix, token_hash, callback_url,"
                    f" callback_secret, created_at) VALUES ('集成{n}', '[\"api\"]', 'kefu_int_{n}',"
                    f" '{n}{'0' * 63}', 'https://shop.example.cn/cb', {secret}, '2026-12-01 00:00:00')"
                ))  # fmt: skip
        migrate.upgrade(url)
        with engine.connect() as conn:
            sealed = conn.execute(text("SELECT secret_sealed FROM webchat_channels")).scalar_one()
            callbacks = conn.execute(
                text("SELECT callback_secret_sealed FROM integrations ORDER BY id")
            ).scalars().all()  # fmt: skip
        assert sealed.startswith("v2:") and "site-secret-0036" not in sealed
        assert unseal(key, sealed, purpose="webchat_channels.secret_sealed") == "site-secret-0036"
        assert callbacks[1] is None and "kefu_cb_0036" not in callbacks[0]
        assert unseal(key, callbacks[0], purpose="integrations.callback_secret_sealed") == (
            "kefu_cb_0036"
        )
        with pytest.raises(SecretUnreadable):  # sealed under the settings' key, no other
            unseal("another-master-key", sealed, purpose="webchat_channels.secret_sealed")
        columns = {c["name"] for c in inspect(engine).get_columns("integrations")}
        assert "callback_secret" not in columns  # the plaintext is gone
        assert "secret" not in {c["name"] for c in inspect(engine).get_columns("webchat_channels")}

        migrate.downgrade(url, "0036")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT secret FROM webchat_channels")).scalar_one() == (
                "site-secret-0036"
            )
            assert conn.execute(
                text("SELECT callback_secret FROM integrations ORDER BY id")
            ).scalars().all() == ["kefu_cb_0036", None]  # fmt: skip
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM integrations"))
            conn.execute(text("DELETE FROM webchat_channels"))
        engine.dispose()
        migrate.upgrade(url)
        get_settings.cache_clear()
