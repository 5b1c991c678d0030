"""docs/permissions.md agrees with the code: each operation it names exists, and its role columns
are the roles the operation declares (``allow(...)`` in api/access.py, ``x-kefu-roles`` in
/openapi.json). Its field-level rules are shown by the tests the access and masking rows of
docs/asvs.md name."""

from __future__ import annotations

import re
from pathlib import Path

from kefu.api.access import EXTENSION, STAFF

DOC = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
HEADER = "| operation | agent | specialist | supervisor | admin | field-level rule |"
ROW = re.compile(
    r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]+)` \| (.+?) \| (.+?) \| (.+?) \| (.+?) \| (.+) \|$"
)
MARKS = {"✓": True, "—": False}


def documented() -> dict[tuple[str, str], set[str]]:
    """Each operation of the doc's tables and the staff roles its ✓ columns give."""
    rows: dict[tuple[str, str], set[str]] = {}
    lines = DOC.read_text(encoding="utf-8").splitlines()
    assert lines.count(HEADER) >= 5, "the tables keep their columns"
    for line in lines:
        if not line.startswith("| `"):
            continue
        match = ROW.match(line)
        assert match, f"not a row of operation, four role marks and a rule: {line}"
        method, path, *marks, rule = match.groups()
        assert set(marks) <= set(MARKS), line
        assert rule.strip(), line
        key = (method.lower(), path)
        assert key not in rows, f"{method} {path} twice"
        rows[key] = {role for role, mark in zip(STAFF, marks, strict=True) if MARKS[mark]}
    return rows


def test_the_documented_roles_are_the_declared_roles(anon):
    spec = anon.get("/openapi.json").json()
    rows = documented()
    assert len(rows) >= 30
    wrong = []
    for (method, path), roles in rows.items():
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            wrong.append(f"{method.upper()} {path}: no such operation")
            continue
        declared = set(operation[EXTENSION]) & set(STAFF)
        if declared != roles:
            wrong.append(f"{method.upper()} {path}: doc {sorted(roles)}, code {sorted(declared)}")
    assert wrong == []


def test_the_marks_are_read_as_written():
    """An admin-only row reads as admin only, a row for all staff as all four roles."""
    rows = documented()
    assert rows[("post", "/api/v1/customers/{customer_id}/erase")] == {"admin"}
    assert rows[("get", "/api/v1/tickets")] == set(STAFF)
