"""The case panel and the approvals over HTTP: every step of the loop through its form, refusals and
fields that do not pass shown in place, approval above one's authority, and who may see what."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, Ticket
from tests import factories
from tests.web.conftest import Browser, SignIn

SHANGHAI = ZoneInfo("Asia/Shanghai")
COMPLAINT = "买的杯子到货就裂了，太让人失望了"


def htmx_post(browser: Browser, path: str, fields: dict[str, str]) -> httpx.Response:
    """A form as htmx posts it from a page of kefu: same origin, the session's token in the header."""
    headers = {
        "Origin": str(browser.client.base_url).rstrip("/"),
        "HX-Request": "true",
        "X-CSRF-Token": browser.csrf,
    }
    return browser.client.post(path, data=fields, headers=headers)


def step(browser: Browser, ticket_id: int, name: str, **fields: str) -> httpx.Response:
    return htmx_post(browser, f"/tickets/{ticket_id}/case/{name}", fields)


def decide(browser: Browser, ticket_id: int, **fields: str) -> httpx.Response:
    return htmx_post(browser, f"/approvals/{ticket_id}", fields)


def current_stage(html: str) -> str:
    match = re.search(
        r'aria-current="step">\s*<span[^>]*>[^<]*</span>\s*<span class="stage-name">([^<]+)', html
    )
    assert match, html[:2000]
    return match.group(1)


def stored(db: Session, ticket_id: int) -> Ticket:
    db.rollback()  # see what the server committed
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None
    db.refresh(ticket)
    return ticket


def _team(db: Session) -> tuple[object, object, object]:
    group = factories.make_group(db, name="投诉处理组")
    specialist = factories.make_user(db, role="specialist", groups=[group], name="郑丽")
    supervisor = factories.make_user(db, role="supervisor", groups=[group], name="陈静")
    return group, specialist, supervisor


def _complaint(db: Session, group: object, **overrides: object) -> Ticket:
    return factories.make_ticket(
        db, text=COMPLAINT, intent="complaint", category="logistics", group=group, **overrides
    )


def _to_resolving(browser: Browser, ticket_id: int) -> None:
    facts = step(browser, ticket_id, "facts", facts="订单 SL2026 杯子到货破裂", then="advance")
    assert facts.status_code == 200, facts.text
    analysis = step(
        browser,
        ticket_id,
        "analysis",
        category="quality",
        why_1="为什么破？运输中挤压",
        why_2="为什么挤压？易碎品只用了单层包装",
        then="advance",
    )
    assert analysis.status_code == 200, analysis.text
    assert current_stage(analysis.text) == "处理解决"


def test_a_specialist_takes_a_complaint_through_every_step_with_the_forms(
    sign_in: SignIn, db: Session
) -> None:
    group, specialist, _ = _team(db)
    ticket = _complaint(db, group)
    browser = sign_in(specialist)
    panel = browser.client.get(f"/tickets/{ticket.id}/case", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert current_stage(panel.text) == "受理登记"
    assert "还缺少" in panel.text and "关键信息" in panel.text
    assert f'hx-post="/tickets/{ticket.id}/case/facts"' in panel.text
    assert "<html" not in panel.text  # a fragment for the ticket page's section

    saved = step(browser, ticket.id, "facts", facts="订单 SL2026 杯子到货破裂")
    assert (saved.status_code, current_stage(saved.text)) == (200, "受理登记")
    assert "已记录关键信息" in saved.text and "还缺少" not in saved.text
    moved = step(browser, ticket.id, "advance")
    assert current_stage(moved.text) == "分析评估"
    assert "确认问题类别，用 5 Why 找到根本原因" in moved.text

    analysis = step(
        browser,
        ticket.id,
        "analysis",
        category="quality",
        why_1="为什么破？运输中挤压",
        why_2="为什么挤压？易碎品只用了单层包装",
        then="advance",
    )
    assert current_stage(analysis.text) == "处理解决"
    assert "易碎品只用了单层包装" in analysis.text  # the record shows the 5-Why chain
    assert stored(db, ticket.id).category == "quality"  # the confirmed category, not the guess

    solution = step(
        browser,
        ticket.id,
        "solution",
        solution="补发新杯子",
        kind="coupon",
        amount="50",
        then="advance",
    )
    assert current_stage(solution.text) == "跟进反馈"
    assert "¥50.00" in solution.text and "在授权内" in solution.text

    unhappy = step(browser, ticket.id, "feedback", rating="2")
    assert "★★☆☆☆" in unhappy.text
    sent_back = step(browser, ticket.id, "send-back")
    assert current_stage(sent_back.text) == "处理解决"
    step(browser, ticket.id, "advance")
    feedback = step(browser, ticket.id, "feedback", confirmed="yes", rating="5")
    assert feedback.status_code == 200 and "★★★★★" in feedback.text
    archived = step(browser, ticket.id, "archive", lesson="易碎品一律双层包装")
    assert current_stage(archived.text) == "总结归档"
    assert f'hx-post="/tickets/{ticket.id}/case/reopen"' in archived.text
    row = stored(db, ticket.id)
    assert (row.stage, row.status) == ("archived", "closed")

    reopened = step(browser, ticket.id, "reopen")
    assert current_stage(reopened.text) == "处理解决" and "重新打开 1 次" in reopened.text
    db.rollback()
    steps = db.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.action == "case.step", AuditEvent.ticket_id == ticket.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [s["step"] for s in steps] == [
        "facts",
        "stage:analyzing",
        "analysis",
        "stage:resolving",
        "solution",
        "stage:following_up",
        "feedback",
        "stage:resolving",
        "stage:following_up",
        "feedback",
        "stage:archived",
        "reopened",
    ]


def test_fields_that_do_not_pass_are_marked_with_what_was_typed_and_nothing_changes(
    sign_in: SignIn, db: Session
) -> None:
    group, specialist, _ = _team(db)
    ticket = _complaint(db, group)
    browser = sign_in(specialist)
    empty = step(browser, ticket.id, "facts", facts="   ")
    assert empty.status_code == 422
    assert "请写下客户反映的关键信息" in empty.text
    assert (
        'name="facts" rows="4" maxlength="5000"' in empty.text
        and 'aria-invalid="true"' in empty.text
    )
    refused = step(browser, ticket.id, "advance")
    assert refused.status_code == 409
    assert "「受理登记」还缺少：关键信息" in refused.text

    step(browser, ticket.id, "facts", facts="杯子破了", then="advance")
    no_category = step(browser, ticket.id, "analysis", category="", why_1="运输中挤压 <b>")
    assert no_category.status_code == 422
    assert "请选择问题类别" in no_category.text
    assert 'value="运输中挤压 &lt;b&gt;"' in no_category.text  # kept, and escaped
    no_cause = step(browser, ticket.id, "analysis", category="quality", then="advance")
    assert no_cause.status_code == 409  # saved, but there is no root cause to move on with
    assert "已记录分析" in no_cause.text and "还缺少：根本原因" in no_cause.text
    assert current_stage(no_cause.text) == "分析评估"

    step(browser, ticket.id, "analysis", category="quality", root_cause="包装太薄", then="advance")
    for fields, message in (
        ({"solution": "退款", "kind": "cash", "amount": "1.234"}, "金额最多两位小数"),
        ({"solution": "退款", "kind": "cash", "amount": "-5"}, "金额须在 0 到 1,000,000 元之间"),
        ({"solution": "退款", "kind": "cash", "amount": "很多"}, "请填写金额"),
        ({"solution": "退款", "kind": "", "amount": "20"}, "请选择补偿方式"),
        ({"solution": "", "kind": "", "amount": ""}, "请写下解决方案"),
    ):
        answer = step(browser, ticket.id, "solution", **fields)
        assert answer.status_code == 422, fields
        assert message in answer.text, fields
    wait = step(browser, ticket.id, "wait", on="customer", until="2020-01-01T10:00")
    assert wait.status_code == 422 and "等待的截止时间须在将来" in wait.text
    assert step(browser, ticket.id, "wait", on="moon").status_code == 422
    assert step(browser, ticket.id, "fly").status_code == 404
    row = stored(db, ticket.id)
    assert (row.stage, row.waiting_on, row.case_file.get("solution")) == ("resolving", None, None)


def test_a_refusal_speaks_english_to_an_english_reader(sign_in: SignIn, db: Session) -> None:
    group, specialist, _ = _team(db)
    ticket = _complaint(db, group)
    browser = sign_in(specialist)
    browser.client.get("/language?to=en&back=/account")
    refused = step(browser, ticket.id, "advance")
    assert refused.status_code == 409
    assert "registered still needs: facts" in refused.text
    assert "Registration" in refused.text or "Registered" in refused.text
    empty = step(browser, ticket.id, "facts", facts="")
    assert "Write down the key facts" in empty.text


def test_compensation_above_her_authority_waits_and_a_supervisor_approves_it_from_the_list(
    sign_in: SignIn, db: Session
) -> None:
    group, specialist, supervisor = _team(db)
    ticket = _complaint(db, group)
    her = sign_in(specialist)
    _to_resolving(her, ticket.id)
    proposed = step(
        her, ticket.id, "solution", solution="退款并补偿", kind="cash", amount="300", then="advance"
    )
    assert proposed.status_code == 409  # saved; moving on needs the approval
    assert "已保存解决方案" in proposed.text and "还缺少：补偿审批" in proposed.text
    assert "补偿待审批" in proposed.text and "需要客服主管审批" in proposed.text
    assert "已提交，等待客服主管审批" in proposed.text
    assert 'value="approve"' not in proposed.text  # no approve button above her authority
    assert current_stage(proposed.text) == "处理解决"
    forced = step(her, ticket.id, "approval", decision="approve")
    assert forced.status_code == 403 and "该补偿超出你的授权，需要主管审批" in forced.text
    assert her.client.get("/approvals").text.count("approval card") == 0

    boss = sign_in(supervisor)
    listed = boss.client.get("/approvals", headers={"HX-Request": "true"})
    assert listed.status_code == 200
    assert f'hx-post="/approvals/{ticket.id}"' in listed.text and "¥300.00" in listed.text
    assert "退款并补偿" in listed.text and "客诉专员" in listed.text
    card = boss.client.get(f"/approvals/{ticket.id}")
    assert card.status_code == 200 and 'value="reject"' in card.text
    approved = decide(boss, ticket.id, decision="approve", comment="同意，尽快安抚")
    assert approved.status_code == 200 and "补偿已批准" in approved.text
    assert "没有等你审批的补偿" in boss.client.get("/approvals").text
    again = decide(boss, ticket.id, decision="reject", comment="改主意")
    assert again.status_code == 409 and "没有待审批的补偿" in again.text

    panel = her.client.get(f"/tickets/{ticket.id}/case")
    assert "客服主管已批准" in panel.text and "同意，尽快安抚" in panel.text
    assert "还缺少" not in panel.text
    moved = step(her, ticket.id, "advance")
    assert current_stage(moved.text) == "跟进反馈"
    db.rollback()
    approvals = db.scalars(
        select(AuditEvent.actor_id).where(
            AuditEvent.action == "case.step",
            AuditEvent.after["step"].as_string() == "approved:supervisor",
        )
    ).all()
    assert approvals == [supervisor.id]  # type: ignore[attr-defined]


def test_a_supervisor_decides_in_the_case_panel_and_a_rejection_needs_a_reason(
    sign_in: SignIn, db: Session
) -> None:
    group, specialist, supervisor = _team(db)
    ticket = _complaint(db, group)
    her, boss = sign_in(specialist), sign_in(supervisor)
    _to_resolving(her, ticket.id)
    step(her, ticket.id, "solution", solution="退款并补偿", kind="cash", amount="300")
    panel = boss.client.get(f"/tickets/{ticket.id}/case")
    assert f'hx-post="/tickets/{ticket.id}/case/approval"' in panel.text
    silent = step(boss, ticket.id, "approval", decision="reject", comment=" ")
    assert silent.status_code == 422 and "驳回时请写明理由" in silent.text
    rejected = step(boss, ticket.id, "approval", decision="reject", comment="金额过高，先补发")
    assert rejected.status_code == 200 and "补偿已驳回" in rejected.text

    seen = her.client.get(f"/tickets/{ticket.id}/case").text
    assert "补偿被驳回" in seen and "金额过高，先补发" in seen
    assert "修改后的解决方案（补偿被驳回）" in seen
    assert "没有等你审批的补偿" in boss.client.get("/approvals").text
    revised = step(
        her, ticket.id, "solution", solution="补发", kind="coupon", amount="20", then="advance"
    )
    assert current_stage(revised.text) == "跟进反馈"


def test_waiting_with_an_agreed_time_shows_its_clock_until_resumed(
    sign_in: SignIn, db: Session
) -> None:
    group, specialist, _ = _team(db)
    ticket = _complaint(db, group)
    browser = sign_in(specialist)
    due = (datetime.now(SHANGHAI) + timedelta(days=2)).replace(second=0, microsecond=0)
    waiting = step(
        browser, ticket.id, "wait", on="third_party", until=due.strftime("%Y-%m-%dT%H:%M")
    )
    assert waiting.status_code == 200
    assert "等待第三方" in waiting.text and "已挂起等待" in waiting.text
    utc = due.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert f'data-due="{utc}"' in waiting.text
    assert f'hx-post="/tickets/{ticket.id}/case/wait"' not in waiting.text  # it waits already
    row = stored(db, ticket.id)
    assert (row.status, row.waiting_on) == ("pending", "third_party")
    resumed = step(browser, ticket.id, "resume")
    assert "已结束等待" in resumed.text and "data-due" not in resumed.text
    assert stored(db, ticket.id).status == "open"


def test_a_question_gets_the_plain_status_actions(sign_in: SignIn, db: Session) -> None:
    group = factories.make_group(db)
    agent = factories.make_user(db, groups=[group])
    question = factories.make_ticket(db, text="请问周末发货吗？", intent="inquiry", group=group)
    browser = sign_in(agent)
    panel = browser.client.get(f"/tickets/{question.id}/case").text
    assert current_stage(panel) == "处理中" and "普通工单" in panel
    assert "标记为已解决" in panel and "/case/facts" not in panel
    resolved = step(browser, question.id, "status", status="resolved")
    assert current_stage(resolved.text) == "已解决" and "状态已更新" in resolved.text
    closed = step(browser, question.id, "status", status="closed")
    assert "工单已关闭" in closed.text
    reopened = step(browser, question.id, "status", status="open")
    assert current_stage(reopened.text) == "处理中"
    assert step(browser, question.id, "status", status="pending").status_code == 422
    assert stored(db, question.id).reopen_count == 1


def test_another_groups_agent_gets_404_and_a_foreign_form_is_refused(
    sign_in: SignIn, db: Session
) -> None:
    group, specialist, _ = _team(db)
    ticket = _complaint(db, group)
    outsider = sign_in(factories.make_user(db, groups=[factories.make_group(db)]))
    page = outsider.client.get(f"/tickets/{ticket.id}/case/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<html" in page.text  # a page for a person
    assert outsider.client.get(f"/tickets/{ticket.id}/case").status_code == 404
    assert step(outsider, ticket.id, "facts", facts="x").status_code == 404
    assert outsider.client.get(f"/approvals/{ticket.id}").status_code == 404
    assert decide(outsider, ticket.id, decision="approve").status_code == 404
    her = sign_in(specialist)
    foreign = her.client.post(
        f"/tickets/{ticket.id}/case/facts",
        data={"facts": "x", "csrf_token": her.csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    tokenless = her.client.post(
        f"/tickets/{ticket.id}/case/facts",
        data={"facts": "x"},
        headers={"Origin": str(her.client.base_url).rstrip("/")},
    )
    assert tokenless.status_code == 403
    assert stored(db, ticket.id).case_file == {}


def test_what_people_typed_is_shown_as_text(sign_in: SignIn, db: Session) -> None:
    group, specialist, supervisor = _team(db)
    ticket = _complaint(db, group, subject="<img src=x onerror=alert(1)>")
    browser = sign_in(specialist)
    step(browser, ticket.id, "facts", facts="<script>alert('facts')</script>", then="advance")
    step(
        browser,
        ticket.id,
        "analysis",
        category="quality",
        root_cause="<b>cause</b>",
        then="advance",
    )
    step(
        browser, ticket.id, "solution", solution="<svg onload=alert(2)>", kind="cash", amount="300"
    )
    page = browser.client.get(f"/tickets/{ticket.id}/case/page").text
    listed = sign_in(supervisor).client.get("/approvals").text
    for shown in (page, listed):
        assert "<script>alert" not in shown and "<img src=x" not in shown
        assert "<svg onload" not in shown and "<b>cause" not in shown
        assert "&lt;svg onload=alert(2)&gt;" in shown
    assert "&lt;script&gt;alert(&#39;facts&#39;)&lt;/script&gt;" in page
    assert (
        "&lt;img src=x onerror=alert(1)&gt;" in page
        and "&lt;img src=x onerror=alert(1)&gt;" in listed
    )
