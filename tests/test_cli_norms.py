"""kefu check-reply and kefu eval norms, as a user runs them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kefu.cli import app

runner = CliRunner()


def test_check_reply_reads_jsonl_and_writes_one_line_per_reply():
    lines = [
        json.dumps(
            {
                "id": "a",
                "reply": "您的订单[单号]已发货。",
                "context": [{"role": "customer", "text": "发货了吗"}],
                "first_reply": True,
            },
            ensure_ascii=False,
        ),
        "not json",
        json.dumps(
            {"reply": "您好，已为您办理，请问还有其他可以帮您的吗？", "closing": True},
            ensure_ascii=False,
        ),
        json.dumps({"reply": 5}),
    ]
    result = runner.invoke(app, ["check-reply"], input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert len(out) == 4
    first = out[0]
    assert first["id"] == "a" and first["blocked"] is True
    assert {f["rule"] for f in first["findings"]} == {"unfilled_placeholder", "missing_greeting"}
    placeholder = next(f for f in first["findings"] if f["rule"] == "unfilled_placeholder")
    assert (placeholder["start"], placeholder["end"], placeholder["text"]) == (4, 8, "[单号]")
    assert first["score"] == 100 - 20 - 8
    assert out[1]["error"]["code"] == "bad_line" and out[1]["line"] == 2
    assert out[2] == {"findings": [], "score": 100, "blocked": False}
    assert out[3]["error"]["code"] == "bad_line"


def test_eval_norms_prints_rule_lines_then_the_json_summary(tmp_path):
    rows = [
        {"id": "r1", "context": [], "reply": "已走原路退回。", "violations": ["jargon"]},
        {"id": "r2", "context": [], "reply": "您好，已为您退款。", "violations": []},
        {"id": "r3", "context": [], "reply": "您好，已为您退款。", "violations": ["jargon"]},
    ]
    path = tmp_path / "n.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = runner.invoke(app, ["eval", "norms", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("jargon") and "(1/1)" in line and "(1/2)" in line for line in lines)
    last = json.loads(lines[-1])
    assert last["n"] == 3
    assert last["rules"]["jargon"] == {"precision": 1.0, "recall": 0.5}
    assert last["exact_set_accuracy"] == round(2 / 3, 4)
    assert last["false_alarm_rate"] == 0.0


def test_eval_norms_refuses_a_bad_file(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x"}\n', "utf-8")
    result = runner.invoke(app, ["eval", "norms", str(path)])
    assert result.exit_code == 2 and "bad.jsonl:1" in result.output
