"""Logging setup: every record passes through personal-data masking before it is written."""

from __future__ import annotations

import logging

from kefu.domain.masking import mask_personal_data


class MaskPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, MaskPersonalData) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(MaskPersonalData())
        root.addHandler(handler)
    root.setLevel(level.upper())
    # One line per outbound HTTP call (order lookups, callbacks) is noise; kefu logs outcomes.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    # bm25s says so each time a knowledge-base index is built (every field of every rebuild).
    logging.getLogger("bm25s").setLevel(max(logging.WARNING, root.level))
