#!/usr/bin/env python3
"""Rebuild security/advisories/ from a checkout of github.com/pypa/advisory-database.

    python scripts/update-advisories.py PATH

Keeps the advisories (vulns/<package>/*.yaml, OSV format, unchanged) of the packages in
requirements.lock and requirements-dev.lock, and writes snapshot.json and README.md with the
checkout's commit and date, which `make audit` prints as the snapshot's age. Run it again after
changing a lock, so a new package's advisories are in the snapshot.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from audit import LOCKS, SNAPSHOT, AuditError, read_locks  # noqa: E402

README = """# The bundled vulnerability snapshot

`make audit` (scripts/audit.py) reads this folder when no online vulnerability service answers
(this build machine reaches the package registries only). It holds the advisories of the
[PyPA advisory database](https://github.com/pypa/advisory-database) (OSV format, files unchanged),
or of a fork that follows it, for the packages in requirements.lock and requirements-dev.lock.

- source: {source}
- commit: `{commit}`
- commit date: {date}
- packages with advisories: {packages} of {locked} locked; {advisories} advisory files

Rebuild after changing a lock, and whenever it is older than three months:

    git clone https://github.com/pypa/advisory-database /tmp/advisory-database
    python scripts/update-advisories.py /tmp/advisory-database
"""


def git(checkout: Path, *args: str) -> str:
    return subprocess.run(  # noqa: S603 - a fixed command line
        ["git", "-C", str(checkout), *args],  # noqa: S607 - git from PATH, like a developer's
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


PYPA = "https://github.com/pypa/advisory-database"


def rebuild(
    checkout: Path, *, into: Path = SNAPSHOT, locks: Sequence[Path] = LOCKS, source: str = PYPA
) -> str:
    """Replace the snapshot in `into` by the locked packages' advisories of `checkout`."""
    commit, date = git(checkout, "log", "-1", "--format=%H %cI").split()
    pins = read_locks(locks)
    folders = {canonicalize_name(p.name): p for p in (checkout / "vulns").iterdir() if p.is_dir()}
    chosen: list[tuple[Path, str]] = []  # every file read and checked before anything changes
    packages = 0
    for pin in pins:
        folder = folders.get(pin.package)
        if folder is None:
            continue
        packages += 1
        for path in sorted(folder.glob("*.yaml")):
            advisory = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(advisory, dict) or "id" not in advisory:
                raise AuditError(f"{path}: not an OSV advisory")
            chosen.append((path, pin.package))
    target = into / "vulns"
    shutil.rmtree(target, ignore_errors=True)
    for path, package in chosen:
        (target / package).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / package / path.name)
    copied = len(chosen)
    meta = {"source": source, "commit": commit, "date": date}
    (into / "snapshot.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (into / "README.md").write_text(
        README.format(
            source=meta["source"],
            commit=commit,
            date=date,
            packages=packages,
            locked=len(pins),
            advisories=copied,
        ),
        encoding="utf-8",
    )
    return f"{copied} advisories of {packages} packages from {commit[:12]} ({date})"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a clone of pypa/advisory-database")
    parser.add_argument("--into", type=Path, default=SNAPSHOT, help="the snapshot folder")
    parser.add_argument(
        "--source", default=PYPA, help="where the checkout came from (a mirror or fork of it)"
    )
    args = parser.parse_args(argv)
    if not (args.checkout / "vulns").is_dir():
        print(f"{args.checkout} has no vulns/ folder", file=sys.stderr)
        return 2
    try:
        print(rebuild(args.checkout, into=args.into, source=args.source))
    except AuditError as e:
        print(f"not rebuilt: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
