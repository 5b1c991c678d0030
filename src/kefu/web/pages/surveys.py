"""``/s/{token}``: answering a satisfaction survey or follow-up (满意度调查) — public, no sign-in,
reached by the signed link of an e-mail, a WeChat or a web chat message. Mobile first; the scales
as buttons, "solved?" on a follow-up, an optional comment. A link that was already answered,
tampered with, malformed or expired gets a page saying so (410 / 400 / 404) and nothing is stored.
Simplified Chinese, ``?lang=en`` for English. Rate-limited per address.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kefu.api.client_address import client_address
from kefu.api.deps import DB
from kefu.db.base import utcnow
from kefu.db.models import Survey
from kefu.domain import surveys as sv
from kefu.errors import KefuError
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.surveys import answer as answers
from kefu.web import i18n
from kefu.web.guard import check_origin
from kefu.web.pages.admin.forms import Posted, text
from kefu.web.pages.help import _language_redirect
from kefu.web.render import page

router = APIRouter(include_in_schema=False)


def _limited(request: Request) -> bool:
    state = request.app.state
    limiter = getattr(state, "survey_limiter", None)
    if limiter is None:
        limiter = RateLimiter(state.settings.survey_answers_per_minute)
        state.survey_limiter = limiter
    address = client_address(request, state.settings.trusted_proxy_networks)
    return not limiter.hit(f"survey:{address}")


def _questions(survey_kinds: list[str], language: str) -> list[dict[str, Any]]:
    shown = []
    for value in survey_kinds:
        kind = sv.SurveyKind(value)
        scale = sv.SCALES[kind]
        shown.append({
            "kind": kind.value,
            "name": sv.kind_name(kind, language),
            "question": scale.question_en if language == "en" else scale.question_zh,
            "points": [(s, sv.point_label(kind, s, language)) for s in scale.scores],
        })  # fmt: skip
    return shown


def _refused(request: Request, refused: answers.SurveyLinkRefused) -> Response:
    return page(request, "survey/refused.html", {"reason": refused.reason},
                status=refused.status_code)  # fmt: skip


def _form(request: Request, survey: Survey, *, error: str = "", status: int = 200) -> Response:
    language = "en" if i18n.language_of(request) == "en" else "zh"
    context = {"questions": _questions(survey.kinds, language),
               "follow_up": survey.purpose == "follow_up", "error": error}  # fmt: skip
    return page(request, "survey/form.html", context, status=status)


def _limited_page(request: Request) -> Response:
    return page(request, "survey/refused.html", {"reason": "rate_limited"}, status=429)


@router.get("/s/{token}")
def survey_page(token: str, request: Request, db: DB) -> Response:
    redirect = _language_redirect(request)
    if redirect is not None:
        return redirect
    if _limited(request):
        return _limited_page(request)
    secret = request.app.state.settings.secret_key
    try:
        survey = answers.open_survey(db, secret, token, utcnow())
    except answers.SurveyLinkRefused as refused:
        return _refused(request, refused)
    return _form(request, survey)


@router.post("/s/{token}")
def survey_answer(token: str, request: Request, db: DB, form: Posted) -> Response:
    check_origin(request)
    if _limited(request):
        return _limited_page(request)
    settings = request.app.state.settings
    now = utcnow()
    try:
        survey = answers.open_survey(db, settings.secret_key, token, now)
    except answers.SurveyLinkRefused as refused:
        return _refused(request, refused)
    scores: dict[str, object] = {}
    for kind in survey.kinds:
        value = text(form, kind).strip()
        if value.lstrip("-").isdigit() and len(value) <= 3:
            scores[kind] = int(value)
    solved_text = text(form, "solved")
    solved = {"yes": True, "no": False}.get(solved_text)
    if survey.purpose == "follow_up" and solved is None:
        return _form(request, survey, error="solved", status=422)
    try:
        answers.answer_survey(
            db, survey.id, scores=scores, solved=solved, comment=text(form, "comment"),
            via="link", now=now, analysis=request.app.state.intake.analysis(), settings=settings,
        )  # fmt: skip
    except answers.SurveyLinkRefused as refused:
        return _refused(request, refused)
    except KefuError:
        return _form(request, survey, error="scores", status=422)
    return page(request, "survey/thanks.html", {})
