"""The starter library shipped with kefu (starter/*.yaml), loaded into every install.

``ensure_starter_library`` runs after each schema upgrade (``kefu db upgrade``, ``kefu serve``,
``kefu demo``): it adds the starter scripts a library does not have yet, by their keys, and never
touches one that is there — edited, retired or not — so a team's changes survive every upgrade.
"""

from __future__ import annotations

from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Script
from kefu.services.actors import SYSTEM
from kefu.services.scripts import yaml_io

PACKAGE = "kefu.services.scripts"


def starter_files() -> list[tuple[str, str]]:
    folder = resources.files(PACKAGE).joinpath("starter")
    return sorted(
        (item.name, item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".yaml")
    )


def ensure_starter_library(session: Session) -> yaml_io.ImportReport:
    """Add what is missing of the starter library; the caller commits."""
    total = yaml_io.ImportReport()
    have = set(session.scalars(select(Script.key).where(Script.key.like("kefu.%"))))
    for _, text in starter_files():
        parsed = yaml_io.parse(text)
        keys = {s.key for scenario in parsed.scenarios for s in scenario.scripts}
        if keys <= have:
            total.kept += len(keys)
            continue
        report = yaml_io.do_import(
            session, SYSTEM, text, keep_existing=True, note="kefu 初始话术库"
        )
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(report, name))
    return total
