"""The admin pages' forms: read what was posted, check it with the API's own input models, run
the service in a savepoint, and say what was wrong next to the field it concerns.

A form that fails is shown again with the admin's values and a message per field (status 422).
The request's transaction commits when the handler returns, also after a refusal, so a service
that changed rows before it refused must not leave them: its savepoint is rolled back with the
events it recorded. Messages are in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kefu.errors import KefuError
from kefu.services.events import unit_of_work as events
from kefu.web import i18n
from kefu.web.labels import N_

FORM = "_form"  # errors that belong to no one field: shown above the form
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Errors = dict[str, str]


async def posted_form(request: Request) -> FormData:
    """The posted fields (read once; the CSRF check of web/guard.py has read them already)."""
    return await request.form()


Posted = Annotated[FormData, Depends(posted_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def checked(form: FormData, name: str) -> bool:
    return text(form, name) in ("on", "true", "1")


_SEPARATORS = re.compile(r"[,，、;；\s]+")


def words(value: str) -> list[str]:
    """``VIP，老客户、 lang:en`` → ``["VIP", "老客户", "lang:en"]``: what people type as a list."""
    return [w for w in _SEPARATORS.split(value) if w]


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


# Pydantic's error types, as a person reads them (the limits come from the error's context).
_MESSAGES = {
    "missing": N_("必填"),
    "string_too_short": N_("不能为空"),
    "string_too_long": N_("最多 {max_length} 个字符"),
    "too_long": N_("最多 {max_length} 项"),
    "too_short": N_("至少选择一项"),
    "string_pattern_mismatch": N_("格式不正确"),
    "greater_than_equal": N_("不能小于 {ge}"),
    "less_than_equal": N_("不能大于 {le}"),
    "int_parsing": N_("请输入整数"),
    "int_from_float": N_("请输入整数"),
    "int_type": N_("请输入整数"),
    "enum": N_("请从列表中选择"),
    "literal_error": N_("请从列表中选择"),
}
URL_MESSAGE = N_("请输入以 http:// 或 https:// 开头的网址")


def _message(error: Any, language: str) -> str:
    template = _MESSAGES.get(error["type"], N_("格式不正确"))
    too_short = error["type"] == "string_too_short"
    if too_short and error.get("input") and error.get("ctx", {}).get("min_length", 1) > 1:
        template = N_("至少 {min_length} 个字符")
    if error["type"] == "value_error" and "URL" in str(error.get("msg", "")):
        template = URL_MESSAGE
    try:
        return i18n.gettext(language, template).format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        return i18n.gettext(language, template)


def validate(model: type[M], data: dict[str, Any], language: str) -> tuple[M | None, Errors]:
    """``data`` checked by an API input model; on failure, the first problem of each field."""
    try:
        return model.model_validate(data), {}
    except ValidationError as e:
        errors: Errors = {}
        for error in e.errors():
            field = str(error["loc"][0]) if error["loc"] else FORM
            errors.setdefault(field if field in data else FORM, _message(error, language))
        return None, errors


def service_errors(error: KefuError, language: str, fields: Iterable[str]) -> Errors:
    """A service's refusal placed at the field its details name (``{"field": "email"}``, or a
    field's own name as a key), else above the form."""
    names = set(fields)
    details = error.details if isinstance(error.details, dict) else {}
    field = details.get("field")
    if field not in names:
        field = next((key for key in details if key in names), FORM)
    return {str(field): error.message(language)}


def attempt(
    db: Session, change: Callable[[], T], language: str, fields: Iterable[str]
) -> tuple[T | None, Errors]:
    """Run a service's change in a savepoint: its result, or nothing done and the errors."""
    try:
        with events.savepoint(db):
            return change(), {}
    except KefuError as e:
        if e.status_code in (401, 403, 429) or e.status_code >= 500:
            raise  # not the form's fault: the error page says it
        return None, service_errors(e, language, fields)
