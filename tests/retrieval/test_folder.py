"""A knowledge base as a folder of Markdown files: reading, errors, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.retrieval.folder import (
    ArticleFile,
    FolderError,
    parse_article,
    read_folder,
    render_article,
    write_article,
)

GOOD = """---
id: kb-900
title: 退款到账时间
category: return_refund
tags: [退款, 到账]
synonyms: [钱什么时候退回来]
---
原路退回，银行卡1-3个工作日到账。
"""


def test_parse_reads_front_matter_and_body():
    article = parse_article(GOOD)
    assert article == ArticleFile(
        id="kb-900",
        title="退款到账时间",
        body="原路退回，银行卡1-3个工作日到账。",
        category="return_refund",
        tags=("退款", "到账"),
        synonyms=("钱什么时候退回来",),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter", "front matter"),
        ("---\ntitle: [unclosed\n---\nbody", "not valid YAML"),
        ("---\n- a list\n---\nbody", "mapping"),
        ("---\nid: kb-1\n---\nbody", "title is missing"),
        ("---\nid: 'bad id!'\ntitle: t\n---\nbody", "id must be"),
        ("---\nid: kb-1\ntitle: t\n---\n   ", "body is empty"),
        ("---\nid: kb-1\ntitle: t\nstatus: gone\n---\nbody", "status must be"),
        ("---\nid: kb-1\ntitle: t\ntags: {a: 1}\n---\nbody", "tags must be"),
    ],
)
def test_parse_says_what_is_wrong(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_article(text)


def test_render_then_parse_gives_the_same_article():
    draft = ArticleFile(
        id="kb-901",
        title="標題: with colon",
        body="第一段。\n\n- 列表\n- 「引号」",
        category=None,
        tags=("a", "b"),
        synonyms=(),
        status="draft",
    )
    assert parse_article(render_article(draft)) == draft


def test_read_folder_reports_every_broken_file_and_duplicate_ids(tmp_path: Path):
    (tmp_path / "a.md").write_text(GOOD, "utf-8")
    (tmp_path / "b.md").write_text(GOOD, "utf-8")  # same id
    (tmp_path / "c.md").write_text("nothing", "utf-8")
    (tmp_path / "notes.txt").write_text("ignored", "utf-8")
    with pytest.raises(FolderError) as caught:
        read_folder(tmp_path)
    assert len(caught.value.problems) == 2
    assert any("b.md" in p and "also in a.md" in p for p in caught.value.problems)
    assert any(p.startswith("c.md") for p in caught.value.problems)


def test_read_folder_takes_the_file_name_when_there_is_no_id(tmp_path: Path):
    (tmp_path / "faq-7.md").write_text("---\ntitle: 运费\n---\n满99包邮。\n", "utf-8")
    assert [a.id for a in read_folder(tmp_path)] == ["faq-7"]


def test_write_article_round_trips_through_the_folder(tmp_path: Path):
    article = parse_article(GOOD)
    write_article(tmp_path, article)
    assert read_folder(tmp_path) == [article]


def test_a_missing_folder_is_an_error(tmp_path: Path):
    with pytest.raises(FolderError, match="not a folder"):
        read_folder(tmp_path / "nowhere")
