#!/usr/bin/env python3
"""Build and check src/kefu/nlp/training/kefu-written.jsonl (kefu issue #17).

The messages are authored in a compact line format, one file per industry
(default folder build/msgs-src/, not shipped):

    channel emotion intent category risks cues | text

- emotion: A angry, X anxious, D disappointed, S satisfied, N neutral (neutral
  sentiment), C calm complaint (neutral emotion, negative sentiment), P neutral
  emotion with positive sentiment.
- intent: c complaint, i inquiry, p praise, s suggestion, o other.
- category: q quality, pb price_billing, sv service, pi product_info,
  ap account_privacy, op order_payment, lg logistics, rr return_refund, ot other.
- risks: "-" or comma-separated med, reg, leg, saf, pri, dis.
- cues: "-" or letters m money_lost, r repeat_contact, d deadline, h hard_negative.
- text: "\\n" stands for a line break.

Usage (from the worktree):
    python3 scripts/kefu_written.py build [SRC_DIR]   # writes the jsonl + cues files
    python3 scripts/kefu_written.py extend [SRC_DIR]  # keeps kefu-0001..0698, appends SRC_DIR
                                                      # (default build/msgs-src2) as kefu-0699..
    python3 scripts/kefu_written.py append SRC_DIR    # keeps every row, appends SRC_DIR after them
    python3 scripts/kefu_written.py check             # validates and prints count tables

Priority comes from priority() of the shared dev data's check.py, imported at run
time (never copied).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src/kefu/nlp/training/kefu-written.jsonl"
CUES = ROOT / "src/kefu/nlp/training/kefu-written.cues.jsonl"
SHARED = Path("/work/shared/data")
INDUSTRIES = ["shop", "food", "telecom", "finance", "travel", "edusoft", "services"]
CHANNELS = ["chat", "voice", "social", "mail", "phone", "review"]

EMO = {
    "A": ("negative", "angry"),
    "X": ("negative", "anxious"),
    "D": ("negative", "disappointed"),
    "S": ("positive", "satisfied"),
    "N": ("neutral", "neutral"),
    "C": ("negative", "neutral"),
    "P": ("positive", "neutral"),
}
INTENT = {"c": "complaint", "i": "inquiry", "p": "praise", "s": "suggestion", "o": "other"}
CAT = {
    "q": "quality",
    "pb": "price_billing",
    "sv": "service",
    "pi": "product_info",
    "ap": "account_privacy",
    "op": "order_payment",
    "lg": "logistics",
    "rr": "return_refund",
    "ot": "other",
}
RISK = {
    "med": "media",
    "reg": "regulator",
    "leg": "legal",
    "saf": "safety",
    "pri": "privacy",
    "dis": "discrimination",
}
BATCH1 = 698  # rows of the first batch (build/msgs-src); later batches are appended by `extend`
CUE = {"m": "money_lost", "r": "repeat_contact", "d": "deadline", "h": "hard_negative"}
TRAD = re.compile(
    "[們這個還說嗎請問麼對會當為從點車貨費開關東發處應實條裝隨體較長輩嘅咗唔係冇喺哋喎嚟噉啲"
    "訂單網路線幾電話錢過後裡頭們讓買賣臺灣號碼帳戶後續態誤續約機帶錯難閉擋]"
)
CANTONESE = re.compile("[嘅咗唔係冇喺哋喎嚟噉啲嗰佢咁]|點解|搞掂")


def load_check():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(SHARED))
    import check  # noqa: PLC0415  (the shared validator; read-only, not copied)

    return check


def parse(src_dir: Path, start: int = 0) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    check = load_check()
    rows: list[dict[str, object]] = []
    cues: list[dict[str, object]] = []
    n = start
    for industry in INDUSTRIES:
        path = src_dir / f"{industry}.txt"
        if not path.exists():
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            head, sep, text = line.partition(" | ")
            parts = head.split()
            if not sep or len(parts) != 6:
                raise SystemExit(f"{path.name}:{lineno}: bad line: {line[:60]}")
            ch, emo, it, cat, rk, cu = parts
            if ch not in CHANNELS or emo not in EMO or it not in INTENT or cat not in CAT:
                raise SystemExit(f"{path.name}:{lineno}: bad codes: {head}")
            risks = [] if rk == "-" else [RISK[r] for r in rk.split(",")]
            if cu != "-" and any(c not in CUE for c in cu):
                raise SystemExit(f"{path.name}:{lineno}: bad cues: {cu}")
            n += 1
            rid = f"kefu-{n:04d}"
            sent, emotion = EMO[emo]
            row: dict[str, object] = {
                "id": rid,
                "text": text.strip().replace("\\n", "\n"),
                "sentiment": sent,
                "emotion": emotion,
                "intent": INTENT[it],
                "category": CAT[cat],
                "risks": risks,
                "priority": "",
                "industry": industry,
                "channel": ch,
            }
            cue: dict[str, object] = {"id": rid}
            for letter, name in CUE.items():
                cue[name] = cu != "-" and letter in cu
            row["priority"] = check.priority(row, cue)
            rows.append(row)
            cues.append(cue)
    return rows, cues


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def bigrams(text: str) -> set[str]:
    t = re.sub(r"\s", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)} or {t}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def extend(src: Path) -> None:
    """Keep the first BATCH1 rows as they are and append the batch in src, numbered after them."""
    old = [json.loads(x) for x in OUT.read_text(encoding="utf-8").splitlines()][:BATCH1]
    old_cues = [json.loads(x) for x in CUES.read_text(encoding="utf-8").splitlines()][:BATCH1]
    if [r["id"] for r in old] != [f"kefu-{i:04d}" for i in range(1, BATCH1 + 1)]:
        raise SystemExit("the first batch is not kefu-0001..kefu-0698 in order")
    rows, cues = parse(src, start=BATCH1)
    write_jsonl(OUT, old + rows)
    write_jsonl(CUES, old_cues + cues)
    print(f"kept {len(old)} rows, appended {len(rows)}")


def append(src: Path) -> None:
    """Keep every row written so far and append the batch in src, numbered after them."""
    old = [json.loads(x) for x in OUT.read_text(encoding="utf-8").splitlines()]
    old_cues = [json.loads(x) for x in CUES.read_text(encoding="utf-8").splitlines()]
    rows, cues = parse(src, start=len(old))
    write_jsonl(OUT, old + rows)
    write_jsonl(CUES, old_cues + cues)
    print(f"kept {len(old)} rows, appended {len(rows)}")


def check_file() -> int:
    check = load_check()
    rows = [json.loads(x) for x in OUT.read_text(encoding="utf-8").splitlines()]
    cues = {c["id"]: c for c in (json.loads(x) for x in CUES.read_text(encoding="utf-8").splitlines())}
    errors: list[str] = []
    fields = ["id", "text", "sentiment", "emotion", "intent", "category", "risks", "priority", "industry", "channel"]
    if [r["id"] for r in rows] != [f"kefu-{i:04d}" for i in range(1, len(rows) + 1)]:
        errors.append("ids are not kefu-0001.. in order")
    for r in rows:
        i = r["id"]
        if list(r) != fields:
            errors.append(f"{i}: fields {list(r)}")
            continue
        for f, allowed in (
            ("sentiment", check.SENTIMENTS),
            ("emotion", check.EMOTIONS),
            ("intent", check.INTENTS),
            ("category", check.CATEGORIES),
            ("priority", check.PRIORITIES),
            ("industry", INDUSTRIES),
            ("channel", CHANNELS),
        ):
            if r[f] not in allowed:
                errors.append(f"{i}: {f}={r[f]!r}")
        if any(x not in check.RISKS for x in r["risks"]) or len(set(r["risks"])) != len(r["risks"]):
            errors.append(f"{i}: risks={r['risks']!r}")
        emo, sent = r["emotion"], r["sentiment"]
        if emo in ("angry", "anxious", "disappointed") and sent != "negative":
            errors.append(f"{i}: {emo} with {sent}")
        if emo == "satisfied" and sent != "positive":
            errors.append(f"{i}: satisfied with {sent}")
        c = cues.get(i)
        if c is None or list(c) != ["id", "money_lost", "repeat_contact", "deadline", "hard_negative"]:
            errors.append(f"{i}: cues row {c!r}")
            continue
        if r["priority"] != check.priority(r, c):
            errors.append(f"{i}: priority {r['priority']} but rule gives {check.priority(r, c)}")
        if c["hard_negative"] and r["risks"]:
            errors.append(f"{i}: hard negative with risks")
        if r["channel"] == "phone" and not r["text"].startswith("【来电转写】"):
            errors.append(f"{i}: phone transcript without 【来电转写】")
    texts = [r["text"] for r in rows]
    if len(set(texts)) != len(texts):
        errors.append("duplicate texts: " + str([t for t, k in Counter(texts).items() if k > 1][:5]))
    dev = [json.loads(x) for f in ("triage-dev.jsonl", "triage-dev-industries.jsonl")
           for x in (SHARED / f).read_text(encoding="utf-8").splitlines()]
    dev_grams = [(d["id"], bigrams(d["text"])) for d in dev]
    own = [(r["id"], bigrams(r["text"])) for r in rows]
    for k, (i, g) in enumerate(own):
        for j, h in dev_grams:
            if jaccard(g, h) >= 0.6:
                errors.append(f"{i}: near-duplicate of {j}")
        for j, h in own[:k]:
            if jaccard(g, h) >= 0.6:
                errors.append(f"{i}: near-duplicate of {j}")
    report(rows, cues)
    if len(rows) > BATCH1:
        print(f"\n--- rows after kefu-{BATCH1:04d} only ---")
        new = rows[BATCH1:]
        report(new, {r["id"]: cues[r["id"]] for r in new if r["id"] in cues})
    if errors:
        print("\nERRORS:")
        for e in errors:
            print("  " + e)
        return 1
    print(f"\nall {len(rows)} rows pass")
    return 0


def report(rows: list[dict], cues: dict[str, dict]) -> None:  # type: ignore[type-arg]
    def table(name: str, counter: Counter[str]) -> None:
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))

    print(f"messages: {len(rows)}")
    for f in ("industry", "channel", "category", "intent", "emotion", "sentiment", "priority"):
        table(f, Counter(r[f] for r in rows))
    table("risk", Counter(x for r in rows for x in r["risks"]))
    print(f"with any risk: {sum(1 for r in rows if r['risks'])}")
    table("cues", Counter(k for c in cues.values() for k, v in c.items() if v is True))
    trad = [r for r in rows if TRAD.search(r["text"])]
    hk = sum(1 for r in trad if CANTONESE.search(r["text"]))
    print(f"traditional: {len(trad)} ({len(trad) / max(len(rows), 1):.0%}); Cantonese {hk}, other {len(trad) - hk}")
    for ind in INDUSTRIES:
        sub = [r for r in rows if r["industry"] == ind]
        if sub:
            table(f"  {ind} category", Counter(r["category"] for r in sub))


def main() -> int:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "build":
        src = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "build/msgs-src"
        rows, cues = parse(src)
        if len(rows) != BATCH1:
            raise SystemExit(f"{src} gives {len(rows)} rows, the first batch has {BATCH1}")
        src2 = ROOT / "build/msgs-src2"
        if src2.is_dir():  # later batches keep their ids after the first one
            more, more_cues = parse(src2, start=len(rows))
            rows, cues = rows + more, cues + more_cues
        write_jsonl(OUT, rows)
        write_jsonl(CUES, cues)
        print(f"wrote {len(rows)} rows")
        return check_file()
    if cmd == "extend":
        extend(Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "build/msgs-src2")
        return check_file()
    if cmd == "append":
        if len(sys.argv) < 3:
            raise SystemExit("append needs the folder of the new batch")
        append(Path(sys.argv[2]))
        return check_file()
    return check_file()


if __name__ == "__main__":
    sys.exit(main())
