""" "Forgot password": the page that mails a reset link (the same answer for every address) and
the link's page that sets the new password. Public: nobody is signed in here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from kefu.api.cookies import clear_cookie
from kefu.api.deps import DB, AppSettings
from kefu.api.password_reset import Limiter, ask_for_reset
from kefu.errors import KefuError
from kefu.services.staff import password_reset as service
from kefu.web import i18n
from kefu.web.guard import check_signed_out_form, signed_out_form_page
from kefu.web.pages.auth import new_password_error

router = APIRouter(include_in_schema=False)

# Like the sign-in form: a token in a cookie of its own that the form repeats.
RESET_COOKIE = "kefu_reset"
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def _form_page(request: Request, template: str, status: int = 200, **context: object) -> Response:
    return signed_out_form_page(
        request, template, context, cookie=RESET_COOKIE, field="form_token", status=status
    )


@router.get("/password-reset")
def ask_page(request: Request) -> Response:
    return _form_page(request, "workspace/password_reset.html")


@router.post("/password-reset")
def ask(  # nosec: empty or a flag
    request: Request,
    background: BackgroundTasks,
    settings: AppSettings,
    limiter: Limiter,
    email: Annotated[str, Form(max_length=254)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_signed_out_form(request, form_token, RESET_COOKIE)
    if "@" not in email:
        error = i18n.gettext(i18n.language_of(request), "请输入邮箱地址")
        return _form_page(request, "workspace/password_reset.html", 422, error=error)
    ask_for_reset(request, background, settings, limiter, email.strip())
    return _form_page(request, "workspace/password_reset.html", sent=True)


@router.get("/password-reset/{token}")
def new_password_page(request: Request, db: DB, token: Token) -> Response:
    try:
        service.live_token(db, token)
    except KefuError as e:
        message = e.message(i18n.language_of(request))
        return _form_page(request, "workspace/password_reset.html", 400, error=message)
    return _form_page(request, "workspace/password_new.html", token=token)


@router.post("/password-reset/{token}")
def set_new_password(  # nosec: empty or a flag
    request: Request,
    db: DB,
    token: Token,
    new_password: Annotated[str, Form(max_length=200)] = "",
    repeat_password: Annotated[str, Form(max_length=200)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_signed_out_form(request, form_token, RESET_COOKIE)
    language = i18n.language_of(request)
    error = new_password_error(language, new_password, repeat_password)
    if not error:
        try:
            service.do_reset_password(db, token, new_password)
        except KefuError as e:
            if e.code == "reset_link_invalid":
                return _form_page(
                    request, "workspace/password_reset.html", 400, error=e.message(language)
                )
            error = _policy_message(e, language)
    if error:
        return _form_page(request, "workspace/password_new.html", 422, token=token, error=error)
    response = RedirectResponse("/login?reset=1", status_code=303)
    clear_cookie(response, request.app.state.settings, RESET_COOKIE)
    return response


def _policy_message(error: KefuError, language: str) -> str:
    """The password policy's refusal (domain/passwords.py)."""
    if error.code != "validation_error":
        return error.message(language)
    return i18n.gettext(
        language, "这个密码不能用：至少 8 个字符，不能是泄露过的常用密码，也不能包含邮箱名。"
    )
