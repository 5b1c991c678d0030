"""`make sbom` (scripts/sbom.py): a valid CycloneDX 1.6 document of every locked runtime package
and browser library, and the committed security/sbom.cdx.json is the locks' current one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import cyclonedx
import jsonschema_rs

from tests.scripts.audit_module import load_script

sbom = load_script("sbom.py")
SCHEMAS = Path(cyclonedx.__file__).parent / "schema" / "_res"  # shipped with cyclonedx-python-lib


def _schema(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


VALIDATOR = jsonschema_rs.validator_for(
    _schema("bom-1.6.SNAPSHOT.schema.json"),
    retriever=lambda uri: _schema(uri.rsplit("/", 1)[-1]),  # spdx and jsf, beside it
    validate_formats=True,
)


def _errors(document: dict[str, Any]) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


def test_the_committed_sbom_is_the_locks_current_one() -> None:
    assert sbom.OUTPUT.read_text(encoding="utf-8") == sbom.current(), "run make sbom"
    assert sbom.main(["--check"]) == 0


def test_the_sbom_is_valid_cyclonedx_1_6_and_names_every_locked_package() -> None:
    document = json.loads(sbom.current())
    assert _errors(document) == []
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.6")
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", document["serialNumber"])
    components = document["components"]
    refs = [c["bom-ref"] for c in components]
    assert len(refs) == len(set(refs))
    assert all(c["name"] and c["version"] and c["purl"] == c["bom-ref"] for c in components)

    locked = dict(sbom.PIN.match(ln).groups() for ln in  # type: ignore[union-attr]
                  sbom.PYTHON_LOCK.read_text().splitlines() if sbom.PIN.match(ln))  # fmt: skip
    pypi = {c["name"]: c for c in components if c["purl"].startswith("pkg:pypi/")}
    assert {name: c["version"] for name, c in pypi.items()} == locked
    assert pypi["IMAPClient"]["purl"] == f"pkg:pypi/imapclient@{locked['IMAPClient']}"

    npm_lock = json.loads(sbom.NPM_LOCK.read_text())["packages"]
    npm = {c["purl"]: c for c in components if c["purl"].startswith("pkg:npm/")}
    assert len(npm) == len(npm_lock) - 1  # every package but the lock's own root
    for path, package in npm_lock.items():
        if path:
            name = path.removeprefix("node_modules/").replace("@", "%40", 1)
            found = npm[f"pkg:npm/{name}@{package['version']}"]
            [digest] = found["hashes"]
            assert digest["alg"] == "SHA-512" and len(digest["content"]) == 128
    assert npm["pkg:npm/%40kurkle/color@0.6.6"]["group"] == "@kurkle"


def test_the_document_depends_only_on_the_locks() -> None:
    python_lock, npm_lock = sbom.PYTHON_LOCK.read_text(), sbom.NPM_LOCK.read_text()
    one = sbom.build(python_lock, npm_lock, "1.0")
    assert sbom.build(python_lock, npm_lock, "1.0") == one  # no clock, no random serial
    changed = sbom.build(python_lock + "newpkg==1.2.3\n", npm_lock, "1.0")
    assert changed["serialNumber"] != one["serialNumber"]
    assert changed["components"][-4]["purl"] == "pkg:pypi/newpkg@1.2.3"  # before the 3 npm ones


def test_the_validator_catches_what_matters() -> None:
    """The schema check is not vacuous: a broken serial number, a component without a name or
    a hash of another algorithm's length are refused."""
    document = json.loads(sbom.current())
    broken_serial = {**document, "serialNumber": "not-a-urn"}
    nameless = {**document, "components": [{"type": "library", "version": "1"}]}
    short_hash = json.loads(sbom.current())
    next(c for c in short_hash["components"] if "hashes" in c)["hashes"][0]["content"] = "ab"
    wrong_format = {**document, "bomFormat": "SPDX"}
    for bad in (broken_serial, nameless, short_hash, wrong_format):
        assert _errors(bad)
