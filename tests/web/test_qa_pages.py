"""The quality-review pages over HTTP (/qa, /qa/reviews/{id}): the reviewers' queue and the
agreement table for supervisors, an agent's own reviews, a review's conversation with its
evidence marked, a supervisor's judgement and an agent's dispute."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kefu.db.models import QaReview
from tests import factories
from tests.services.qa.cases import resolve, rude_case, say, sweep
from tests.web.conftest import SignIn


def _row(html: str, criterion: str) -> str:
    """The agreement table's row of a criterion."""
    match = re.search(rf'<tr data-criterion="{criterion}">(.*?)</tr>', html, re.S)
    assert match, html[:2000]
    return match[1]


def _reload(db: Session, review: QaReview) -> None:
    db.rollback()
    db.refresh(review)


@pytest.mark.parametrize("role", ["agent", "specialist", "supervisor", "admin"])
def test_every_staff_role_has_the_page_in_its_navigation(
    db: Session, sign_in: SignIn, role: str
) -> None:
    browser = sign_in(factories.make_user(db, role=role))
    assert 'href="/qa"' in browser.client.get("/inbox").text
    page = browser.client.get("/qa")
    assert page.status_code == 200 and "<h1>质检</h1>" in page.text


def test_the_queue_lists_a_low_scoring_case_for_a_supervisor(
    db: Session, engine: Engine, sign_in: SignIn
) -> None:
    agent = factories.make_user(db, name="王小二")
    review = rude_case(db, engine, agent)
    browser = sign_in(factories.make_user(db, role="supervisor"))
    html = browser.client.get("/qa").text
    row = re.search(rf'<tr class="qa-row[^"]*">(?:(?!</tr>).)*/qa/reviews/{review.id}".*?</tr>',
                    html, re.S)  # fmt: skip
    assert row, html
    assert f'href="/tickets/{review.ticket_id}"' in row[0]
    assert "王小二" in row[0] and "否决" in row[0] and "礼貌与担当" in row[0]
    assert "开场问候" in row[0] and "待复核" in row[0]
    assert f"<strong>{review.total:.0f}</strong>" in row[0]
    assert "暂无复核" in _row(html, "courtesy")  # no judgement yet


def test_an_agent_sees_only_their_own_reviews(db: Session, engine: Engine, sign_in: SignIn) -> None:
    mine_user, other_user = factories.make_user(db), factories.make_user(db)
    mine, theirs = rude_case(db, engine, mine_user), rude_case(db, engine, other_user)
    agent = sign_in(mine_user)
    html = agent.client.get("/qa").text
    assert f"/qa/reviews/{mine.id}" in html and f"/qa/reviews/{theirs.id}" not in html
    assert "近 30 天平均分" in html and f"{mine.total:.1f}" in html
    missed = re.search(r'<ol class="qa-missed">(.*?)</ol>', html, re.S)
    assert missed and "礼貌与担当" in missed[1]
    assert 'id="agreement"' not in html  # the reviewers' table is theirs
    assert agent.client.get(f"/qa/reviews/{mine.id}").status_code == 200

    stranger = sign_in(factories.make_user(db))
    answer = stranger.client.get(f"/qa/reviews/{mine.id}")
    assert answer.status_code == 404 and "<html" in answer.text
    posted = stranger.form(f"/qa/reviews/{mine.id}/dispute", {"comment": "不是我的"})
    assert posted.status_code == 404
    assert stranger.client.get("/qa/reviews/999999").status_code == 404
    _reload(db, mine)
    assert mine.status == "automatic"


def test_the_evidence_is_marked_and_message_text_is_never_markup(
    db: Session, engine: Engine, sign_in: SignIn
) -> None:
    agent = factories.make_user(db)
    ticket = factories.make_ticket(db, text="快递呢")
    ticket.assignee_id = agent.id
    say(db, ticket, "customer", '<script>alert("x")</script>快递一周了还没到！', 0, "angry")
    say(db, ticket, "agent", "<b>注意</b>这是快递公司的问题，跟我们没关系。", 2)
    db.commit()
    resolve(db, ticket)
    sweep(db, engine)
    review = db.scalar(select(QaReview).where(QaReview.ticket_id == ticket.id))
    assert review is not None
    courtesy = next(r for r in review.results if r["criterion"] == "courtesy")
    evidence = courtesy["evidence"][0]["text"]
    html = sign_in(agent).client.get(f"/qa/reviews/{review.id}").text
    assert f'<mark class="qa-fail">{evidence}</mark>' in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>注意</b>" not in html and "&lt;b&gt;注意&lt;/b&gt;" in html
    assert "礼貌与担当 · 未通过" in html  # the message names what it is evidence of


def test_a_supervisor_corrects_a_criterion_and_the_agreement_changes(
    db: Session, engine: Engine, sign_in: SignIn
) -> None:
    agent_user = factories.make_user(db)
    review = rude_case(db, engine, agent_user)
    boss = sign_in(factories.make_user(db, role="supervisor"))
    page = boss.client.get(f"/qa/reviews/{review.id}").text
    assert 'name="verdict_courtesy"' in page and 'form="qa-judge"' in page

    refused = boss.form(f"/qa/reviews/{review.id}/judgement", {"verdict_courtesy": "maybe"})
    assert refused.status_code == 422 and "结论只能是 pass、fail 或 na。" in refused.text

    agent = sign_in(agent_user)
    assert agent.form(f"/qa/reviews/{review.id}/judgement", {"comment": "我改"}).status_code == 403

    answer = boss.form(
        f"/qa/reviews/{review.id}/judgement",
        {"verdict_courtesy": "pass", "comment": "说明了快递的情况，不算推责"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/qa/reviews/{review.id}?done=judged"
    shown = boss.client.get(answer.headers["location"]).text
    assert "复核结论已保存" in shown and "已更正" in shown
    assert (
        "说明了快递的情况，不算推责"
        in sign_in(agent_user).client.get(f"/qa/reviews/{review.id}").text
    )
    _reload(db, review)
    assert review.status == "corrected" and review.failed_critical == []

    html = boss.client.get("/qa").text
    assert f"/qa/reviews/{review.id}" not in html  # judged: out of the queue
    courtesy = _row(html, "courtesy")
    assert "<td>1</td>" in courtesy and "0%" in courtesy
    assert "仅供参考" in courtesy
    greeting = _row(html, "greeting")
    assert "100%" in greeting and "可信" in greeting


def test_the_agent_disputes_and_a_second_dispute_is_explained(
    db: Session, engine: Engine, sign_in: SignIn
) -> None:
    agent_user = factories.make_user(db)
    review = rude_case(db, engine, agent_user)
    agent = sign_in(agent_user)
    page = agent.client.get(f"/qa/reviews/{review.id}").text
    assert 'id="qa-dispute"' in page and 'id="qa-judge"' not in page

    empty = agent.form(
        f"/qa/reviews/{review.id}/dispute", {"criterion": "courtesy", "comment": " "}
    )
    assert empty.status_code == 422 and "请填写理由。" in empty.text
    assert '<option value="courtesy" selected>' in empty.text  # the choice kept

    path = f"/qa/reviews/{review.id}/dispute"
    answer = agent.form(path, {"criterion": "courtesy", "comment": "我在说明<快递>的情况"})
    assert answer.status_code == 303
    shown = agent.client.get(answer.headers["location"]).text
    assert "申诉已提交" in shown and "申诉中" in shown and "等待主管复核" in shown
    assert "我在说明&lt;快递&gt;的情况" in shown
    assert 'id="qa-dispute"' not in shown  # one open dispute at a time

    again = agent.form(path, {"comment": "再申诉一次"})
    assert again.status_code == 409
    assert "这条质检结果已在申诉中，请等待主管答复" in again.text and "再申诉一次" in again.text

    boss = sign_in(factories.make_user(db, role="supervisor"))
    queue = boss.client.get("/qa").text
    assert re.search(rf'qa-disputed">.*?/qa/reviews/{review.id}"', queue, re.S)
    judged = boss.form(f"/qa/reviews/{review.id}/judgement", {"comment": "维持：确有推责"})
    assert judged.status_code == 303
    answered = agent.client.get(f"/qa/reviews/{review.id}").text
    assert "维持：确有推责" in answered and "已确认" in answered


def test_forms_need_the_csrf_token(db: Session, engine: Engine, sign_in: SignIn) -> None:
    agent_user = factories.make_user(db)
    review = rude_case(db, engine, agent_user)
    agent = sign_in(agent_user)
    answer = agent.client.post(
        f"/qa/reviews/{review.id}/dispute",
        data={"comment": "理由"},
        headers={"Origin": str(agent.client.base_url).rstrip("/")},
    )
    assert answer.status_code == 403
    _reload(db, review)
    assert review.status == "automatic"


def test_the_pages_in_english(db: Session, engine: Engine, sign_in: SignIn) -> None:
    agent_user = factories.make_user(db)
    review = rude_case(db, engine, agent_user)
    boss = sign_in(factories.make_user(db, role="supervisor"))
    boss.client.cookies.set("kefu_lang", "en")
    html = boss.client.get("/qa").text
    assert "Quality review" in html and "Courtesy and ownership" in html
    assert "Advisory only" not in html and "No judgements yet" in html
    page = boss.client.get(f"/qa/reviews/{review.id}").text
    assert "Conversation" in page and "Fail" in page and "Save the judgement" in page
    assert ">Explanation<" in page and ">Agent<" in html and ">Ticket<" in html
    # The verdicts' explanations are the reader's language too, not the Chinese they are stored in.
    assert "A reply shifts blame, dismisses the customer&#39;s feelings or is impolite." in page
    assert "推卸责任" not in page
    assert '<span class="chip">Customer</span>' in page  # one person, not the Customers menu
    agent = sign_in(agent_user)
    agent.client.cookies.set("kefu_lang", "en")
    refused = agent.form(f"/qa/reviews/{review.id}/dispute", {"comment": ""})
    assert refused.status_code == 422 and "Please give a reason." in refused.text


def test_the_criteria_are_named_as_the_domain_names_them() -> None:
    from kefu.domain.qa.criteria import NAMES
    from kefu.web.labels import LABELS

    assert LABELS["qa_criterion"] == {c.value: name for c, name in NAMES.items()}
