"""kefu analyze / eval triage / eval sentiment / train, as a user runs them."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from kefu.cli import app
from kefu.nlp.classifiers import load
from tests.nlp_fixtures import write_reviews, write_triage

runner = CliRunner()


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_analyze_reads_jsonl_from_stdin_and_keeps_the_order():
    lines = [
        json.dumps({"id": "a", "text": "我要去12315投诉你们"}, ensure_ascii=False),
        "not json",
        json.dumps({"id": 7, "text": "谢谢，很满意"}, ensure_ascii=False),
        json.dumps({"id": "x"}),
    ]
    result = runner.invoke(app, ["analyze"], input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [o.get("id", o.get("line")) for o in out] == ["a", 2, 7, 4]
    assert out[0]["risks"] == ["regulator"] and out[0]["priority"] == "P1"
    assert out[1]["error"]["code"] == "bad_line"
    assert {
        "sentiment",
        "sentiment_score",
        "emotion",
        "intent",
        "category",
        "risks",
        "priority",
        "explanations",
    } <= set(out[2])
    assert "2 line(s) could not be read" in result.stderr


def test_analyze_a_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "快递还没到"}\n\n{"id": 2, "text": ""}\n', encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 2]
    missing = runner.invoke(app, ["analyze", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_eval_triage_prints_tables_then_json(tmp_path, tiny_model):
    path = tmp_path / "gold.jsonl"
    write_triage(path)
    result = runner.invoke(app, ["eval", "triage", str(path), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    assert "== emotion" in result.stdout and "== priority" in result.stdout
    metrics = _last_json(result.stdout)
    assert metrics["n"] == 20
    assert set(metrics) >= {"sentiment", "emotion", "intent", "category", "risks", "priority"}
    assert set(metrics["risks"]) == {
        "media",
        "regulator",
        "legal",
        "safety",
        "privacy",
        "discrimination",
    }
    assert metrics["risks"]["safety"]["recall"] == 1.0  # the rules need no training
    assert 0 <= metrics["intent"]["macro_f1"] <= 1 and "p1_recall" in metrics["priority"]


def test_eval_triage_by_industry_scores_each_industry(tmp_path, tiny_model):
    gold = tmp_path / "gold.jsonl"
    write_triage(gold)
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]
    for i, row in enumerate(rows):
        row["industry"] = ("telecom", "travel")[i % 2] if i < 18 else None  # two without one
    gold.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    result = runner.invoke(
        app, ["eval", "triage", str(gold), "--model", str(tiny_model), "--by-industry"]
    )
    assert result.exit_code == 0, result.output
    assert "== by industry" in result.stdout
    table = result.stdout.split("== by industry", 1)[1]
    assert "telecom" in table and "travel" in table and "(none)" in table
    metrics = _last_json(result.stdout)
    by = metrics["by_industry"]
    assert {k: v["n"] for k, v in by.items()} == {"(none)": 2, "telecom": 9, "travel": 9}
    assert sum(v["n"] for v in by.values()) == metrics["n"]
    assert set(by["telecom"]) == set(metrics) - {"by_industry"}  # every figure, per industry
    whole = runner.invoke(app, ["eval", "triage", str(gold), "--model", str(tiny_model)])
    assert "by_industry" not in _last_json(whole.stdout)  # only when asked


def test_eval_triage_by_industry_needs_an_industry_field(tmp_path, tiny_model):
    gold = tmp_path / "gold.jsonl"
    write_triage(gold)
    result = runner.invoke(
        app, ["eval", "triage", str(gold), "--model", str(tiny_model), "--by-industry"]
    )
    assert result.exit_code == 2 and "industry field" in result.stderr


def test_eval_triage_refuses_rows_without_labels(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "hi", "sentiment": "neutral"}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", "triage", str(path)])
    assert result.exit_code == 2 and "lacks" in result.stderr


def test_eval_sentiment_reads_named_columns(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text(
        "label,review\n1,非常好吃，送得很快，五星好评\n0,太难吃了，再也不买了，差评\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["eval", "sentiment", str(path), "--text-col", "review", "--label-col", "label"]
    )
    assert result.exit_code == 0, result.output
    metrics = _last_json(result.stdout)
    assert metrics["n"] == 2 and metrics["accuracy"] == 1.0 and metrics["messages_per_second"] > 0
    wrong = runner.invoke(app, ["eval", "sentiment", str(path), "--text-col", "text"])
    assert wrong.exit_code == 2 and "no column text" in wrong.stderr
    path.write_text("label,review\nmaybe,还行吧\n", encoding="utf-8")
    odd = runner.invoke(app, ["eval", "sentiment", str(path)])
    assert odd.exit_code == 2 and "labels must be 0/1" in odd.stderr


def test_train_writes_an_artifact_that_eval_uses(tiny_data, tmp_path):
    out = tmp_path / "m.npz"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tiny_data),
            "--messages",
            str(tiny_data),
            "--out",
            str(out),
            "--holdout-dir",
            str(tmp_path / "held"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert _last_json(result.stdout)["artifact"] == str(out) and out.is_file()
    assert (tmp_path / "held" / "waimai_10k.heldout.csv").is_file()
    reviews = tmp_path / "r.csv"
    write_reviews(reviews)
    scored = runner.invoke(app, ["eval", "sentiment", str(reviews), "--model", str(out)])
    assert scored.exit_code == 0, scored.output


def test_train_needs_to_be_told_where_the_data_is(monkeypatch):
    monkeypatch.delenv("KEFU_TRAINING_DATA", raising=False)
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 2 and "--data" in result.stderr


def test_train_without_data_says_where_it_looked(tmp_path):
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m.npz")]
    )
    assert result.exit_code == 2 and "no development data" in result.stderr
    assert not (tmp_path / "m.npz").exists()


def _team_rows(texts: list[str], category: str) -> str:
    return "".join(
        json.dumps(
            {
                "id": f"team-{i}",
                "text": text,
                "sentiment": "neutral",
                "emotion": "neutral",
                "intent": "inquiry",
                "category": category,
                "risks": [],
                "priority": "P4",
                "industry": "pets",
            },
            ensure_ascii=False,
        )
        + "\n"
        for i, text in enumerate(texts)
    )


# A pet shop's boarding bookings (寄养), which the team files under bookings: words the tiny
# training data never saw.
TEAM = [
    "猫咪寄养想预约下周一到周五",
    "狗狗寄养的预约能改到月底吗",
    "宠物寄养还有空位吗",
    "猫咪寄养能提前一天接走吗",
    "狗狗寄养要提前几天约",
    "两只猫一起寄养怎么预约",
    "寄养订单想延长三天",
    "宠物寄养期间想取消后面两天",
]
TEAM_EVAL = ["我家猫咪寄养到周几", "狗狗寄养能加一天吗", "宠物寄养要带疫苗本吗"]


def test_train_extra_teaches_a_team_its_own_words_and_keeps_the_polarity_head(
    tiny_data, tiny_model, tmp_path
):
    team = tmp_path / "team.jsonl"
    team.write_text(_team_rows(TEAM, "order_payment"), encoding="utf-8")
    held = tmp_path / "held.jsonl"
    held.write_text(_team_rows(TEAM_EVAL, "order_payment"), encoding="utf-8")
    out = tmp_path / "team.npz"
    result = runner.invoke(
        app,
        [
            "train",
            "--extra",
            str(team),
            "--out",
            str(out),
            "--base",
            str(tiny_model),
            "--messages",
            str(tiny_data),
            "--fast-only",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{len(TEAM)} of them from 1 extra file" in result.stdout

    def category_accuracy(model):
        scored = runner.invoke(app, ["eval", "triage", str(held), "--model", str(model)])
        assert scored.exit_code == 0, scored.output
        return _last_json(scored.stdout)["category"]["accuracy"]

    assert category_accuracy(out) == 1.0 > 0.0 == category_accuracy(tiny_model)
    before, after = load(tiny_model), load(out)
    np.testing.assert_array_equal(
        before.weights[before.heads["polarity"].space], after.weights[after.heads["polarity"].space]
    )
    assert "extra/team.jsonl" in after.manifest["files"]


def test_train_extra_refuses_a_bad_team_file_and_writes_nothing(tiny_data, tiny_model, tmp_path):
    team = tmp_path / "team.jsonl"
    team.write_text(
        _team_rows(TEAM[:2], "account_privacy") + _team_rows(["猫粮"], "pets"), encoding="utf-8"
    )
    out = tmp_path / "team.npz"
    args = ["train", "--extra", str(team), "--base", str(tiny_model), "--messages", str(tiny_data)]
    result = runner.invoke(app, [*args, "--out", str(out), "--fast-only"])
    assert result.exit_code == 1 and f"{team}:3: category must be one of" in result.stderr
    assert not out.exists()
    unsaid = runner.invoke(app, [*args, "--fast-only"])
    assert unsaid.exit_code == 2 and "--extra needs --out" in unsaid.stderr


def test_train_writes_the_accurate_path_beside_the_artifact_unless_told_not_to(tiny_data, tmp_path):
    out = tmp_path / "m.npz"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tiny_data),
            "--messages",
            str(tiny_data),
            "--out",
            str(out),
            "--accurate",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        _last_json(result.stdout)["accurate"] == str(tmp_path / "m-e5.npz")
        and (tmp_path / "m-e5.npz").is_file()
    )
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "我的快递五天了还没到"}\n', encoding="utf-8")
    analyzed = runner.invoke(app, ["analyze", str(path), "--model", str(out), "--accurate"])
    assert analyzed.exit_code == 0, analyzed.output
    assert _last_json(analyzed.stdout)["engine"].endswith("+e5")

    fast = tmp_path / "fast.npz"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tiny_data),
            "--messages",
            str(tiny_data),
            "--out",
            str(fast),
            "--fast-only",
        ],
    )
    assert result.exit_code == 0 and _last_json(result.stdout)["accurate"] is None
    assert not (tmp_path / "fast-e5.npz").exists()
    refused = runner.invoke(app, ["analyze", str(path), "--model", str(fast), "--accurate"])
    assert refused.exit_code == 2 and "no accurate-path model" in refused.stderr


def test_eval_commands_take_the_accurate_path(tmp_path):
    reviews = tmp_path / "r.csv"
    write_reviews(reviews)
    result = runner.invoke(app, ["eval", "sentiment", str(reviews), "--accurate"])
    assert result.exit_code == 0, result.output
    assert _last_json(result.stdout)["n"] == 10
    triage = tmp_path / "t.jsonl"
    write_triage(triage)
    result = runner.invoke(app, ["eval", "triage", str(triage), "--accurate"])
    assert result.exit_code == 0, result.output
    assert _last_json(result.stdout)["n"] == 20
