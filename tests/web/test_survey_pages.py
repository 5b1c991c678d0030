"""The public survey page (/s/{token}) against the live server: answered by the link of the
queued e-mail, and reuse, tampering, expiry and junk each refused with a page of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kefu.app import create_app
from kefu.db.models import OutboxEntry, Survey
from kefu.domain.surveys import SurveyKind
from kefu.services.infra.ratelimit import RateLimiter
from kefu.services.surveys import config
from kefu.services.surveys.send import Links, send_due
from kefu.settings import Settings
from tests import factories
from tests.services.surveys.helpers import complaint_at_follow_up, resolved_inquiry, survey_of
from tests.web.conftest import SignIn

pytestmark = pytest.mark.usefixtures("held_outbox")


def _mailed_link(db: Session, settings: Settings, server: str, *, follow_up: bool = False) -> str:
    customer = factories.make_customer(db, email="sun.li@example.com")
    maker = complaint_at_follow_up if follow_up else resolved_inquiry
    ticket = maker(db, channel="email", customer=customer)
    at = datetime.now(UTC) + (timedelta(days=3, minutes=1) if follow_up else timedelta(minutes=1))
    assert send_due(db, at, Links(settings.secret_key, server))["sent"] == 1
    db.commit()
    survey = survey_of(db, ticket)
    assert survey is not None
    notice = db.get(OutboxEntry, survey.outbox_id)
    assert notice is not None
    return next(w for w in notice.target["text"].split() if w.startswith(f"{server}/s/"))


def test_a_survey_answered_by_the_email_link(
    db: Session, settings: Settings, server: str, anon: httpx.Client
) -> None:
    link = _mailed_link(db, settings, server)
    form = anon.get(link)
    assert form.status_code == 200
    assert 'name="csat"' in form.text and "您对这次服务满意吗" in form.text
    done = anon.post(link, data={"csat": "4", "comment": "很快就解决了，谢谢"})
    assert done.status_code == 200 and "感谢您的反馈" in done.text
    db.rollback()  # see what the server committed
    survey = db.query(Survey).one()
    assert (survey.csat, survey.answered_via, survey.comment) == (4, "link", "很快就解决了，谢谢")
    again = anon.post(link, data={"csat": "1"})
    assert again.status_code == 410 and "已经回答过了" in again.text
    assert anon.get(link).status_code == 410
    db.rollback()  # see what the server committed
    assert db.query(Survey).one().csat == 4


def _csat_today(api: httpx.Client) -> dict[str, object]:
    """CSAT of today's cases as the KPI API (the dashboard's source) reports it."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    got = api.get("/api/v1/analytics/kpis", params={"from": today, "to": today})
    assert got.status_code == 200, got.text
    [whole] = got.json()["slices"]
    return next(m for m in whole["metrics"] if m["metric"] == "csat")


def _csat_card(page: str) -> str:
    """The dashboard's CSAT card, from its ``<li data-metric="csat">`` to the end of it."""
    start = page.index('data-metric="csat"')
    return page[start : page.index("</li>", start)]


def test_an_answer_by_the_email_link_moves_csat(
    db: Session, settings: Settings, server: str, anon: httpx.Client, api: httpx.Client,
    sign_in: SignIn, admin: object,
) -> None:  # fmt: skip
    link = _mailed_link(db, settings, server)
    before = _csat_today(api)
    assert (before["value"], before["verdict"]) == (None, "no_data")  # asked, not answered yet
    supervisor = sign_in(factories.make_user(db, role="supervisor"))
    card = _csat_card(supervisor.client.get("/dashboard").text)
    assert "无数据" in card and "样本 0" in card
    assert anon.post(link, data={"csat": "5"}).status_code == 200
    after = _csat_today(api)
    assert (after["value"], after["numerator"], after["denominator"]) == (100.0, 1.0, 1)
    assert after["verdict"] == "on_target"
    card = _csat_card(supervisor.client.get("/dashboard").text)  # the dashboard, at once
    assert "100.0%" in card and "达标" in card and "样本 1" in card


def test_a_follow_up_asks_whether_it_is_solved(
    db: Session, settings: Settings, server: str, anon: httpx.Client
) -> None:
    link = _mailed_link(db, settings, server, follow_up=True)
    assert 'name="solved"' in anon.get(link).text
    missing = anon.post(link, data={"csat": "2"})
    assert missing.status_code == 422 and "是否已经解决" in missing.text
    assert anon.post(link, data={"csat": "2", "solved": "no"}).status_code == 200
    db.rollback()  # see what the server committed
    survey = db.query(Survey).one()
    assert survey.solved is False and survey.outcome == "send_back"


def test_a_tampered_link_is_refused_and_nothing_stored(
    db: Session, settings: Settings, server: str, anon: httpx.Client
) -> None:
    link = _mailed_link(db, settings, server)
    head, signature = link.rsplit(".", 1)
    tampered = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for answer in (anon.get(tampered), anon.post(tampered, data={"csat": "5"})):
        assert answer.status_code == 400 and "链接无效" in answer.text
    db.rollback()  # see what the server committed
    assert db.query(Survey).one().answered_at is None


def test_an_expired_link_is_refused(
    db: Session, settings: Settings, server: str, anon: httpx.Client
) -> None:
    link = _mailed_link(db, settings, server)
    survey = db.query(Survey).one()
    old = Links(settings.secret_key, server).token(survey.id, datetime.now(UTC) - timedelta(1))
    for answer in (
        anon.get(f"{server}/s/{old}"),
        anon.post(f"{server}/s/{old}", data={"csat": "5"}),
    ):
        assert answer.status_code == 410 and "已过期" in answer.text
    assert anon.get(link).status_code == 200  # the link sent is still good
    db.rollback()  # see what the server committed
    assert db.query(Survey).one().answered_at is None


def test_junk_is_not_a_survey(anon: httpx.Client) -> None:
    answer = anon.get("/s/not-a-token")
    assert answer.status_code == 404 and "找不到这份调查" in answer.text


def test_the_page_speaks_english_on_request(
    db: Session, settings: Settings, server: str, anon: httpx.Client
) -> None:
    link = _mailed_link(db, settings, server)
    page = anon.get(f"{link}?lang=en", follow_redirects=True)
    assert page.status_code == 200 and "How satisfied are you" in page.text


def test_an_admin_switches_a_channels_survey(db: Session, sign_in: SignIn) -> None:
    admin = sign_in(factories.make_user(db, role="admin"))
    page = admin.client.get("/admin/surveys")
    assert page.status_code == 200 and 'action="/admin/surveys/email"' in page.text
    saved = admin.form("/admin/surveys/email", {"enabled": "on", "kinds": ["csat", "nps"],
                                                "via": "link", "link_lifetime_hours": "48"})  # type: ignore[dict-item]  # fmt: skip
    assert saved.status_code == 303
    db.rollback()  # see what the server committed
    setting = config.setting_for(db, "email")
    assert setting.kinds == (SurveyKind.CSAT, SurveyKind.NPS)
    assert setting.link_lifetime == timedelta(hours=48)
    refused = admin.form("/admin/surveys/email", {"enabled": "on", "via": "link"})
    assert refused.status_code == 422 and "alert-error" in refused.text
    agent = sign_in(factories.make_user(db, role="agent"))
    assert agent.client.get("/admin/surveys").status_code == 403


def test_the_ticket_page_shows_the_answer(
    db: Session, settings: Settings, server: str, anon: httpx.Client, sign_in: SignIn
) -> None:
    link = _mailed_link(db, settings, server)
    anon.post(link, data={"csat": "5", "comment": "客服态度太差了，再也不买了"})
    db.rollback()
    survey = db.query(Survey).one()
    admin = sign_in(factories.make_user(db, role="admin"))
    page = admin.client.get(f"/tickets/{survey.ticket_id}")
    assert page.status_code == 200
    assert "CSAT 5" in page.text and "评论与评分不符" in page.text


def test_the_public_survey_page_is_limited_per_client_address(
    db: Session, settings: Settings, engine, server: str, tmp_path
) -> None:
    link = _mailed_link(db, settings, server)
    path = link.removeprefix(server)
    limited = create_app(
        settings.model_copy(update={"survey_answers_per_minute": 3, "data_dir": tmp_path,
                                    "outbox_relay_in_server": False}),
        engine=engine,
    )  # fmt: skip
    with TestClient(limited, client=("198.51.100.80", 50000)) as client:
        # The app's own limit, on one fixed window for the whole test.
        limited.state.survey_limiter = RateLimiter(
            limited.state.settings.survey_answers_per_minute, clock=lambda: 1_000_000.0
        )
        answers = [client.get(path).status_code for _ in range(4)]
        assert answers[:3] == [200, 200, 200] and answers[3] == 429
    with TestClient(limited, client=("198.51.100.81", 50000)) as other:
        assert other.get(path).status_code == 200  # another address has its own count
    db.rollback()
    assert db.query(Survey).one().answered_at is None  # nothing was answered by the refusals
