"""User text is data, decoded once and never read as syntax (ASVS V1.1.1, V1.2.9).

Doubly encoded input — URL-encoded twice, an HTML entity written as text, a JSON ``\\u`` escape
typed as text, an RFC 2047 word inside a decoded word — stays as it was after its one decoding,
through the API, the search and the pages. Text that is syntax elsewhere — regular-expression
metacharacters, SQL LIKE wildcards, the search engine's operators — is matched as the letters
it is: by a customer's message, a search, a knowledge-base question and a norms check. (A regular
expression built of ``(a+)+$`` and run over the long run of ``a`` below would not finish: the
tests would hang, not pass.)"""

from __future__ import annotations

import base64
import json

import httpx
from sqlalchemy.orm import Session

from kefu.channels.email.headers import decode_header
from tests import factories
from tests.hostile import visible_text
from tests.web.conftest import SignIn

ENCODED_TWICE = {
    "url": "%253Cscript%253Ealert(1)%253C%252Fscript%253E",
    "url_once": "%3Cb%3E加粗%3C%2Fb%3E",
    "entity": "&amp;lt;b&amp;gt;不是标签&amp;lt;/b&amp;gt;",
    "json_escape": "\\u003cscript\\u003e 反斜杠u",
    "encoded_word": "=?utf-8?b?PHNjcmlwdD4=?=",
}
HOSTILE_PATTERNS = ["(a+)+$", ".*", "[", "\\", "%", "_", "*", "退款 OR 普通", '"退款', "退款*"]
CATASTROPHIC = "a" * 40 + "!"  # (a+)+$ as a regular expression backtracks 2^40 times here


def _word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def _intake(integration: httpx.Client, n: int, text: str, subject: str | None = None) -> dict:
    body: dict[str, object] = {
        "channel": "api",
        "external_id": f"literal-{n}",
        "sender": {"external_id": f"literal-{n}", "name": "王小明"},
        "text": text,
    }
    if subject is not None:
        body["subject"] = subject
    answer = integration.post("/api/v1/inbound", json=body)
    assert answer.status_code == 201, answer.text
    accepted: dict = answer.json()
    return accepted


def _message_text(api: httpx.Client, accepted: dict) -> str:
    ticket = api.get(f"/api/v1/tickets/{accepted['ticket_id']}").json()
    [message] = [m for m in ticket["messages"] if m["id"] == accepted["message_id"]]
    return str(message["body_text"])


def _search(api: httpx.Client, q: str) -> list[tuple[str, int]]:
    answer = api.get("/api/v1/search", params={"q": q})
    assert answer.status_code == 200, (q, answer.text)
    return [(hit["kind"], hit["id"]) for hit in answer.json()["items"]]


def test_doubly_encoded_input_is_decoded_once_through_the_api_search_and_pages(
    db: Session, integration: httpx.Client, api: httpx.Client, sign_in: SignIn
) -> None:
    browser = sign_in(factories.make_user(db, role="admin")).client
    for n, (name, typed) in enumerate(ENCODED_TWICE.items()):
        text = f"退款申请 {typed} 订单 literal{n}"
        accepted = _intake(integration, n, text, subject=f"主题 {typed}")
        assert _message_text(api, accepted) == text, name
        ticket = api.get(f"/api/v1/tickets/{accepted['ticket_id']}").json()
        assert ticket["subject"] == f"主题 {typed}", name

        hits = api.get("/api/v1/search", params={"q": f"literal{n}"}).json()["items"]
        snippets = [h["snippet"]["text"] for h in hits if h["snippet"]] + [
            m["snippet"]["text"] for h in hits for m in h["messages"]
        ]
        assert any(typed in snippet for snippet in snippets), (name, hits)

        page = browser.get(f"/tickets/{accepted['ticket_id']}")
        assert page.status_code == 200
        assert typed in visible_text(page.text), name  # the page's one HTML decoding gives it back
        once_more = typed.replace("%25", "%").replace("&amp;", "&")
        if once_more != typed:  # and not what a second decoding would make of it
            assert once_more not in visible_text(page.text), name

    # A JSON escape is decoded once, by the JSON parser: "\u003c" sent is "<" stored, and the
    # text "\u003c" (its backslash escaped) is those six characters.
    raw = json.dumps({
        "channel": "api", "external_id": "literal-json", "text": "甲\u003c乙 \\u003c 丙",
        "sender": {"external_id": "literal-json"},
    }, ensure_ascii=True)  # fmt: skip
    assert "\\u003c" in raw and "\\\\u003c" in raw
    answer = integration.post(
        "/api/v1/inbound", content=raw, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 201, answer.text
    assert _message_text(api, answer.json()) == "甲<乙 \\u003c 丙"


def test_an_encoded_word_inside_a_decoded_word_is_decoded_once() -> None:
    inner = _word("<script>退款</script>")
    assert decode_header(_word(inner)) == inner
    assert decode_header(f"回复：{_word('退款：' + inner)}") == f"回复：退款：{inner}"


def test_hostile_pattern_text_is_matched_literally_everywhere(
    db: Session, integration: httpx.Client, api: httpx.Client, demo_kb: None
) -> None:
    texts = [
        "退款 (a+)+$ 怎么办 a",
        "我要 .* 全部退款",
        "括号 [ 反斜杠 \\ 百分号 % 下划线 _ 星号 *",
        "普通的问候，你好",
        CATASTROPHIC,
    ]
    accepted = [_intake(integration, 100 + n, text) for n, text in enumerate(texts)]
    for sent, text in zip(accepted, texts, strict=True):
        assert _message_text(api, sent) == text  # stored as typed, analysed without error

    # Punctuation is no operator: a query of it alone finds nothing (as a regular expression
    # or a LIKE pattern, ".*", "%" and "_" would find every message), and punctuation beside a
    # word finds what the word alone finds.
    for q in (".*", "[", "\\", "%", "_", "*", "(", "$"):
        assert _search(api, q) == [], q
    assert _search(api, "(a+)+$ 怎么办") == _search(api, "a 怎么办") != []
    assert _search(api, "退款*") == _search(api, "退款") != []
    # An engine operator typed is a word: "退款 OR 普通" needs all three, no message has them.
    assert _search(api, "退款 OR 普通") == []
    assert _search(api, '"退款') == _search(api, "退款")

    # The customer list's filter (SQL LIKE underneath): the wildcards are letters.
    everyone = api.get("/api/v1/customers").json()
    assert len(everyone) >= len(texts)
    for q in ("%", "_", "\\", "[", ".*"):
        answer = api.get("/api/v1/customers", params={"q": q})
        assert answer.status_code == 200 and answer.json() == [], (q, answer.text)

    # A knowledge-base question, the agents' and the help center's.
    for q in HOSTILE_PATTERNS + [CATASTROPHIC]:
        staff = api.get("/api/v1/kb/search", params={"q": q})
        public = api.get("/api/v1/public/kb/search", params={"q": q})
        assert staff.status_code == public.status_code == 200, (q, staff.text, public.text)
    for q in (".*", "[", "\\", "%", "_"):
        assert api.get("/api/v1/kb/search", params={"q": q}).json()["hits"] == [], q
    best = [
        api.get("/api/v1/kb/search", params={"q": q}).json()["hits"][0] for q in ("退款.*", "退款")
    ]
    assert best[0] == best[1]

    # A norms check: the draft is text the rules read, never a rule.
    plain = "您好，已经为您处理好了，请您查收。"
    expected = api.post("/api/v1/norms/check", json={"text": plain}).json()
    for pattern in HOSTILE_PATTERNS + [CATASTROPHIC]:
        draft = plain.replace("处理好了", f"处理好了 {pattern} ")
        answer = api.post("/api/v1/norms/check", json={"text": draft})
        assert answer.status_code == 200, (pattern, answer.text)
        found = answer.json()
        assert [f["rule"] for f in found["findings"]] == [
            f["rule"] for f in expected["findings"]
        ], pattern
        for finding in found["findings"]:
            assert draft[finding["start"] : finding["end"]] == finding["text"]
