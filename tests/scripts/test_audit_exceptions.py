"""scripts/audit.py: the locks, the exceptions file and the verdict of `make audit`."""

import datetime as dt
import subprocess
import sys

import pytest

from tests.scripts.audit_module import PATH, audit

TODAY = dt.date(2026, 12, 1)
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
ONE = """
[[exception]]
id = "CVE-2020-28493"
package = "Jinja2"
reason = "kefu never uses the urlize filter"
review = 2027-01-31
"""


def finding(id_="PYSEC-2021-66", package="jinja2", aliases=("CVE-2020-28493",)):
    return audit.Finding(package, "2.11.2", id_, aliases)


def test_an_exception_needs_every_field_and_a_real_date():
    (exc,) = audit.load_exceptions(ONE)
    assert (exc.id, exc.package, exc.review) == ("CVE-2020-28493", "jinja2", dt.date(2027, 1, 31))
    for broken, message in [
        (ONE.replace('reason = "kefu never uses the urlize filter"', ""), "missing"),
        (ONE.replace("kefu never uses the urlize filter", "  "), "non-empty"),
        (ONE.replace("2027-01-31", '"2027-01-31"'), "must be a date"),
        (ONE.replace("2027-01-31", "2027-01-31T10:00:00"), "must be a date"),
        (ONE + 'owner = "me"\n', "unknown"),
        ("[exceptions]\n", "unknown keys"),
        ("[[exception]\n", "audit-exceptions.toml"),
    ]:
        with pytest.raises(audit.AuditError, match=message):
            audit.load_exceptions(broken)


def test_an_exception_excuses_its_advisory_by_id_or_alias_until_its_review_date():
    exceptions = audit.load_exceptions(ONE)
    verdict = audit.judge([finding()], exceptions, today=TODAY)
    assert verdict.excused == [(finding(), exceptions[0])] and not verdict.failing
    on_the_day = audit.judge([finding()], exceptions, today=dt.date(2027, 1, 31))
    assert on_the_day.excused and not on_the_day.expired
    late = audit.judge([finding()], exceptions, today=dt.date(2027, 2, 1))
    assert late.expired == [(finding(), exceptions[0])] and not late.excused


def test_an_exception_for_another_package_or_advisory_excuses_nothing():
    exceptions = audit.load_exceptions(ONE)
    other = [finding(package="markupsafe"), finding(id_="PYSEC-2019-217", aliases=())]
    verdict = audit.judge(other, exceptions, today=TODAY)
    assert verdict.failing == other
    assert verdict.unused == exceptions


def test_the_committed_exceptions_file_is_valid():
    audit.load_exceptions(audit.EXCEPTIONS.read_text(encoding="utf-8"))


def test_locks_give_one_exact_pin_per_canonical_name(tmp_path):
    lock = tmp_path / "a.lock"
    lock.write_text("# comment\nPyYAML==6.0.4\n\n-e .\nJinja2==3.1.6  # why\n", encoding="utf-8")
    twin = tmp_path / "b.lock"
    twin.write_text("jinja2==3.1.6\n", encoding="utf-8")
    assert audit.read_locks([lock, twin]) == [
        audit.Pin("jinja2", "3.1.6"),
        audit.Pin("pyyaml", "6.0.4"),
    ]
    twin.write_text("jinja2==3.1.5\n", encoding="utf-8")
    with pytest.raises(audit.AuditError, match="locked at 3.1.6 and at 3.1.5"):
        audit.read_locks([lock, twin])
    twin.write_text("jinja2>=3\n", encoding="utf-8")
    with pytest.raises(audit.AuditError, match="not an exact pin"):
        audit.read_locks([twin])


def test_the_project_locks_are_all_exact_pins():
    pins = audit.read_locks(audit.LOCKS)
    assert {"fastapi", "pip-audit", "pyyaml"} <= {pin.package for pin in pins}


def run_offline(tmp_path, lock_text, exceptions_text, capsys):
    lock = tmp_path / "requirements.lock"
    lock.write_text(lock_text, encoding="utf-8")
    exceptions = tmp_path / "audit-exceptions.toml"
    exceptions.write_text(exceptions_text, encoding="utf-8")
    code = audit.run_audit(
        offline=True, timeout=1, now=NOW, locks=[lock], exceptions_file=exceptions
    )
    return code, capsys.readouterr().out


def test_an_affected_lock_fails_unless_justified(tmp_path, capsys):
    code, out = run_offline(tmp_path, "Jinja2==2.11.2\n", "", capsys)
    assert code == 1
    assert "source: bundled PyPA advisory database snapshot" in out and "days old" in out
    assert "FAIL: jinja2 2.11.2: PYSEC-2021-66" in out
    excuse_all = "".join(
        f'[[exception]]\nid = "{f.id}"\npackage = "jinja2"\nreason = "test"\nreview = 2027-01-31\n'
        for f in audit.snapshot_findings([audit.Pin("jinja2", "2.11.2")], audit.load_snapshot())
    )
    code, out = run_offline(tmp_path, "Jinja2==2.11.2\n", excuse_all, capsys)
    assert code == 0 and "excused until 2027-01-31" in out and "FAIL" not in out
    code, out = run_offline(
        tmp_path, "Jinja2==2.11.2\n", excuse_all.replace("2027", "2026"), capsys
    )
    assert "FAIL" in out and "review date 2026-01-31 has passed" in out and code == 1


def test_make_audit_passes_on_the_project_locks_offline():
    run = subprocess.run(
        [sys.executable, str(PATH), "--offline"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "source: bundled PyPA advisory database snapshot" in run.stdout
    assert "0 not justified" in run.stdout
