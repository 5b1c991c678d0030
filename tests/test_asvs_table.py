"""docs/asvs.md maps every OWASP ASVS 5.0 level-1 and level-2 requirement, truthfully.

Every id of docs/asvs-5.0-l2.txt (taken from the standard's source) appears once with its level;
every status is a known one; tested and partial rows name a test; every test named exists (the
file, and the function of a node id); the counts at the top are the rows' counts.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "asvs.md"
REQUIREMENTS = ROOT / "docs" / "asvs-5.0-l2.txt"
ROW = re.compile(r"^\| (V\d+\.\d+\.\d+) \| ([12]) \| (.+?) \| (.+?) \| (.+) \|$")
COUNT = re.compile(r"^\| ([a-z][a-z0-9 ():-]*?) \| (\d+) \|$")
STATUS = re.compile(r"^(tested|partial|gap|process|not applicable|gap \(planned: [a-z0-9-]+\))$")
TEST_REF = re.compile(r"`(tests/[^`\s]+?\.py)((?:::[A-Za-z_][A-Za-z0-9_]*)*)`")


def requirements() -> dict[str, str]:
    listed: dict[str, str] = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            rid, level = line.split()
            assert rid not in listed, f"{rid} twice in {REQUIREMENTS.name}"
            listed[rid] = level
    return listed


def table_rows() -> list[tuple[str, str, str, str, str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| V"):
            match = ROW.match(line)
            assert match, (
                f"a row that does not read as | id | level | … | status | evidence |: {line}"
            )
            rows.append(match.groups())
    return rows


@cache
def names_in(path: Path) -> frozenset[str]:
    """Top-level functions and classes, and `Class::method`, of a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return frozenset(names)


def test_the_requirement_list_is_asvs_5_level_1_and_2():
    listed = requirements()
    assert len(listed) == 253
    assert Counter(listed.values()) == {"1": 70, "2": 183}
    assert {"V1.2.4", "V6.2.1", "V8.2.2", "V17.3.2"} <= set(listed)


def test_every_requirement_is_in_the_table_once_with_its_level():
    listed = requirements()
    rows = table_rows()
    seen = Counter(rid for rid, *_ in rows)
    assert [rid for rid, n in seen.items() if n > 1] == []
    assert sorted(set(listed) - set(seen)) == []
    assert sorted(set(seen) - set(listed)) == []
    assert [rid for rid, level, *_ in rows if listed[rid] != level] == []


def test_every_status_is_known_and_tested_rows_name_a_test():
    bad_status = [
        (rid, status) for rid, _, _, status, _ in table_rows() if not STATUS.match(status)
    ]
    assert bad_status == []
    without = [
        rid
        for rid, _, _, status, evidence in table_rows()
        if status in ("tested", "partial") and not TEST_REF.search(evidence)
    ]
    assert without == []


def test_every_test_named_exists():
    missing = []
    for rid, *_, evidence in table_rows():
        for file, node in TEST_REF.findall(evidence):
            path = ROOT / file
            if not path.is_file():
                missing.append(f"{rid}: {file}")
            elif node and node.removeprefix("::") not in names_in(path):
                missing.append(f"{rid}: {file}{node}")
    assert missing == []


def test_the_counts_at_the_top_are_the_rows_counts():
    text = TABLE.read_text(encoding="utf-8")
    head = text.split("\n## ", 1)[0]
    stated = {m.group(1): int(m.group(2)) for m in map(COUNT.match, head.splitlines()) if m}
    counted = Counter(status for *_, status, _ in table_rows())
    assert stated.pop("total") == sum(counted.values())
    assert stated == dict(counted)
