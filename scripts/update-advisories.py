#!/usr/bin/env python3
"""Rebuild security/advisories/ from a checkout of github.com/pypa/advisory-database.

    python scripts/update-advisories.py PATH

Keeps the advisories (vulns/<package>/*.yaml, OSV format, unchanged) of the packages in
requirements.lock and requirements-dev.lock, and writes snapshot.json and README.md with the
checkout's commit and date, which `make audit` prints as the snapshot's age. Run it again after
changing a lock, so a new package's advisories are in the snapshot.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from audit import LOCKS, SNAPSHOT, read_locks  # noqa: E402

README = """# The bundled vulnerability snapshot

`make audit` (scripts/audit.py) reads this folder when no online vulnerability service answers
(this build machine reaches the package registries only). It holds the advisories of the
[PyPA advisory database](https://github.com/pypa/advisory-database) (OSV format, files unchanged)
for the packages in requirements.lock and requirements-dev.lock.

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


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "vulns").is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    checkout = Path(argv[0])
    commit, date = git(checkout, "log", "-1", "--format=%H %cI").split()
    pins = read_locks(LOCKS)
    folders = {canonicalize_name(p.name): p for p in (checkout / "vulns").iterdir() if p.is_dir()}
    target = SNAPSHOT / "vulns"
    shutil.rmtree(target, ignore_errors=True)
    copied = packages = 0
    for pin in pins:
        folder = folders.get(pin.package)
        if folder is None:
            continue
        packages += 1
        (target / pin.package).mkdir(parents=True)
        for path in sorted(folder.glob("*.yaml")):
            shutil.copyfile(path, target / pin.package / path.name)
            copied += 1
    meta = {"source": "https://github.com/pypa/advisory-database", "commit": commit, "date": date}
    (SNAPSHOT / "snapshot.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (SNAPSHOT / "README.md").write_text(
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
    print(f"{copied} advisories of {packages} packages from {commit[:12]} ({date})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
