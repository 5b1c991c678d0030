"""How scripts/audit.py reads OSV advisories: ranges, explicit versions, names, the snapshot."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from tests.scripts.audit_module import audit


def advisory(*, ranges=(), versions=(), name="jinja2", ecosystem="PyPI", **extra):
    entry = {"package": {"name": name, "ecosystem": ecosystem}, "ranges": list(ranges)}
    entry["versions"] = list(versions)
    return {"id": "PYSEC-TEST-1", "affected": [entry], **extra}


def ecosystem(*events):
    return {"type": "ECOSYSTEM", "events": [dict([event]) for event in events]}


def affected(events, version):
    return audit.range_affects(events, Version(version), where="test")


def test_introduced_is_included_and_fixed_is_not():
    events = [{"introduced": "1.2"}, {"fixed": "1.4.1"}]
    assert not affected(events, "1.1.9")
    assert affected(events, "1.2")
    assert affected(events, "1.4.1rc1")
    assert not affected(events, "1.4.1")
    assert not affected(events, "2.0")


def test_introduced_zero_covers_every_earlier_version():
    events = [{"introduced": "0"}, {"fixed": "0.65.2"}]
    assert affected(events, "0.0.1.dev0")
    assert affected(events, "0.65.1")
    assert not affected(events, "0.65.2")


def test_last_affected_is_included():
    events = [{"introduced": "2.0"}, {"last_affected": "2.3.4"}]
    assert affected(events, "2.3.4")
    assert not affected(events, "2.3.4.post1")
    assert not affected(events, "1.9")


def test_a_range_without_an_end_covers_every_later_version():
    assert affected([{"introduced": "3.0"}], "999.1")
    assert not affected([{"introduced": "3.0"}], "2.9")


def test_a_reintroduced_bug_reopens_the_range_whatever_the_events_order():
    events = [{"fixed": "1.5"}, {"introduced": "2.0"}, {"introduced": "1.0"}, {"fixed": "2.2"}]
    assert affected(events, "1.2")
    assert not affected(events, "1.7")
    assert affected(events, "2.1")
    assert not affected(events, "2.2")


def test_limit_events_are_ignored():
    assert affected([{"introduced": "0"}, {"limit": "1.0"}], "5.0")


@given(
    st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)),
    st.integers(0, 30),
    st.integers(0, 30),
)
def test_one_range_is_the_half_open_interval(version, start, end):
    lower, upper = sorted((start, end))
    v = Version(".".join(map(str, version)))
    events = [{"introduced": f"{lower}"}, {"fixed": f"{upper}"}]
    assert affected(events, str(v)) == (Version(str(lower)) <= v < Version(str(upper)))


def test_an_unreadable_bound_stops_the_audit_instead_of_passing():
    with pytest.raises(audit.AuditError, match="not a PEP 440 version"):
        affected([{"introduced": "0"}, {"fixed": "not-a-version"}], "1.0")


def test_the_explicit_versions_list_compares_versions_not_strings():
    listed = advisory(versions=["2.0", "2.1.1"])
    assert audit.affects(listed, "jinja2", "2.0.0")
    assert audit.affects(listed, "jinja2", "2.1.1")
    assert not audit.affects(listed, "jinja2", "2.1")


def test_only_the_named_pypi_package_is_matched_by_its_canonical_name():
    ranges = [ecosystem(("introduced", "0"), ("fixed", "6.0"))]
    assert audit.affects(advisory(ranges=ranges, name="PyYAML"), "pyyaml", "5.4")
    assert not audit.affects(advisory(ranges=ranges, name="pyyaml"), "jinja2", "5.4")
    assert not audit.affects(advisory(ranges=ranges, ecosystem="npm"), "jinja2", "5.4")


def test_git_ranges_and_withdrawn_advisories_affect_nothing():
    git = {"type": "GIT", "repo": "x", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}
    assert not audit.affects(advisory(ranges=[git]), "jinja2", "1.0")
    ranges = [ecosystem(("introduced", "0"))]
    assert not audit.affects(advisory(ranges=ranges, withdrawn="2024-01-01"), "jinja2", "1.0")
    assert audit.affects(advisory(ranges=ranges), "jinja2", "1.0")


def test_the_bundled_snapshot_finds_a_known_advisory_and_its_fix():
    snapshot = audit.load_snapshot()
    old = audit.snapshot_findings([audit.Pin("jinja2", "2.11.2")], snapshot)
    fixed = audit.snapshot_findings([audit.Pin("jinja2", "2.11.3")], snapshot)
    ids = {finding.id for finding in old}
    assert "PYSEC-2021-66" in ids
    assert "PYSEC-2021-66" not in {finding.id for finding in fixed}
    finding = next(f for f in old if f.id == "PYSEC-2021-66")
    assert "CVE-2020-28493" in finding.aliases and "2.11.3" in finding.fixed_in


def test_the_snapshot_records_its_commit_and_date():
    snapshot = audit.load_snapshot()
    readme = (audit.SNAPSHOT / "README.md").read_text(encoding="utf-8")
    assert len(snapshot.commit) == 40 and snapshot.commit in readme
    assert snapshot.date.date().isoformat() in readme
    assert snapshot.date.tzinfo is not None
