"""/api/v1/auth/totp: my two-step verification (TOTP) — enrol, confirm, turn off — and an
admin's reset of someone else's (/api/v1/users/{id}/totp)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field

from kefu.api.access import ADMINS, STAFF, allow
from kefu.api.deps import DB, AppSettings, CurrentActor, Limiter
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.services.staff import directory as staff
from kefu.services.staff import two_factor as service

router = APIRouter(tags=["auth"], responses=ERRORS)

Code = Annotated[str, Field(min_length=6, max_length=20)]


class TwoFactorState(Out):
    enabled: bool
    recovery_codes_left: int


class EnrolmentPublic(Out):
    secret: str = Field(description="base32; shown now only, never again")
    uri: str = Field(description="the otpauth:// URI of the QR code")
    qr_svg: str = Field(description="the URI's QR code, an SVG as a data: URI")


class EnrolBody(In):
    password: Annotated[str, Field(min_length=1, max_length=200, description="my password, again")]


class ConfirmBody(In):
    code: Code


class RecoveryCodes(Out):
    recovery_codes: list[str] = Field(description="ten single-use codes; shown once")


class DisableBody(In):
    password: Annotated[str, Field(min_length=1, max_length=200)]
    code: Code


@router.get(
    "/auth/totp", response_model=TwoFactorState, summary="My two-step verification", **allow(*STAFF)
)
def my_state(db: DB, actor: CurrentActor) -> TwoFactorState:
    assert actor.user_id is not None
    return TwoFactorState(
        enabled=service.is_enabled(db, actor.user_id),
        recovery_codes_left=service.recovery_codes_left(db, actor.user_id),
    )


@router.post(
    "/auth/totp/enrol",
    response_model=EnrolmentPublic,
    summary="Start two-step verification: a new secret, confirmed by its first code",
    description="Asks for my password again (403 `wrong_password`: nothing changes); limited "
    "like a password change.",
    **allow(*STAFF),
)
def enrol(
    body: EnrolBody, db: DB, actor: CurrentActor, settings: AppSettings, limiter: Limiter
) -> EnrolmentPublic:
    assert actor.user_id is not None
    limiter.require(f"password:{actor.user_id}", staff=True)  # a password is tried: limited
    enrolment = service.do_begin_enrolment(
        db,
        actor,
        staff.get_user(db, actor.user_id),
        password=body.password,
        secret_key=settings.secret_key,
    )
    return EnrolmentPublic(secret=enrolment.secret, uri=enrolment.uri, qr_svg=enrolment.qr_data_uri)


@router.post(
    "/auth/totp/confirm",
    response_model=RecoveryCodes,
    summary="Turn two-step verification on with the first code; the recovery codes",
    **allow(*STAFF),
)
def confirm(body: ConfirmBody, db: DB, actor: CurrentActor, settings: AppSettings) -> RecoveryCodes:
    assert actor.user_id is not None
    codes = service.do_confirm_enrolment(
        db, actor, staff.get_user(db, actor.user_id), body.code, secret_key=settings.secret_key
    )
    return RecoveryCodes(recovery_codes=codes)


@router.post(
    "/auth/totp/disable",
    status_code=204,
    summary="Turn my two-step verification off (password and a code)",
    description="Limited like login, per account.",
    **allow(*STAFF),
)
def disable(
    body: DisableBody, db: DB, actor: CurrentActor, settings: AppSettings, limiter: Limiter
) -> Response:
    assert actor.user_id is not None
    limiter.require(f"totp:{actor.user_id}", staff=True)  # a password is tried: limited
    service.do_disable(
        db,
        actor,
        staff.get_user(db, actor.user_id),
        password=body.password,
        code=body.code,
        secret_key=settings.secret_key,
    )
    return Response(status_code=204)


@router.delete(
    "/users/{user_id}/totp",
    status_code=204,
    summary="Reset a user's two-step verification (admin; audited)",
    **allow(*ADMINS),
)
def reset(user_id: Id, db: DB, actor: CurrentActor) -> Response:
    service.do_reset(db, actor, staff.get_user(db, user_id))
    return Response(status_code=204)
