"""Import and export as Markdown files: all or nothing, versions on update, the round trip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kefu.db.models import KbArticle
from kefu.errors import KefuError
from kefu.services.actors import SYSTEM
from kefu.services.kb import articles as kb
from kefu.services.kb import files

DEMO_KB = Path(__file__).parents[3] / "src" / "kefu" / "demo" / "data" / "kb"

GOOD = "---\nid: faq-1\ntitle: 发票怎么开\ncategory: price_billing\ntags: [发票]\n---\n在订单详情申请。\n"
DRAFT = "---\nid: faq-2\ntitle: 会员\nstatus: draft\n---\n积分可抵现。\n"


def _files(*texts):
    return [(f"f{i}.md", t.encode()) for i, t in enumerate(texts)]


def _all(db):
    return [(a.key, files.render_article(files.article_file(a))) for a in
            db.scalars(select(KbArticle).order_by(KbArticle.key))]  # fmt: skip


def test_the_demo_folder_exports_and_imports_back_to_the_same_articles(db):
    report = files.do_import(db, SYSTEM, files.files_of_folder(DEMO_KB))
    db.commit()
    assert report.created == 60
    before = _all(db)
    exported = files.export_zip(db, SYSTEM)
    db.execute(KbArticle.__table__.delete())
    db.commit()
    again = files.do_import(db, SYSTEM, files.files_of_zip(exported))
    db.commit()
    assert again.created == 60 and _all(db) == before
    assert files.do_import(db, SYSTEM, files.files_of_zip(exported)).unchanged == 60


def test_a_broken_file_imports_nothing_and_every_problem_is_reported(db):
    broken = [("a.md", b"no front matter"), ("b.md", b"---\ntitle: x\ncategory: weather\n---\nbody"),
              ("c.md", b"\xff\xfe"), ("d.md", b"---\nid: faq-1\ntitle: dup\n---\nx")]  # fmt: skip
    with pytest.raises(KefuError) as refused:
        files.do_import(db, SYSTEM, _files(GOOD) + broken)
    problems = refused.value.details["problems"]
    assert [p.split(":")[0] for p in problems] == ["a.md", "b.md", "c.md", "f0.md"]
    assert "category" in problems[1] and "faq-1 is also in d.md" in problems[3]
    assert db.scalar(select(func.count()).select_from(KbArticle)) == 0


def test_an_import_updates_an_article_of_the_same_key_as_a_new_version(db):
    files.do_import(db, SYSTEM, _files(GOOD, DRAFT))
    report = files.do_import(
        db, SYSTEM, _files(GOOD.replace("在订单详情申请", "在我的-发票申请"), DRAFT)
    )
    db.commit()
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    article = kb.access_article(db, SYSTEM, "faq-1")
    assert article.current_version == 2 and article.body == "在我的-发票申请。"
    assert kb.access_article(db, SYSTEM, "faq-2").status == "draft"


def test_a_zip_with_folders_is_read_flat_and_a_bad_zip_is_refused(db):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("kb/sub/faq-1.md", GOOD)
        archive.writestr("kb/readme.txt", "ignored")
    assert [name for name, _ in files.files_of_zip(buffer.getvalue())] == ["faq-1.md"]
    with pytest.raises(KefuError) as bad:
        files.files_of_zip(b"not a zip")
    assert bad.value.status_code == 422
