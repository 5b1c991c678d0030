"""scripts/update-advisories.py: the snapshot rebuilt from a checkout of the advisory database."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.scripts.audit_module import audit, load_script

update = load_script("update-advisories.py")

ADVISORY = """id: {id}
aliases: [CVE-2099-0001]
affected:
- package: {{name: {name}, ecosystem: PyPI}}
  ranges:
  - type: ECOSYSTEM
    events: [{{introduced: '0'}}, {{fixed: '3.0'}}]
"""


def git(folder: Path, *args: str, date: str = "2024-01-02T03:04:05+00:00") -> str:
    env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.cn", "-C", str(folder), *args],
        capture_output=True, text=True, check=True, env=env,
    ).stdout.strip()  # fmt: skip


def checkout_with(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "advisory-database"
    for name, text in files.items():
        (root / "vulns" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "vulns" / name).write_text(text, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "advisories")
    return root


def test_only_the_locked_packages_are_kept_with_the_commit_and_its_date(tmp_path):
    checkout = checkout_with(tmp_path, {
        "jinja2/PYSEC-2099-1.yaml": ADVISORY.format(id="PYSEC-2099-1", name="jinja2"),
        "pyyaml/PYSEC-2099-2.yaml": ADVISORY.format(id="PYSEC-2099-2", name="PyYAML"),
        "not-locked/PYSEC-2099-3.yaml": ADVISORY.format(id="PYSEC-2099-3", name="not-locked"),
    })  # fmt: skip
    lock = tmp_path / "requirements.lock"
    lock.write_text("Jinja2==2.11.2\nPyYAML==6.0.4\n", encoding="utf-8")
    out = tmp_path / "snapshot"
    (out / "vulns" / "dropped").mkdir(parents=True)  # a package no longer locked goes
    said = update.rebuild(checkout, into=out, locks=[lock])
    assert said.startswith("2 advisories of 2 packages")
    kept = sorted(p.relative_to(out / "vulns").as_posix() for p in (out / "vulns").rglob("*.yaml"))
    assert kept == ["jinja2/PYSEC-2099-1.yaml", "pyyaml/PYSEC-2099-2.yaml"]
    assert not (out / "vulns" / "dropped").exists()
    meta = json.loads((out / "snapshot.json").read_text(encoding="utf-8"))
    assert meta["commit"] == git(checkout, "rev-parse", "HEAD")
    assert meta["date"] == "2024-01-02T03:04:05+00:00"
    assert meta["commit"] in (out / "README.md").read_text(encoding="utf-8")
    snapshot = audit.load_snapshot(out)
    found = audit.snapshot_findings(audit.read_locks([lock]), snapshot)
    assert {(f.package, f.id) for f in found} == {("jinja2", "PYSEC-2099-1")}  # PyYAML 6 is fixed


def test_a_file_that_is_no_advisory_changes_nothing(tmp_path):
    checkout = checkout_with(tmp_path, {"jinja2/PYSEC-2099-1.yaml": "- just a list\n"})
    lock = tmp_path / "requirements.lock"
    lock.write_text("Jinja2==2.11.2\n", encoding="utf-8")
    out = tmp_path / "snapshot"
    (out / "vulns" / "jinja2").mkdir(parents=True)
    (out / "vulns" / "jinja2" / "old.yaml").write_text("id: OLD\n", encoding="utf-8")
    with pytest.raises(update.AuditError, match="not an OSV advisory"):
        update.rebuild(checkout, into=out, locks=[lock])
    assert (out / "vulns" / "jinja2" / "old.yaml").exists()
    assert not (out / "snapshot.json").exists()
