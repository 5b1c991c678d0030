"""`kefu mail parse FILE`: the fetcher's parser, by hand."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.models import MailRaw
from kefu.services.actors import SYSTEM
from kefu.services.mail.mailboxes import do_create_mailbox

CORPUS = Path(__file__).parent / "channels" / "email" / "corpus"


def test_mail_parse_prints_the_json_object() -> None:
    result = CliRunner().invoke(app, ["mail", "parse", str(CORPUS / "foxmail_gb2312_reply.eml")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["from"] == "wangxm@qq.com"
    assert data["subject"] == "回复：您的订单已发货 [#123]"
    assert data["auto_reply"] is False
    assert data["attachments"] == []
    assert data["message_id"] == "tencent_4B6F0A3C9E2D1F8A7B6C5D4E3F2A1B0C9D08@qq.com"


def test_mail_parse_of_a_missing_file_says_why(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["mail", "parse", str(tmp_path / "nope.eml")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_mail_parse_of_a_file_that_is_no_mail(tmp_path: Path) -> None:
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\x01 not a mail")
    result = CliRunner().invoke(app, ["mail", "parse", str(junk)])
    assert result.exit_code == 1
    assert "is not a mail" in result.output


def test_mail_fetch_and_reprocess_run_a_round(cli_env: None, db: Session) -> None:
    """``kefu mail fetch`` with no mailbox does nothing and says so; ``kefu mail reprocess
    --all`` takes a failed mail again (here: still no mail, still failed)."""
    fetched = CliRunner().invoke(app, ["mail", "fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert "fetched 0" in fetched.stdout
    box = do_create_mailbox(db, SYSTEM, secret_key="k", name="客服", address="kf@shop.test")
    db.add(
        MailRaw(
            mailbox_id=box.id, uidvalidity=1, uid=1, raw=b"junk", sha256="0" * 64, size=4,
            state="failed",
        )
    )  # fmt: skip
    db.commit()
    again = CliRunner().invoke(app, ["mail", "reprocess", "--all"])
    assert again.exit_code == 0, again.output
    assert "failed 1" in again.stdout
    assert CliRunner().invoke(app, ["mail", "reprocess"]).exit_code == 2  # say which


def test_mail_parse_reads_standard_input() -> None:
    raw = (CORPUS / "big5_warranty.eml").read_bytes()
    result = CliRunner().invoke(app, ["mail", "parse", "-"], input=raw)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["subject"] == "藍牙耳機保固問題"
