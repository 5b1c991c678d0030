"""Each channel's survey setting (domain ``ChannelSurveys``), as admins edit it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import SurveySetting
from kefu.domain.surveys import ChannelSurveys, SurveyRefused, channel_surveys
from kefu.domain.tickets import Channel
from kefu.errors import KefuError
from kefu.services import audit
from kefu.services.actors import Actor


def configured(session: Session) -> dict[Channel, ChannelSurveys]:
    """The settings admins saved (channels without one use ``channel_surveys``'s default)."""
    rows = session.scalars(select(SurveySetting).order_by(SurveySetting.channel))
    found: dict[Channel, ChannelSurveys] = {}
    for row in rows:
        try:
            setting = ChannelSurveys.from_json(row.config)
        except SurveyRefused:
            continue  # a row no longer valid: the channel's default applies
        found[setting.channel] = setting
    return found


def setting_for(session: Session, channel: str) -> ChannelSurveys:
    row = session.get(SurveySetting, channel)
    if row is not None:
        try:
            return ChannelSurveys.from_json(row.config)
        except SurveyRefused:
            pass
    return channel_surveys(channel, {})


def save_setting(session: Session, actor: Actor, setting: ChannelSurveys) -> SurveySetting:
    """Store one channel's setting (admins only; audited)."""
    if not actor.is_admin:
        raise KefuError("forbidden", status_code=403)
    row = session.get(SurveySetting, setting.channel.value)
    before = row.config if row is not None else None
    if row is None:
        row = SurveySetting(channel=setting.channel.value, config=setting.to_json())
        session.add(row)
    else:
        row.config = setting.to_json()
    row.updated_by_id = actor.user_id
    session.flush()
    audit.record(session, actor, "survey.setting", object_type="survey_setting", object_id=0,
                 before=before, after=setting.to_json())  # fmt: skip
    return row


def check_setting(data: dict[str, object]) -> ChannelSurveys:
    try:
        return ChannelSurveys.from_json(data)
    except SurveyRefused as e:
        raise KefuError("validation_error", status_code=422, details={"reason": str(e)}) from e
