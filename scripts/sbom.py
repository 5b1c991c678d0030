#!/usr/bin/env python3
"""`make sbom`: the software bill of materials of what kefu ships, as CycloneDX 1.6 JSON.

Its components are exactly what the locks pin: the Python packages of requirements.lock (the
runtime dependencies, ``pkg:pypi/name@version``; the lock pins versions, not hashes, so these
carry none) and the browser libraries of web-assets/package-lock.json (``pkg:npm/…``, with the
SHA-512 of each tarball from the lock's ``integrity``). The document is a function of the locks
and kefu's version alone — its serial number is a UUID derived from them, and it carries no
timestamp — so security/sbom.cdx.json changes only when a lock does, and
tests/scripts/test_sbom.py checks that the committed one is the locks' current one.

    python scripts/sbom.py            # write security/sbom.cdx.json
    python scripts/sbom.py --check    # exit 1 if security/sbom.cdx.json is not up to date
    python scripts/sbom.py -o FILE    # write it elsewhere
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
PYTHON_LOCK = ROOT / "requirements.lock"
NPM_LOCK = ROOT / "web-assets" / "package-lock.json"
OUTPUT = ROOT / "security" / "sbom.cdx.json"
SPEC_VERSION = "1.6"
# The serial number's namespace: uuid5 of it and the locks' content.
NAMESPACE = uuid.UUID("6f1d3c9e-2b7a-4c55-9a0e-6b3c1f0d8e21")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def python_components(lock_text: str) -> list[dict[str, Any]]:
    """One component per ``name==version`` line of a pip lock (comments and markers ignored)."""
    found = []
    for line in lock_text.splitlines():
        match = PIN.match(line.strip())
        if match is None:
            continue
        name, version = match.groups()
        purl_name = re.sub(r"[-_.]+", "-", name).lower()  # the purl spec's PyPI name
        found.append({
            "type": "library",
            "bom-ref": f"pkg:pypi/{purl_name}@{version}",
            "name": name,
            "version": version,
            "purl": f"pkg:pypi/{purl_name}@{version}",
        })  # fmt: skip
    return found


def npm_components(lock: dict[str, Any]) -> list[dict[str, Any]]:
    """One component per package of an npm lock (v2/v3, ``packages``), the root left out."""
    found = []
    for path, package in sorted(lock.get("packages", {}).items()):
        if not path:
            continue
        full_name = path.rsplit("node_modules/", 1)[-1]
        group, _, name = full_name.rpartition("/")
        version = package["version"]
        purl = f"pkg:npm/{quote(group, safe='') + '/' if group else ''}{name}@{version}"
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": purl,
            **({"group": group} if group else {}),
            "name": name,
            "version": version,
            "purl": purl,
        }
        hashes = _integrity_hashes(package.get("integrity", ""))
        if hashes:
            component["hashes"] = hashes
        if package.get("license"):
            component["licenses"] = [{"expression": package["license"]}]
        found.append(component)
    return found


def _integrity_hashes(integrity: str) -> list[dict[str, str]]:
    """Subresource-integrity strings (``sha512-<base64>``) as CycloneDX hashes (hex)."""
    algorithms = {"sha512": "SHA-512", "sha384": "SHA-384", "sha256": "SHA-256", "sha1": "SHA-1"}
    hashes = []
    for item in integrity.split():
        algorithm, _, digest = item.partition("-")
        if algorithm in algorithms and digest:
            hashes.append({"alg": algorithms[algorithm], "content": base64.b64decode(digest).hex()})
    return hashes


def kefu_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    if "version" in project:
        return str(project["version"])
    text = (ROOT / "src" / "kefu" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    return match.group(1) if match else "0"


def build(python_lock: str, npm_lock: str, version: str) -> dict[str, Any]:
    """The SBOM of these locks' contents and kefu ``version``."""
    components = python_components(python_lock) + npm_components(json.loads(npm_lock))
    serial = uuid.uuid5(NAMESPACE, "\0".join((version, python_lock, npm_lock)))
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial.urn,
        "version": 1,
        "metadata": {
            "component": {
                "type": "application",
                "bom-ref": f"pkg:pypi/kefu@{version}",
                "name": "kefu",
                "version": version,
                "description": "客服 — self-hosted customer service for Chinese-language teams",
                "purl": f"pkg:pypi/kefu@{version}",
            },
            "properties": [
                {"name": "kefu:source", "value": "requirements.lock"},
                {"name": "kefu:source", "value": "web-assets/package-lock.json"},
            ],
        },
        "components": components,
        "dependencies": [
            {"ref": f"pkg:pypi/kefu@{version}", "dependsOn": [c["bom-ref"] for c in components]}
        ],
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def current() -> str:
    """The SBOM of the locks as they are in this checkout."""
    return render(
        build(
            PYTHON_LOCK.read_text(encoding="utf-8"),
            NPM_LOCK.read_text(encoding="utf-8"),
            kefu_version(),
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="only check it is up to date")
    args = parser.parse_args(argv)
    text = current()
    if args.check:
        if not args.output.exists() or args.output.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{args.output} is not the locks' SBOM: run make sbom\n")
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    count = len(json.loads(text)["components"])
    sys.stdout.write(f"wrote {args.output} ({count} components)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
