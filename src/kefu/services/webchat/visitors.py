"""Who a widget's visitor is: the token they bring, or a site's signed claim about its user.

``start_session`` decides, once per page load:

- a claim the site signed with the channel's secret, recent and never seen before, makes the
  visitor that site user: their identity on the web chat channel is verified, linked to the
  customer who already has it (with their history) or to a new customer; its nonce is kept
  until the claim would have expired, so the same claim copied off a page is refused;
- any other claim (unsigned, wrongly signed, expired, replayed, malformed) is ignored: the
  visitor is whoever their token says, or a new anonymous visitor. A refused claim is never
  trusted in any part, its name included;
- a token of a verified visitor is only honoured while the page still speaks for that user (a
  claim for the same user id, correctly signed, even if expired or already used): on a shared
  computer, the next person on the site without a claim starts as a new anonymous visitor
  instead of reading the last one's conversation.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.models import Customer, Identity, WebchatNonce
from kefu.domain import customer_joins
from kefu.domain import visitor_identity as vi
from kefu.domain.customer_joins import ContactKind
from kefu.domain.tickets import Channel
from kefu.errors import Conflict
from kefu.services.actors import SYSTEM
from kefu.services.customers import joins, profiles
from kefu.services.infra.secret_box import SecretUnreadable
from kefu.services.webchat import visitor_tokens as tokens
from kefu.services.webchat.channels import ChannelInfo, identity_secret

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 100
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class ClaimIn:
    """A site's identity claim as the widget passes it on (``name`` is not signed)."""

    user_id: str
    timestamp: str
    nonce: str
    signature: str
    name: str = ""
    email: str = ""  # signed: the site verified them
    phone: str = ""


@dataclass(frozen=True)
class Started:
    visitor: tokens.Visitor
    token: str
    refusal: vi.Refusal | None = None  # why a claim that came along was ignored


def start_session(
    session: Session,
    channel: ChannelInfo,
    *,
    secret_key: str,
    token: str | None,
    claim: ClaimIn | None,
    now: datetime,
) -> Started:
    """The visitor of this page load and a fresh token for them (see the module docstring)."""
    current = tokens.read(secret_key, token, channel.id, now)
    refusal = None
    if claim is not None:
        verdict = _verify(session, channel, claim, now, secret_key=secret_key)
        if verdict.identity is not None:
            visitor = _verified_visitor(session, channel, claim, verdict.identity.user_id)
            _signed_contacts(session, visitor, verdict.identity)
            return Started(visitor, tokens.issue(secret_key, visitor, now))
        refusal = verdict.refusal
        log.info("web chat %s: identity claim ignored (%s)", channel.key, refusal)
    if current is not None and current.verified:
        signed_by_site = refusal in (vi.Refusal.EXPIRED, vi.Refusal.REPLAYED)
        if not (claim is not None and signed_by_site and claim.user_id == current.user_id):
            current = None
    visitor = current or tokens.anonymous_visitor(channel.id)
    return Started(visitor, tokens.issue(secret_key, visitor, now), refusal)


def _verify(
    session: Session, channel: ChannelInfo, claim: ClaimIn, now: datetime, *, secret_key: str
) -> vi.Verdict:
    parts = vi.Claim(
        claim.user_id, claim.timestamp, claim.nonce, claim.signature, claim.email, claim.phone
    )
    try:
        secret = identity_secret(secret_key, channel)
    except SecretUnreadable:  # the master key changed without the old one kept: rotate it
        log.warning("web chat %s: its secret cannot be opened with the secret key", channel.key)
        return vi.Verdict(None, vi.Refusal.BAD_SIGNATURE)
    verdict = vi.verify_claim(secret, parts, now)
    if verdict.identity is None:
        return verdict
    if not remember_nonce(session, channel.id, verdict.identity):
        return vi.verify_claim(secret, parts, now, seen_nonce=True)
    return verdict


def remember_nonce(session: Session, channel_id: int, identity: vi.VerifiedIdentity) -> bool:
    """Keep an accepted claim's nonce; False when it was kept before (a replay). Atomic: of two
    requests with one claim at once, one wins."""
    table = WebchatNonce.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    kept = session.execute(
        insert.values(channel_id=channel_id, nonce=identity.nonce, expires_at=identity.expires_at)
        .on_conflict_do_nothing()
        .returning(table.c.nonce)  # a row back: stored now (rowcount is -1 on some drivers)
    ).first()
    return kept is not None


def forget_expired_nonces(session: Session, now: datetime) -> int:
    """Nonces of claims that have expired anyway (a replay of one is refused as expired)."""
    gone = session.execute(
        delete(WebchatNonce).where(WebchatNonce.expires_at < now).returning(WebchatNonce.nonce)
    )
    return len(gone.all())


def _verified_visitor(
    session: Session, channel: ChannelInfo, claim: ClaimIn, user_id: str
) -> tokens.Visitor:
    """The site user's identity on the web chat channel, verified, with its customer."""
    external_id = tokens.verified_external_id(channel.key, user_id)
    name = clean_name(claim.name) or f"{channel.name}用户 {user_id}"[:MAX_NAME_CHARS]
    identity = _identity(session, external_id)
    if identity is None:
        try:
            with session.begin_nested():
                profiles.do_create_customer(
                    session, SYSTEM, name=name,
                    identities=[profiles.IdentityIn(Channel.WEBCHAT.value, external_id, verified=True)],
                )  # fmt: skip
        except (IntegrityError, Conflict):  # the same user's first visit in two tabs: one wins
            pass
        identity = _identity(session, external_id)
        assert identity is not None
    else:
        identity.verified = True
        customer = session.get(Customer, identity.customer_id)
        if customer is not None and clean_name(claim.name) and customer.name != name:
            profiles.do_update_customer(session, SYSTEM, customer, {"name": name})
    return tokens.Visitor(channel.id, external_id, name, user_id)


def _signed_contacts(
    session: Session, visitor: tokens.Visitor, identity: vi.VerifiedIdentity
) -> None:
    """The e-mail and phone the site signed are the customer's, proven: profiles proven to hold
    them too are joined with this one (services/customers/joins.py). A malformed one is left
    out (the site signed it, but it is no address or number)."""
    contacts = ((ContactKind.EMAIL, identity.email), (ContactKind.PHONE, identity.phone))
    for kind, value in contacts:
        if not value or customer_joins.normalize(kind, value) is None:
            continue
        owner = _identity(session, visitor.external_id)
        assert owner is not None
        joins.record_verified_contact(
            session, owner.customer_id, kind, value, customer_joins.Proof.SIGNED_CLAIM
        )


def _identity(session: Session, external_id: str) -> Identity | None:
    return session.scalar(
        select(Identity).where(
            Identity.channel == Channel.WEBCHAT.value, Identity.external_id == external_id
        )
    )


def clean_name(raw: str | None) -> str:
    """A display name as a person would read it: no control or invisible characters, trimmed.
    Markup stays as typed (it is text, shown as text everywhere)."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    return " ".join(text.split())[:MAX_NAME_CHARS]


def customer_of(session: Session, visitor: tokens.Visitor) -> int | None:
    """The customer behind the visitor's identity; None until their first message made one."""
    identity = _identity(session, visitor.external_id)
    return identity.customer_id if identity is not None else None
