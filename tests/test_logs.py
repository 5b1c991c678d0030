"""Log lines: escaped control characters (log injection), JSON lines, masking in both
formats, and the handlers kefu installs (only the one docs/logging.md names)."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime

import pytest
import uvicorn
from _pytest.logging import LogCaptureHandler
from pydantic import ValidationError

import kefu.app  # noqa: F401 - every kefu module that logs, imported: their loggers exist
from kefu.cli import SERVER_OPTIONS
from kefu.logs import MaskPersonalData, configure_logging, escape_control, make_handler
from kefu.settings import Settings


def _written(log_format: str, *args: object, exc: bool = False, **extra: object) -> str:
    handler = make_handler(log_format)
    stream = io.StringIO()
    handler.setStream(stream)
    logger = logging.getLogger("kefu.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc:
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception(*args, extra=extra)  # type: ignore[arg-type]
        else:
            logger.warning(*args, extra=extra)  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_a_value_with_crlf_stays_on_one_line_in_text():
    written = _written("text", "subject %s", "x\r\nFAKE LINE")
    assert written.count("\n") == 1 and written.endswith("\n")
    assert written.rstrip("\n").endswith("kefu.test_logs: subject x\\r\\nFAKE LINE")


def test_other_control_characters_are_escaped():
    assert escape_control("a\x00b\x1b[31mc\x7f\u2028d\te") == "a\\x00b\\x1b[31mc\\x7f\\u2028d\\te"
    assert escape_control("普通的一行 ok") == "普通的一行 ok"


def test_json_is_one_object_a_line_with_time_level_logger_message_and_extra_fields():
    written = _written(
        "json",
        "refused %s",
        "x\r\nFAKE LINE\u2028",
        actor=7,
        route="/api/v1/users",
        request_id="r1",
    )
    assert written.count("\n") == 1 and "\u2028" not in written
    entry = json.loads(written)
    assert entry["message"] == "refused x\r\nFAKE LINE\u2028"
    assert (entry["level"], entry["logger"]) == ("WARNING", "kefu.test_logs")
    assert (entry["actor"], entry["route"], entry["request_id"]) == (7, "/api/v1/users", "r1")
    stamp = datetime.fromisoformat(entry["time"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0


def test_a_traceback_is_a_field_of_the_json_line():
    entry = json.loads(_written("json", "failed", exc=True))
    assert entry["message"] == "failed"
    assert "ValueError: boom" in entry["exception"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_personal_data_is_masked_in_both_formats(log_format):
    written = _written(
        log_format, "from %s", "13812345678 li.ming@example.cn", client="13912345678"
    )
    assert "13812345678" not in written and "li.ming@" not in written
    assert "138****5678" in written and "l***@example.cn" in written
    if log_format == "json":
        assert json.loads(written)["client"] == "139****5678"


def test_the_log_format_setting_is_text_or_json(monkeypatch):
    assert Settings(env="test").log_format == "text"
    monkeypatch.setenv("KEFU_LOG_FORMAT", "json")
    assert Settings(env="test").log_format == "json"
    monkeypatch.setenv("KEFU_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        Settings(env="test")


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    root.handlers[:] = before
    root.setLevel(level)


def test_kefu_logs_only_to_the_one_handler_the_inventory_names(root_handlers):
    """docs/logging.md: one handler, on stderr, masked; no kefu logger writes anywhere else."""
    configure_logging("INFO", "json")
    configure_logging("INFO", "text")  # configured again (each app does): still one
    root = logging.getLogger()
    ours = [h for h in root.handlers if any(isinstance(f, MaskPersonalData) for f in h.filters)]
    assert len(ours) == 1
    (handler,) = ours
    assert type(handler) is logging.StreamHandler and handler.stream is sys.stderr
    others = [h for h in root.handlers if h is not handler]
    assert all(type(h).__module__.startswith("_pytest") for h in others)  # pytest's capture
    kefu_loggers = [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if name.split(".")[0] == "kefu" and isinstance(logger, logging.Logger)
    ]
    assert len(kefu_loggers) > 20
    assert [lg.name for lg in kefu_loggers if lg.handlers or not lg.propagate] == []


@pytest.fixture
def uvicorn_handlers() -> Iterator[None]:
    """uvicorn's loggers as a fresh process has them (a full run's other servers may have
    configured them), put back afterwards."""
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    before = [(list(lg.handlers), lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.handlers[:] = []
        lg.propagate = True
    yield
    for lg, (handlers, propagate) in zip(loggers, before, strict=True):
        lg.handlers[:] = handlers
        lg.propagate = propagate


def test_kefu_serve_leaves_uvicorns_lines_to_kefus_handler(uvicorn_handlers):
    uvicorn.Config("kefu.app:create_app", factory=True, log_level="info", **SERVER_OPTIONS)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        assert _own_handlers(logger) == [] and logger.propagate, name
    access = logging.getLogger("uvicorn.access")  # off: nginx keeps the access log
    assert _own_handlers(access) == [] and not access.propagate


def _own_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The logger's handlers but pytest's capture (which a full run may leave on any logger)."""
    return [h for h in logger.handlers if not isinstance(h, LogCaptureHandler)]
