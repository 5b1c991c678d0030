"""kefu eval kb, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kefu.cli import app

runner = CliRunner()


def _questions(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_eval_kb_on_the_demo_knowledge_base_ends_with_the_figures(tmp_path):
    questions = _questions(
        tmp_path,
        [
            {"id": "a", "text": "退钱几天能到账", "article": "kb-026"},
            {"id": "b", "text": "發票抬頭寫錯了能重開嗎", "article": "kb-039"},
            {"id": "c", "text": "今天天气怎么样", "article": None},
        ],
    )
    result = runner.invoke(app, ["eval", "kb", str(questions), "--misses"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["n"] == 2
    assert report["top1"] == 1.0 and report["top3"] == 1.0
    assert report["no_answer"] == {"precision": 1.0, "recall": 1.0}
    assert set(report["latency_ms"]) == {"p50", "p99"}
    assert len(result.stdout.strip().splitlines()) == 1  # no misses to list


def test_eval_kb_reads_another_folder_and_lists_misses(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.md").write_text("---\nid: a\ntitle: 运费\n---\n满99元包邮。\n", "utf-8")
    (kb / "b.md").write_text("---\nid: b\ntitle: 积分\n---\n积分可抵现金。\n", "utf-8")
    questions = _questions(tmp_path, [{"id": "q", "text": "运费多少钱", "article": "b"}])
    result = runner.invoke(app, ["eval", "kb", str(questions), "--kb", str(kb), "--misses"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("q\tb\t")
    assert json.loads(lines[-1])["top1"] == 0.0


def test_eval_kb_names_every_broken_file(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "x.md").write_text("no front matter", "utf-8")
    (kb / "y.md").write_text("---\nid: y\n---\nbody", "utf-8")
    questions = _questions(tmp_path, [{"id": "q", "text": "运费", "article": None}])
    result = runner.invoke(app, ["eval", "kb", str(questions), "--kb", str(kb)])
    assert result.exit_code == 2
    assert "x.md" in result.output and "y.md" in result.output


def test_eval_kb_refuses_a_broken_question_file(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "q"}\n', "utf-8")
    result = runner.invoke(app, ["eval", "kb", str(path)])
    assert result.exit_code == 2
    assert "line 1" in result.output
