"""Training sessions: a supervisor assigns a scenario or a trainee starts one; each reply of the
trainee is read (``reading.py``), the state machine answers as the customer (domain/training/
machine.py), both turns are stored; when the session ends its score card is written with the
quality review's criteria and the scorecard in force (domain/training/report.py)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import TrainingSession, TrainingTurn, User
from kefu.domain.qa.conversation import Found
from kefu.domain.scripts.ranking import Situation
from kefu.domain.training.machine import Progress, begin, step
from kefu.domain.training.report import TRAINEE, PlayedTurn, report
from kefu.domain.training.scenario import Scenario
from kefu.domain.triage_labels import Emotion
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor, require_supervisor
from kefu.services.qa.reviews import current_scorecard
from kefu.services.training.reading import read_reply
from kefu.training.loader import shipped

MAX_REPLY = 2000
CUSTOMER = "customer"
ENDED = ("resolved", "escalated")


@cache
def scenarios() -> dict[str, Scenario]:
    """The shipped scenarios by id (loaded once per process)."""
    return {s.id: s for s in shipped()}


def scenario_of(scenario_id: str) -> Scenario:
    found = scenarios().get(scenario_id)
    if found is None:
        raise NotFound("培训场景")
    return found


def _fingerprint(scenario: Scenario) -> str:
    return hashlib.sha256(repr(scenario).encode()).hexdigest()


def _staff(actor: Actor) -> int:
    if actor.user_id is None or actor.is_integration:
        raise PermissionDenied()
    return actor.user_id


def load_training(session: Session, actor: Actor, training_id: int) -> TrainingSession:
    """A session its reader may see: the trainee, or a supervisor or admin."""
    row = session.get(TrainingSession, training_id)
    if row is None or actor.is_integration:
        raise NotFound("培训")
    if not actor.sees_all_tickets and row.trainee_id != actor.user_id:
        raise NotFound("培训")
    return row


def do_assign(session: Session, actor: Actor, trainee_id: int, scenario_id: str) -> TrainingSession:
    """A supervisor gives a trainee a scenario to play (audited)."""
    require_supervisor(actor)
    scenario = scenario_of(scenario_id)
    trainee = session.get(User, trainee_id)
    if trainee is None or not trainee.is_active:
        raise KefuError("validation_error", status_code=422,
                        details={"trainee_id": "没有这位员工。"})  # fmt: skip
    row = TrainingSession(trainee_id=trainee.id, scenario_id=scenario.id,
                          scenario_title=scenario.title, scenario_hash=_fingerprint(scenario),
                          assigned_by_id=actor.user_id, status="assigned", created_at=utcnow())  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor, "training.assign", object_type="training_session",
                 object_id=row.id, after={"trainee_id": trainee.id, "scenario": scenario.id})  # fmt: skip
    return row


def do_start(session: Session, actor: Actor, scenario_id: str) -> TrainingSession:
    """The trainee starts a scenario of their own choosing."""
    trainee = _staff(actor)
    scenario = scenario_of(scenario_id)
    row = TrainingSession(trainee_id=trainee, scenario_id=scenario.id,
                          scenario_title=scenario.title, scenario_hash=_fingerprint(scenario),
                          status="assigned", created_at=utcnow())  # fmt: skip
    session.add(row)
    session.flush()
    return do_begin(session, actor, row)


def do_begin(session: Session, actor: Actor, row: TrainingSession) -> TrainingSession:
    """The customer's opening message: the session is on."""
    if row.trainee_id != actor.user_id:
        raise PermissionDenied()
    if row.status != "assigned":
        return row
    scenario = scenario_of(row.scenario_id)
    progress = begin(scenario)
    row.status, row.started_at, row.progress = "active", utcnow(), _progress_json(progress)
    session.add(TrainingTurn(session_id=row.id, position=0, role=CUSTOMER, text=scenario.opening,
                             state=progress.state, emotion=progress.emotion.value,
                             created_at=utcnow()))  # fmt: skip
    session.flush()
    return row


def turns_of(session: Session, row: TrainingSession) -> list[TrainingTurn]:
    return list(
        session.scalars(
            select(TrainingTurn)
            .where(TrainingTurn.session_id == row.id)
            .order_by(TrainingTurn.position)
        )
    )


def do_reply(session: Session, actor: Actor, row: TrainingSession, text: str) -> TrainingSession:
    """The trainee's reply and the simulated customer's answer; the score card at the end."""
    if row.trainee_id != actor.user_id:
        raise PermissionDenied()
    reply = (text or "").strip()
    if not reply:
        raise KefuError("validation_error", status_code=422, details={"text": "请输入回复。"})
    if len(reply) > MAX_REPLY:
        raise KefuError("validation_error", status_code=422,
                        details={"text": f"回复最多 {MAX_REPLY} 个字。"})  # fmt: skip
    if row.status != "active" or row.progress is None:
        raise Conflict("training_not_active")
    scenario = scenario_of(row.scenario_id)
    progress = _progress(row.progress)
    so_far = turns_of(session, row)
    reading = read_reply(
        reply,
        turns=[("agent" if t.role == TRAINEE else "customer", t.text) for t in so_far],
        emotion=progress.emotion,
        channel=scenario.channel,
        first_reply=not any(t.role == TRAINEE for t in so_far),
    )
    answered = step(scenario, progress, reading.signals)
    now = utcnow()
    position = len(so_far)
    session.add(TrainingTurn(session_id=row.id, position=position, role=TRAINEE, text=reply,
                             state=progress.state, reaction=answered.reaction,
                             signals=sorted(reading.signals),
                             findings=[f.to_json() for f in reading.findings],
                             created_at=now))  # fmt: skip
    session.add(TrainingTurn(session_id=row.id, position=position + 1, role=CUSTOMER,
                             text=answered.customer_line, state=answered.progress.state,
                             emotion=answered.progress.emotion.value, created_at=now))  # fmt: skip
    row.progress = _progress_json(answered.progress)
    session.flush()
    if answered.ended:
        _finish(session, row, scenario, answered.progress)
    return row


def _finish(session: Session, row: TrainingSession, scenario: Scenario, progress: Progress) -> None:
    played = [
        PlayedTurn(
            t.role, t.text, t.state, t.emotion, t.reaction,
            tuple(Found(f["rule"], f["start"], f["end"], f["text"]) for f in t.findings or ()),
        )
        for t in turns_of(session, row)
    ]  # fmt: skip
    outcome = progress.outcome or "escalated"
    card = report(scenario, played, outcome, current_scorecard(session))
    data = card.to_json()
    for item in data["coaching"]:  # and what the team's script library says for that moment
        item["library"] = _library_reply(session, played, item["turn"])
    row.status, row.ended_at = outcome, utcnow()
    row.report, row.score = data, card.score.total


def _library_reply(session: Session, played: list[PlayedTurn], turn: int) -> dict[str, str] | None:
    """The script library's best reply to the customer message the trainee was answering: its
    situation read by the analysis engine, ranked as the composer ranks suggestions."""
    from kefu.nlp.analysis import analyze
    from kefu.services.scripts.index import library_index
    from kefu.services.scripts.suggest import rank

    customer = next((t for t in reversed(played[:turn]) if t.role == CUSTOMER), None)
    if customer is None:
        return None
    read = analyze(customer.text)
    situation = Situation(intent=read.intent.value, category=read.category.value,
                          emotion=customer.emotion or read.emotion.value,
                          first_reply=not any(t.role == TRAINEE for t in played[:turn]))  # fmt: skip
    ranked = rank(library_index(session), situation, 1)
    if not ranked:
        return None
    entry = ranked[0][0]
    return {"title": entry.title, "text": entry.body}


def _progress_json(progress: Progress) -> dict[str, Any]:
    data = asdict(progress)
    data["emotion"] = progress.emotion.value
    return data


def _progress(data: dict[str, Any]) -> Progress:
    return Progress(
        state=data["state"],
        emotion=Emotion(data["emotion"]),
        patience=int(data["patience"]),
        threatened=bool(data.get("threatened")),
        outcome=data.get("outcome"),
    )


def sessions_of(session: Session, actor: Actor, trainee_id: int) -> list[TrainingSession]:
    """A trainee's sessions, newest first (the trainee, or supervisors and admins)."""
    if not actor.sees_all_tickets and actor.user_id != trainee_id:
        raise PermissionDenied()
    return list(
        session.scalars(
            select(TrainingSession)
            .where(TrainingSession.trainee_id == trainee_id)
            .order_by(TrainingSession.id.desc())
        )
    )


def team_results(session: Session, actor: Actor) -> list[tuple[User, int, float | None]]:
    """Per trainee: sessions ended and the average score (supervisors and admins)."""
    require_supervisor(actor)
    rows = session.execute(
        select(User, func.count(TrainingSession.id), func.avg(TrainingSession.score))
        .join(TrainingSession, TrainingSession.trainee_id == User.id)
        .where(TrainingSession.status.in_(ENDED))
        .group_by(User.id)
        .order_by(User.name)
    )
    return [(u, int(n), round(float(a), 1) if a is not None else None) for u, n, a in rows]
