"""Twelve cases, their replies and survey questions, small enough to work every figure out by hand.

Times are UTC; the local (Asia/Shanghai, UTC+8) day is in the comment where it differs. The
expected figures are worked out in test_metrics.py and test_slices.py beside each assertion.

 #  agent group channel  category pri line  path       opened (local)     first resp resolved  reopened contacts handle esc transfers bot  SLA clocks
 1  1     10    webchat  物流     P3  外卖  short      03-02 09:00        60 s       yes       0        1        300    -   0         -    yes
 2  1     10    webchat  物流     P3  -     short      03-02 10:00        180 s      yes       0        2        600    -   1         -    yes, first response breached
 3  1     10    email    质量     P2  -     complaint  03-02 11:00        3600 s     closed    0        1        1800   yes 0         -    yes          loop archived
 4  1     20    webchat  物流     P4  外卖  short      03-02 00:30 (UTC 03-01)  30 s yes     0        1        0      -   0         yes  none
 5  1     20    email    质量     P2  -     complaint  03-03 09:00        7200 s     no (reopened, open) 1  2   2400   yes 2         -    yes, resolution breached   repeat
 6  1     20    wechat   -        P4  -     short      03-03 10:00        -          no        0        1        0      -   0         -    yes (running)
 7  2     10    webchat  物流     P3  外卖  short      03-08 23:59 (Sun)  120 s      yes       1        2        900    -   1         -    yes
 8  2     10    email    质量     P3  -     complaint  03-09 00:00 (Mon, UTC 03-08) 600 s yes 0    1        1200   -   0         -    yes          loop archived
 9  2     20    webchat  物流     P4  外卖  short      03-09 09:00        45 s       yes       0        1        0      -   0         yes  none
10  2     20    email    质量     P2  -     complaint  03-09 10:00        900 s      yes       0        3        3000   yes 1         -    yes, resolution breached   repeat
11  2     20    email    物流     P3  外卖  short      03-01 00:10 (UTC 02-28) 300 s yes       0        1        600    -   0         -    yes
12  -     -     webchat  -        P4  外卖  short      03-09 11:00        -          no        0        1        0      -   0         -    yes (running)

Replies (customer message → staff reply): 1: 60 s; 2: 180 s, 300 s; 3: 3600 s; 5: 7200 s and one
unanswered; 7: 120 s, 600 s; 8: 600 s; 10: 900 s, 1200 s; 11: 300 s; 12: one unanswered;
ticket 99 (not a case here): 5 s, ignored.

Surveys: 1: CSAT 5, NPS 10, CES 7; 2: CSAT 4, NPS 8; 3: CSAT 2, NPS 3, CES 2; 4: CSAT 5;
7: CSAT 3, NPS unanswered; 8: CSAT 4, NPS 9, CES 6; 9: CSAT unanswered; 10: CSAT 1, NPS 0,
CES 1; 11: CSAT 5, NPS 7; ticket 99: CSAT 1, ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.domain.case_loop import CasePath
from kefu.domain.kpi.facts import CaseFacts, ReplyFacts, SurveyFacts, SurveyKind

COMPLAINT, SHORT = CasePath.COMPLAINT, CasePath.SHORT
CSAT, NPS, CES = SurveyKind.CSAT, SurveyKind.NPS, SurveyKind.CES


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def case(
    ticket_id: int,
    opened: datetime,
    *,
    first: float | None,
    resolved: bool,
    closed: bool = False,
    sla: bool = True,
    **values: object,
) -> CaseFacts:
    """A case opened at ``opened``, answered ``first`` seconds later, resolved a day later."""
    return CaseFacts(
        ticket_id=ticket_id,
        created_at=opened,
        first_response_at=opened + s(first) if first is not None else None,
        resolved_at=opened + timedelta(days=1) if resolved else None,
        closed_at=opened + timedelta(days=2) if closed else None,
        first_response_due_at=opened + timedelta(minutes=2) if sla else None,
        resolution_due_at=opened + timedelta(days=3) if sla else None,
        **values,  # type: ignore[arg-type]
    )


CASES = [
    case(1, utc(3, 2, 1), first=60, resolved=True, agent_id=1, group_id=10, channel="webchat",
         category="物流", priority="P3", business_line="外卖", handle_seconds=300),
    case(2, utc(3, 2, 2), first=180, resolved=True, agent_id=1, group_id=10, channel="webchat",
         category="物流", priority="P3", contacts=2, handle_seconds=600, transfers=1,
         first_response_breached=True),
    case(3, utc(3, 2, 3), first=3600, resolved=True, closed=True, agent_id=1, group_id=10,
         channel="email", category="质量", priority="P2", path=COMPLAINT, handle_seconds=1800,
         escalated=True, loop_completed=True),
    case(4, utc(3, 1, 16, 30), first=30, resolved=True, sla=False, agent_id=1, group_id=20,
         channel="webchat", category="物流", priority="P4", business_line="外卖",
         self_service=True),
    case(5, utc(3, 3, 1), first=7200, resolved=False, agent_id=1, group_id=20, channel="email",
         category="质量", priority="P2", path=COMPLAINT, reopened=1, contacts=2,
         handle_seconds=2400, escalated=True, transfers=2, resolution_breached=True,
         repeat_complaint=True),
    case(6, utc(3, 3, 2), first=None, resolved=False, agent_id=1, group_id=20, channel="wechat",
         priority="P4"),
    case(7, utc(3, 8, 15, 59), first=120, resolved=True, agent_id=2, group_id=10,
         channel="webchat", category="物流", priority="P3", business_line="外卖", reopened=1,
         contacts=2, handle_seconds=900, transfers=1),
    case(8, utc(3, 8, 16, 0), first=600, resolved=True, agent_id=2, group_id=10, channel="email",
         category="质量", priority="P3", path=COMPLAINT, handle_seconds=1200,
         loop_completed=True),
    case(9, utc(3, 9, 1), first=45, resolved=True, sla=False, agent_id=2, group_id=20,
         channel="webchat", category="物流", priority="P4", business_line="外卖",
         self_service=True),
    case(10, utc(3, 9, 2), first=900, resolved=True, agent_id=2, group_id=20, channel="email",
         category="质量", priority="P2", path=COMPLAINT, contacts=3, handle_seconds=3000,
         escalated=True, transfers=1, resolution_breached=True, repeat_complaint=True),
    case(11, utc(2, 28, 16, 10), first=300, resolved=True, agent_id=2, group_id=20,
         channel="email", category="物流", priority="P3", business_line="外卖",
         handle_seconds=600),
    case(12, utc(3, 9, 3), first=None, resolved=False, channel="webchat", priority="P4",
         business_line="外卖"),
]  # fmt: skip

_OPENED = {c.ticket_id: c.created_at for c in CASES} | {99: utc(3, 2, 5)}


def reply(ticket_id: int, after: float, waited: float | None) -> ReplyFacts:
    """A customer message ``after`` seconds into the case, answered ``waited`` seconds later."""
    at = _OPENED[ticket_id] + s(after)
    return ReplyFacts(ticket_id, at, at + s(waited) if waited is not None else None)


REPLIES = [
    reply(1, 0, 60),
    reply(2, 0, 180),
    reply(2, 1000, 300),
    reply(3, 0, 3600),
    reply(5, 0, 7200),
    reply(5, 9000, None),
    reply(7, 0, 120),
    reply(7, 1000, 600),
    reply(8, 0, 600),
    reply(10, 0, 900),
    reply(10, 2000, 1200),
    reply(11, 0, 300),
    reply(12, 0, None),
    reply(99, 0, 5),
]


def survey(ticket_id: int, kind: SurveyKind, score: int | None) -> SurveyFacts:
    answered = _OPENED[ticket_id] + timedelta(days=2) if score is not None else None
    return SurveyFacts(ticket_id, kind, score, answered)


SURVEYS = [
    survey(1, CSAT, 5), survey(1, NPS, 10), survey(1, CES, 7),
    survey(2, CSAT, 4), survey(2, NPS, 8),
    survey(3, CSAT, 2), survey(3, NPS, 3), survey(3, CES, 2),
    survey(4, CSAT, 5),
    survey(7, CSAT, 3), survey(7, NPS, None),
    survey(8, CSAT, 4), survey(8, NPS, 9), survey(8, CES, 6),
    survey(9, CSAT, None),
    survey(10, CSAT, 1), survey(10, NPS, 0), survey(10, CES, 1),
    survey(11, CSAT, 5), survey(11, NPS, 7),
    survey(99, CSAT, 1),
]  # fmt: skip
