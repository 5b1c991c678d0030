"""The trainer's pages over HTTP: the scenarios and one's sessions, a session played as a chat
marked as training to its score card, a supervisor's assignment and the team's results, a reply
refused with a clear message, someone else's session a 404."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tests import factories
from tests.web.conftest import SignIn

GOOD = [
    "您好，非常抱歉让您等了这么久，您着急的心情我完全理解。请您告诉我订单号，我马上帮您查。",
    "谢谢您，给您添麻烦了。包裹在中转站耽误了，我已为您申请加急补发，今天下午5点前发出，明天送到。",
    "好的，补发单号出来我马上发给您。请问还有其他需要帮您的吗？祝您生活愉快！",
]


def _session_url(response) -> str:
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    assert re.fullmatch(r"/training/\d+", url), url
    return url


def test_a_trainee_plays_a_scenario_to_its_score_card(db: Session, sign_in: SignIn) -> None:
    browser = sign_in(factories.make_user(db))
    index = browser.client.get("/training")
    assert index.status_code == 200
    assert "网购包裹一周未到" in index.text and 'href="/training"' in index.text
    url = _session_url(browser.form("/training/start", {"scenario_id": "retail-parcel-late"}))
    chat = browser.client.get(url)
    assert "培训模式" in chat.text and 'name="text"' in chat.text
    empty = browser.form(f"{url}/reply", {"text": "  "})
    assert empty.status_code == 422 and "请输入回复" in empty.text
    for reply in GOOD:
        assert browser.form(f"{url}/reply", {"text": reply}).status_code == 303
    done = browser.client.get(url).text
    assert "评分卡" in done and "客户问题已解决" in done and 'name="text"' not in done
    assert "开场问候" in done and "达成" in done
    assert "明天能到的话那还来得及" in done  # the simulated customer's answer
    hostile = browser.form("/training/start", {"scenario_id": "retail-parcel-late"})
    second = hostile.headers["location"]
    browser.form(f"{second}/reply", {"text": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in browser.client.get(second).text
    assert "&lt;script&gt;" in browser.client.get(second).text
    english = browser.client.get(f"/language?to=en&back={url}", follow_redirects=True)
    assert english.status_code == 200 and "Score card" in english.text


def test_a_supervisor_assigns_and_sees_results_and_others_see_nothing(
    db: Session, sign_in: SignIn
) -> None:
    trainee = factories.make_user(db, name="学员甲")
    boss = sign_in(factories.make_user(db, role="supervisor"))
    assigned = boss.form("/training/assign",
                         {"trainee_id": str(trainee.id), "scenario_id": "crisis-media-12315"})  # fmt: skip
    assert assigned.status_code == 303
    learner = sign_in(trainee)
    index = learner.client.get("/training").text
    link = re.search(r'href="(/training/\d+)"', index.split("待完成的培训")[1])
    assert link is not None
    url = link[1]
    assert learner.form(f"{url}/begin").status_code == 303
    assert "培训模式" in learner.client.get(url).text
    stranger = sign_in(factories.make_user(db))
    assert stranger.client.get(url).status_code == 404
    assert stranger.form(f"{url}/reply", {"text": "你好"}).status_code == 404
    assert stranger.form("/training/assign", {"trainee_id": str(trainee.id),
                                               "scenario_id": "crisis-media-12315"}).status_code == 403  # fmt: skip
    results = boss.client.get("/training").text
    assert "布置培训" in results and "学员甲" in results
    assert boss.client.get(url).status_code == 200  # supervisors read every session
