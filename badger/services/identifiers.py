"""A learner's identifiers: more email addresses and DIDs, each proved before it counts.

An identifier is stored on the account's learner only once it is proved, so
nothing issued to an address or DID binds to an account that has not shown it
controls it:

* an **email address** is proved by following a signed, expiring link mailed
  to it (:func:`badger.services.accounts.make_link_token`, purpose
  ``badger.email.verify``);
* a **did:key** is proved by signing a challenge: a compact JWS (``alg``
  EdDSA) whose payload is ``{"nonce": "<challenge>"}``, checked with the
  Ed25519 key the did:key itself encodes (:mod:`badger.proofs`).  Other DID
  methods would need a resolver badger does not have, so they are refused
  rather than stored unproved.

Binding an identifier that a placeholder learner holds (badges issued to an
address before its owner had an account) merges that learner into the
account's, exactly as a claim does (:func:`badger.services.claims._merge`):
the badges become the account's and re-evaluation awards what they complete.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.domain.recipients import IdentifierKind, normalize_email, parse_identifier
from badger.proofs import jws
from badger.proofs.di_eddsa_rdfc_2022 import resolve_did_key
from badger.proofs.errors import ProofError
from badger.services import accounts, audit, claims
from badger.services.accounts import AccountView, actor_of
from badger.services.context import Context
from badger.services.mail import Message
from badger.store.db import UnitOfWork
from badger.store.models import Account, Award, ClaimToken, Learner, LearnerIdentifier

DID_CHALLENGE_TTL = timedelta(hours=1)
MAX_JWS = 4096


@dataclass(frozen=True)
class IdentifierView:
    kind: str
    value: str
    verified_at: datetime | None
    is_primary: bool
    is_sign_in: bool
    awards: int

    @property
    def key(self) -> str:
        """How forms name it: ``kind:value``."""
        return f"{self.kind}:{self.value}"


def _account(uow: UnitOfWork, account_public_id: str) -> Account:
    account = uow.session.scalar(select(Account).where(Account.public_id == account_public_id))
    if account is None or not account.is_active:
        raise NotFound("no such account")
    return account


def list_identifiers(ctx: Context, account_public_id: str) -> list[IdentifierView]:
    with ctx.uow() as uow:
        account = _account(uow, account_public_id)
        counts = dict(
            uow.session.execute(
                select(Award.recipient_identifier_id, func.count())
                .where(Award.learner_id == account.learner_id)
                .group_by(Award.recipient_identifier_id)
            ).all()
        )
        return [
            IdentifierView(
                kind=i.kind,
                value=i.value,
                verified_at=i.verified_at,
                is_primary=i.is_primary,
                is_sign_in=i.kind == IdentifierKind.EMAIL and i.value == account.email,
                awards=counts.get(i.id, 0),
            )
            for i in account.learner.identifiers
        ]


def _bind(
    ctx: Context,
    uow: UnitOfWork,
    learner: Learner,
    kind: str,
    value: str,
    *,
    now: datetime,
    actor: str,
) -> tuple[str, ...]:
    """Make ``kind:value`` a verified identifier of ``learner``; the awards that moved with it."""
    session = uow.session
    ident = session.scalar(
        select(LearnerIdentifier)
        .where(LearnerIdentifier.kind == kind, LearnerIdentifier.value == value)
        .with_for_update()
    )
    moved: tuple[str, ...] = ()
    if ident is None:
        ident = LearnerIdentifier(kind=kind, value=value, is_primary=False, created_at=now)
        learner.identifiers.append(ident)
    elif ident.learner_id != learner.id:
        source = ident.learner
        if source.account is not None:
            raise Conflict(f"{value} belongs to another account")
        seed = claims.ClaimResult(
            award_public_id="",
            achievement_name="",
            identifier=value,
            learner_public_id=learner.public_id,
        )
        # The same binding a claim makes, so it is the same code.
        merged, triggers = claims._merge(
            ctx, uow, source, learner, seed, identifier=value, actor=actor, now=now
        )
        moved = merged.moved_awards
        # Imported here for the same reason as in claims: awarding -> issue -> claims.
        from badger.services import awarding

        awarding.evaluate(ctx, uow, learner, triggers, actor=actor)
    if ident.verified_at is None:
        ident.verified_at = now
    if not any(i.is_primary for i in learner.identifiers if i is not ident):
        ident.is_primary = True
    session.flush()
    # Claim links sent to this identifier are answered: the badges are the account's now.
    for pending in session.scalars(
        select(ClaimToken).where(
            ClaimToken.identifier_id == ident.id, ClaimToken.claimed_at.is_(None)
        )
    ):
        pending.claimed_at = now
    audit.record(
        uow,
        actor=actor,
        action="identifier.verify",
        subject_type="learner",
        subject_id=learner.public_id,
        now=now,
        identifier=f"{kind}:{value}",
        moved_awards=list(moved),
    )
    return moved


# ---------------------------------------------------------------- email addresses


def request_email(ctx: Context, account_public_id: str, email: str) -> str:
    """Mail a verification link to another address of this account; the normalised address."""
    address = normalize_email(email)
    now = ctx.now()
    with ctx.uow() as uow:
        account = _account(uow, account_public_id)
        for ident in account.learner.identifiers:
            if ident.kind == IdentifierKind.EMAIL and ident.value == address and ident.verified_at:
                raise ValidationError("email", "is already one of your verified addresses")
        url = accounts.email_verification_url(ctx, account.public_id, address, now)
        name = account.learner.display_name
        message = Message(
            to=address,
            subject="Confirm your email address",
            body="\n".join(
                [
                    f"Hello {name},",
                    "",
                    "You asked to add this address to your badger account. Confirm it",
                    "by opening this link (sign in when asked):",
                    "",
                    f"  {url}",
                    "",
                    f"The link expires in {accounts.EMAIL_LINK_TTL.days} days.",
                    "Badges issued to this address will then show on your dashboard.",
                    "If you did not ask for this, you can ignore this message.",
                    "",
                ]
            ),
        )
        uow.after_commit(lambda: ctx.mailer.send(message))
    return address


def verification_address(ctx: Context, token: str, account: AccountView) -> str:
    """The address a verification link confirms, if it is valid for this account."""
    data = accounts.load_link_token(ctx, accounts.PURPOSE_VERIFY_EMAIL, token, now=ctx.now())
    if not hmac.compare_digest(str(data.get("a", "")), account.public_id):
        # Made for another account: say nothing about which.
        raise NotFound(accounts.INVALID_LINK)
    return normalize_email(str(data.get("e", "")))


def verify_email(ctx: Context, token: str, account: AccountView) -> str:
    """Follow a verification link while signed in as the account it was made for."""
    now = ctx.now()
    address = verification_address(ctx, token, account)
    with ctx.uow() as uow:
        row = _account(uow, account.public_id)
        _bind(
            ctx, uow, row.learner, IdentifierKind.EMAIL, address, now=now, actor=actor_of(account)
        )
    return address


# ---------------------------------------------------------------- DIDs


def _did_key(did: str) -> str:
    try:
        value = parse_identifier(did, IdentifierKind.DID).value
    except ValidationError:
        raise ValidationError("did", "is not a DID (did:method:…)") from None
    if not value.startswith("did:key:"):
        raise ValidationError(
            "did",
            "only did:key identifiers can be proved here (other DID methods need a "
            "resolver badger does not have)",
        )
    try:
        resolve_did_key(value)
    except LookupError:
        raise ValidationError("did", "is not an Ed25519 did:key (did:key:z6Mk…)") from None
    return value


def did_challenge(ctx: Context, account_public_id: str, did: str) -> tuple[str, str]:
    """The (normalised DID, challenge) to sign; valid for an hour."""
    value = _did_key(did)
    now = ctx.now()
    with ctx.uow() as uow:
        learner = _account(uow, account_public_id).learner
        if any(i.kind == IdentifierKind.DID and i.value == value for i in learner.identifiers):
            raise ValidationError("did", "is already one of your identifiers")
    challenge = accounts.make_link_token(
        ctx,
        accounts.PURPOSE_DID_CHALLENGE,
        {"a": account_public_id, "d": value},
        ttl=DID_CHALLENGE_TTL,
        now=now,
    )
    return value, challenge


def prove_did(ctx: Context, account: AccountView, challenge: str, proof: str) -> str:
    """Check the signed challenge and bind the DID; the DID."""
    now = ctx.now()
    try:
        data = accounts.load_link_token(ctx, accounts.PURPOSE_DID_CHALLENGE, challenge, now=now)
    except NotFound:
        raise ValidationError("challenge", "is not a challenge badger made; start again") from None
    except ValidationError:
        raise ValidationError("challenge", "has expired; start again") from None
    if not hmac.compare_digest(str(data.get("a", "")), account.public_id):
        raise ValidationError("challenge", "was made for another account; start again")
    did = _did_key(str(data.get("d", "")))
    token = (proof or "").strip()
    if not token or len(token) > MAX_JWS:
        raise ValidationError("proof", "paste the compact JWS you signed")
    try:
        payload = jws.verify_compact_jws(token, resolve_did_key(did), algorithms=("EdDSA",))
    except ProofError as exc:
        raise ValidationError("proof", f"does not verify with the key of {did}: {exc}") from None
    if not hmac.compare_digest(str(payload.get("nonce", "")), challenge):
        raise ValidationError("proof", "signs something other than this challenge")
    with ctx.uow() as uow:
        row = _account(uow, account.public_id)
        _bind(ctx, uow, row.learner, IdentifierKind.DID, did, now=now, actor=actor_of(account))
    return did


# ---------------------------------------------------------------- primary and removal


def _own(learner: Learner, key: str) -> LearnerIdentifier:
    kind, _, value = key.partition(":")
    for ident in learner.identifiers:
        if ident.kind == kind and ident.value == value:
            return ident
    raise NotFound("no such identifier on your account")


def make_primary(ctx: Context, account: AccountView, key: str) -> None:
    """Make a verified identifier primary; a primary email also becomes the sign-in address."""
    now = ctx.now()
    with ctx.uow() as uow:
        row = _account(uow, account.public_id)
        ident = _own(row.learner, key)
        if ident.verified_at is None:
            raise ValidationError("identifier", "only a verified identifier can be primary")
        if ident.kind == IdentifierKind.EMAIL and ident.value != row.email:
            taken = uow.session.scalar(
                select(Account.id).where(Account.email == ident.value, Account.id != row.id)
            )
            if taken is not None:
                raise Conflict(f"{ident.value} is the sign-in address of another account")
            row.email = ident.value
        for other in row.learner.identifiers:
            other.is_primary = other is ident
        audit.record(
            uow,
            actor=actor_of(account),
            action="identifier.make_primary",
            subject_type="learner",
            subject_id=row.learner.public_id,
            now=now,
            identifier=key,
        )


def remove_identifier(ctx: Context, account: AccountView, key: str) -> None:
    """Remove an identifier: never the primary, the sign-in address or the last verified one."""
    now = ctx.now()
    with ctx.uow() as uow:
        row = _account(uow, account.public_id)
        ident = _own(row.learner, key)
        if ident.is_primary:
            raise ValidationError("identifier", "make another identifier primary first")
        if ident.kind == IdentifierKind.EMAIL and ident.value == row.email:
            raise ValidationError("identifier", "this is your sign-in address")
        verified = [i for i in row.learner.identifiers if i.verified_at is not None]
        if ident.verified_at is not None and len(verified) <= 1:
            raise ValidationError("identifier", "you must keep at least one verified identifier")
        used = uow.session.scalar(
            select(func.count()).select_from(Award).where(Award.recipient_identifier_id == ident.id)
        ) or uow.session.scalar(
            select(func.count()).select_from(ClaimToken).where(ClaimToken.identifier_id == ident.id)
        )
        if used:
            raise Conflict(
                "badges were issued to this identifier; it stays so that they stay yours"
            )
        row.learner.identifiers.remove(ident)
        audit.record(
            uow,
            actor=actor_of(account),
            action="identifier.remove",
            subject_type="learner",
            subject_id=row.learner.public_id,
            now=now,
            identifier=key,
        )
