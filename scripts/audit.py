#!/usr/bin/env python3
"""`make audit`: the locked dependencies against known vulnerabilities.

First pip-audit online (PyPI's vulnerability data, then OSV), with a short timeout. A service
counts as having answered only when it audited every locked package: pip-audit reports "no known
vulnerabilities" when PyPI answers 404 for every version, which proves nothing. When no service
answers, the locked versions are checked against the bundled snapshot of the PyPA advisory
database in security/advisories/ (rebuilt by scripts/update-advisories.py), and the snapshot's
commit and age are printed so nobody mistakes an old snapshot for a fresh look.

Any advisory affecting a locked version fails the audit unless security/audit-exceptions.toml
justifies it (id, package, reason, review date); an exception past its review date no longer
excuses anything. Exit 0: clean; 1: findings; 2: the audit itself could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
LOCKS = (ROOT / "requirements.lock", ROOT / "requirements-dev.lock")
SNAPSHOT = ROOT / "security" / "advisories"
EXCEPTIONS = ROOT / "security" / "audit-exceptions.toml"
ONLINE_SERVICES = ("pypi", "osv")
SNAPSHOT_STALE_DAYS = 90
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


class AuditError(Exception):
    """The audit cannot run: a lock, the snapshot or the exceptions file is unreadable."""


@dataclass(frozen=True)
class Pin:
    package: str  # canonical name (PEP 503)
    version: str


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class AuditException:
    id: str
    package: str
    reason: str
    review: dt.date

    def covers(self, finding: Finding) -> bool:
        return self.package == finding.package and (
            self.id == finding.id or self.id in finding.aliases
        )


@dataclass
class Verdict:
    failing: list[Finding] = field(default_factory=list)
    excused: list[tuple[Finding, AuditException]] = field(default_factory=list)
    expired: list[tuple[Finding, AuditException]] = field(default_factory=list)
    unused: list[AuditException] = field(default_factory=list)


# -- the locks ---------------------------------------------------------------------------------


def read_locks(paths: Iterable[Path]) -> list[Pin]:
    """Every `name==version` line of the lock files, once per package (canonical names)."""
    pins: dict[str, Pin] = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.split("#", 1)[0].strip()
            if not text or text.startswith("-"):
                continue
            match = PIN.match(text)
            if match is None:
                raise AuditError(f"{path.name}:{number}: not an exact pin: {line.strip()!r}")
            name, version = canonicalize_name(match.group(1)), match.group(2)
            seen = pins.get(name)
            if seen is not None and seen.version != version:
                raise AuditError(f"{name} is locked at {seen.version} and at {version}")
            pins[name] = Pin(name, version)
    return sorted(pins.values(), key=lambda pin: pin.package)


# -- OSV ranges ---------------------------------------------------------------------------------


def _version(text: str, *, where: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as e:
        raise AuditError(f"{where}: {text!r} is not a PEP 440 version") from e


def range_affects(events: Sequence[Mapping[str, str]], version: Version, *, where: str) -> bool:
    """OSV's evaluation of one ECOSYSTEM range: events in version order, the last one decides.

    `introduced` opens the range at that version ("0" is before every version), `fixed`
    closes it at that version (excluded), `last_affected` closes it after that version.
    """
    points: list[tuple[Version | None, str]] = []
    for event in events:
        for kind, bound in event.items():
            if kind not in ("introduced", "fixed", "last_affected"):
                continue  # `limit` only bounds GIT ranges
            at = None if kind == "introduced" and bound == "0" else _version(bound, where=where)
            points.append((at, kind))
    points.sort(key=lambda point: (point[0] is not None, point[0] or Version("0")))
    affected = False
    for at, kind in points:
        if kind == "introduced" and (at is None or version >= at):
            affected = True
        elif kind == "fixed" and at is not None and version >= at:
            affected = False
        elif kind == "last_affected" and at is not None and version > at:
            affected = False
    return affected


def _listed(version: Version, listed: Iterable[Any]) -> bool:
    for item in listed:
        try:
            if Version(str(item)) == version:
                return True
        except InvalidVersion:
            continue  # a legacy version string can never equal a PEP 440 one
    return False


def affects(advisory: Mapping[str, Any], package: str, version: str) -> bool:
    """Whether an OSV advisory covers `package` at `version` (a range or the explicit list)."""
    if advisory.get("withdrawn"):
        return False
    where = str(advisory.get("id", "?"))
    locked = _version(version, where=f"{package} {version}")
    for entry in advisory.get("affected") or ():
        named = entry.get("package") or {}
        if named.get("ecosystem") != "PyPI" or canonicalize_name(named.get("name", "")) != package:
            continue
        if _listed(locked, entry.get("versions") or ()):
            return True
        for span in entry.get("ranges") or ():
            if span.get("type") in ("ECOSYSTEM", "SEMVER") and range_affects(
                span.get("events") or (), locked, where=where
            ):
                return True
    return False


def fixed_versions(advisory: Mapping[str, Any], package: str) -> tuple[str, ...]:
    found: list[str] = []
    for entry in advisory.get("affected") or ():
        if canonicalize_name((entry.get("package") or {}).get("name", "")) != package:
            continue
        for span in entry.get("ranges") or ():
            if span.get("type") == "ECOSYSTEM":
                found += [e["fixed"] for e in span.get("events") or () if "fixed" in e]
    return tuple(dict.fromkeys(found))


# -- the bundled snapshot ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    commit: str
    date: dt.datetime
    advisories: Mapping[str, list[dict[str, Any]]]  # canonical package -> advisories

    def age_days(self, now: dt.datetime) -> int:
        return (now - self.date).days


def load_snapshot(folder: Path = SNAPSHOT) -> Snapshot:
    meta_path = folder / "snapshot.json"
    if not meta_path.is_file():
        raise AuditError(f"no advisory snapshot at {folder} (scripts/update-advisories.py)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    advisories: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((folder / "vulns").glob("*/*.yaml")):
        advisory = yaml.safe_load(path.read_text(encoding="utf-8"))
        advisories.setdefault(path.parent.name, []).append(advisory)
    return Snapshot(meta["commit"], dt.datetime.fromisoformat(meta["date"]), advisories)


def snapshot_findings(pins: Iterable[Pin], snapshot: Snapshot) -> list[Finding]:
    findings = []
    for pin in pins:
        for advisory in snapshot.advisories.get(pin.package, ()):
            if affects(advisory, pin.package, pin.version):
                findings.append(
                    Finding(
                        pin.package,
                        pin.version,
                        advisory["id"],
                        tuple(advisory.get("aliases") or ()),
                        fixed_versions(advisory, pin.package),
                        str(advisory.get("summary") or advisory.get("details") or "")[:120],
                    )
                )
    return findings


# -- pip-audit online ---------------------------------------------------------------------------


def online_findings(
    locks: Sequence[Path], *, service: str, timeout: int
) -> tuple[list[Finding] | None, str]:
    """pip-audit against one service; None when it did not audit every locked package."""
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps"]
    command += [arg for lock in locks for arg in ("-r", str(lock))]
    command += ["-s", service, "--timeout", str(timeout), "--format", "json"]
    command += ["--progress-spinner", "off"]
    try:
        run = subprocess.run(  # noqa: S603 - a fixed command line
            command, capture_output=True, text=True, check=False, timeout=timeout * 12
        )
    except subprocess.TimeoutExpired:
        return None, f"{service}: no answer within {timeout * 12} s"
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"{service}: {last[:160]}"
    deps = report.get("dependencies", [])
    skipped = [dep for dep in deps if dep.get("skip_reason")]
    if not deps or skipped:
        return None, f"{service}: answered for {len(deps) - len(skipped)} of {len(deps)} packages"
    findings = [
        Finding(
            canonicalize_name(dep["name"]),
            dep["version"],
            vuln["id"],
            tuple(vuln.get("aliases") or ()),
            tuple(vuln.get("fix_versions") or ()),
            str(vuln.get("description") or "")[:120],
        )
        for dep in deps
        for vuln in dep.get("vulns", ())
    ]
    return findings, f"{service}: answered for all {len(deps)} packages"


# -- the exceptions file -----------------------------------------------------------------------

EXCEPTION_KEYS = {"id", "package", "reason", "review"}


def load_exceptions(text: str) -> list[AuditException]:
    """`[[exception]]` tables with id, package, reason (not empty) and review (a date)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise AuditError(f"audit-exceptions.toml: {e}") from e
    unknown_top = set(data) - {"exception"}
    if unknown_top:
        raise AuditError(f"audit-exceptions.toml: unknown keys {sorted(unknown_top)}")
    result = []
    for number, entry in enumerate(data.get("exception", []), 1):
        where = f"audit-exceptions.toml: exception {number}"
        if set(entry) != EXCEPTION_KEYS:
            missing, extra = EXCEPTION_KEYS - set(entry), set(entry) - EXCEPTION_KEYS
            raise AuditError(f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}")
        if not isinstance(entry["review"], dt.date) or isinstance(entry["review"], dt.datetime):
            raise AuditError(f"{where}: review must be a date (2027-01-31)")
        texts = (entry["id"], entry["package"], entry["reason"])
        if not all(isinstance(value, str) and value.strip() for value in texts):
            raise AuditError(f"{where}: id, package and reason must be non-empty text")
        package = canonicalize_name(entry["package"])
        result.append(
            AuditException(entry["id"].strip(), package, entry["reason"].strip(), entry["review"])
        )
    return result


def judge(
    findings: Iterable[Finding], exceptions: Sequence[AuditException], *, today: dt.date
) -> Verdict:
    verdict = Verdict()
    used: set[AuditException] = set()
    for finding in findings:
        cover = next((exc for exc in exceptions if exc.covers(finding)), None)
        if cover is None:
            verdict.failing.append(finding)
            continue
        used.add(cover)
        if cover.review < today:
            verdict.expired.append((finding, cover))
        else:
            verdict.excused.append((finding, cover))
    verdict.unused = [exc for exc in exceptions if exc not in used]
    return verdict


# -- the command --------------------------------------------------------------------------------


def _describe(finding: Finding) -> str:
    also = f" ({', '.join(finding.aliases)})" if finding.aliases else ""
    fixed = f"; fixed in {', '.join(finding.fixed_in)}" if finding.fixed_in else ""
    return f"{finding.package} {finding.version}: {finding.id}{also}{fixed}"


def run_audit(
    *,
    offline: bool,
    timeout: int,
    now: dt.datetime,
    locks: Sequence[Path] = LOCKS,
    exceptions_file: Path = EXCEPTIONS,
) -> int:
    pins = read_locks(locks)
    findings: list[Finding] | None = None
    if not offline:
        for service in ONLINE_SERVICES:
            findings, note = online_findings(locks, service=service, timeout=timeout)
            print(f"pip-audit online, {note}")
            if findings is not None:
                print(f"source: pip-audit with the {service} service ({len(pins)} locked packages)")
                break
    if findings is None:
        snapshot = load_snapshot()
        age = snapshot.age_days(now)
        count = sum(len(items) for items in snapshot.advisories.values())
        print(
            "source: bundled PyPA advisory database snapshot "
            f"{snapshot.commit[:12]} of {snapshot.date.date()} ({age} days old), "
            f"{count} advisories for {len(snapshot.advisories)} of {len(pins)} locked packages"
        )
        if age > SNAPSHOT_STALE_DAYS:
            print(
                f"warning: the snapshot is older than {SNAPSHOT_STALE_DAYS} days; rebuild it with "
                "scripts/update-advisories.py from a fresh checkout of pypa/advisory-database"
            )
        findings = snapshot_findings(pins, snapshot)
    exceptions = load_exceptions(exceptions_file.read_text(encoding="utf-8"))
    verdict = judge(findings, exceptions, today=now.date())
    for finding, exc in verdict.excused:
        print(f"excused until {exc.review}: {_describe(finding)} — {exc.reason}")
    for finding, exc in verdict.expired:
        print(f"FAIL (exception's review date {exc.review} has passed): {_describe(finding)}")
    for finding in verdict.failing:
        print(f"FAIL: {_describe(finding)}")
    for exc in verdict.unused:
        print(f"note: exception {exc.id} ({exc.package}) matches no finding; remove it")
    bad = len(verdict.failing) + len(verdict.expired)
    print(f"{len(findings)} advisories affect locked versions, {bad} not justified")
    return 1 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="only the bundled snapshot")
    parser.add_argument("--timeout", type=int, default=5, help="seconds per online request")
    args = parser.parse_args(argv)
    try:
        return run_audit(offline=args.offline, timeout=args.timeout, now=dt.datetime.now(dt.UTC))
    except AuditError as e:
        print(f"audit could not run: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
