"""The optional attachment scanner (KEFU_ATTACHMENT_SCANNER): a command the operator names, e.g.
``clamdscan --no-summary -``, run on each attachment's bytes (its standard input) before the file
is stored. Exit 0 is clean, 1 is infected (refused: 422 ``attachment_infected``); anything else,
a timeout or a command that cannot start is a failure, refused (503 ``attachment_scan_failed``)
or let through as KEFU_ATTACHMENT_SCANNER_FAILURE says. The signatures are the scanner's: kefu
only runs it and obeys its answer."""

from __future__ import annotations

import logging
import shlex
import subprocess  # nosec: the operator's own scanner command, no shell
from dataclasses import dataclass

from kefu.errors import KefuError
from kefu.settings import Settings, get_settings

log = logging.getLogger(__name__)

CLEAN = 0
INFECTED = 1


@dataclass(frozen=True)
class Scanner:
    command: tuple[str, ...]
    refuse_on_failure: bool = True
    timeout_seconds: float = 30.0

    def check(self, data: bytes, *, filename: str = "") -> None:
        """Return when the scanner calls ``data`` clean (or fails and failures are let through);
        raise otherwise. Nothing has been stored when this raises."""
        try:
            done = subprocess.run(  # noqa: S603 - the operator's command, no shell
                self.command,
                input=data,
                capture_output=True,
                timeout=self.timeout_seconds,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            self._failed(f"{type(e).__name__}: {e}", filename)
            return
        if done.returncode == CLEAN:
            return
        if done.returncode == INFECTED:
            log.warning("attachment %r refused by the scanner: %s", filename, _said(done.stdout))
            raise KefuError("attachment_infected", status_code=422, details={"filename": filename})
        self._failed(f"exit {done.returncode}: {_said(done.stderr or done.stdout)}", filename)

    def _failed(self, why: str, filename: str) -> None:
        log.error("attachment scanner failed on %r: %s", filename, why)
        if self.refuse_on_failure:
            raise KefuError("attachment_scan_failed", status_code=503)


def _said(output: bytes) -> str:
    return output.decode("utf-8", "replace").strip()[:300]


def scanner_from(settings: Settings | None = None) -> Scanner | None:
    """The configured scanner, or None when KEFU_ATTACHMENT_SCANNER is empty."""
    settings = settings or get_settings()
    command = tuple(shlex.split(settings.attachment_scanner))
    if not command:
        return None
    return Scanner(
        command,
        refuse_on_failure=settings.attachment_scanner_failure == "refuse",
        timeout_seconds=settings.attachment_scanner_timeout_seconds,
    )
