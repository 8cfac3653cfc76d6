"""Accounts: sign-up, sign-in, roles and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from badger.domain.accounts import Role, check_password, effective_roles, parse_role
from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.domain.recipients import IdentifierKind, normalize_email
from badger.services import audit
from badger.services.context import Context
from badger.services.mail import Message
from badger.store.db import UnitOfWork
from badger.store.models import Account, AccountRole, ApiToken, Learner, LearnerIdentifier

_hasher = PasswordHasher()
# Verifying against this when an email is unknown keeps sign-in time the same
# whether or not an account exists (no account enumeration by timing).
_DUMMY_HASH = _hasher.hash("badger-dummy-password")
TOKEN_PREFIX_LEN = 12


@dataclass(frozen=True)
class AccountView:
    """What the web layer knows about a signed-in account."""

    public_id: str
    email: str
    display_name: str
    learner_public_id: str
    roles: frozenset[Role]
    is_active: bool
    # Changes whenever the password does: sessions carry it, so a password
    # change or reset signs out every other session of the account.
    session_key: str = ""

    def has_role(self, role: Role | str) -> bool:
        return Role(role) in self.roles


def _session_key(password_hash: str | None) -> str:
    return hashlib.sha256(("badger-session:" + (password_hash or "")).encode()).hexdigest()[:16]


def _view(account: Account) -> AccountView:
    return AccountView(
        public_id=account.public_id,
        email=account.email,
        display_name=account.learner.display_name,
        learner_public_id=account.learner.public_id,
        roles=effective_roles(account.role_names),
        is_active=account.is_active,
        session_key=_session_key(account.password_hash),
    )


def actor_of(view: AccountView | None) -> str:
    return f"account:{view.public_id}" if view else audit.SYSTEM


def _find_by_email(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == email))


def create_account(
    ctx: Context,
    *,
    email: str,
    password: str,
    display_name: str,
    roles: list[str] | None = None,
    email_verified: bool = False,
    actor: str = audit.SYSTEM,
) -> AccountView:
    """Create an account and its learner, with the email as an identifier.

    ``email_verified`` is for trusted callers (an admin on the CLI); self-service
    sign-up leaves it unverified until the learner proves the address.
    """
    now = ctx.now()
    with ctx.uow() as uow:
        return add_account(
            uow,
            now=now,
            email=email,
            password=password,
            display_name=display_name,
            roles=roles,
            email_verified=email_verified,
            actor=actor,
        )


def add_account(
    uow: UnitOfWork,
    *,
    now: datetime,
    email: str,
    password: str,
    display_name: str,
    roles: list[str] | None = None,
    email_verified: bool = False,
    actor: str = audit.SYSTEM,
) -> AccountView:
    """:func:`create_account` inside a caller's transaction."""
    email = normalize_email(email)
    check_password(password)
    name = display_name.strip()
    if not name:
        raise ValidationError("display_name", "is required")
    role_set = {parse_role(r) for r in (roles or [Role.LEARNER])}
    session = uow.session
    if _find_by_email(session, email) is not None:
        raise Conflict(f"an account for {email} already exists")
    identifier = session.scalar(
        select(LearnerIdentifier).where(
            LearnerIdentifier.kind == IdentifierKind.EMAIL, LearnerIdentifier.value == email
        )
    )
    learner = identifier.learner if identifier else Learner(display_name=name)
    if identifier is None:
        identifier = LearnerIdentifier(kind=IdentifierKind.EMAIL, value=email, is_primary=True)
        learner.identifiers.append(identifier)
    if email_verified and identifier.verified_at is None:
        identifier.verified_at = now
    account = Account(
        learner=learner,
        email=email,
        password_hash=_hasher.hash(password),
        roles=[AccountRole(role=r.value) for r in sorted(role_set)],
    )
    session.add(account)
    session.flush()
    audit.record(
        uow,
        actor=actor,
        action="account.create",
        subject_type="account",
        subject_id=account.public_id,
        now=now,
        email=email,
        roles=sorted(r.value for r in role_set),
    )
    return _view(account)


def ensure_role(ctx: Context, *, email: str, role: str, actor: str = audit.SYSTEM) -> bool:
    """Grant a role; ``False`` when the account already had it."""
    email = normalize_email(email)
    wanted = parse_role(role)
    with ctx.uow() as uow:
        account = _find_by_email(uow.session, email)
        if account is None:
            raise NotFound(f"no account for {email}")
        if wanted.value in account.role_names:
            return False
        account.roles.append(AccountRole(role=wanted.value))
        audit.record(
            uow,
            actor=actor,
            action="account.grant_role",
            subject_type="account",
            subject_id=account.public_id,
            now=ctx.now(),
            role=wanted.value,
        )
        return True


def authenticate(ctx: Context, email: str, password: str) -> AccountView | None:
    """The account for these credentials, or ``None`` (never says which part was wrong)."""
    try:
        email = normalize_email(email)
    except ValidationError:
        email = ""
    with ctx.uow() as uow:
        account = _find_by_email(uow.session, email) if email else None
        stored = account.password_hash if account else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if account is None or not account.is_active:
            return None
        if _hasher.check_needs_rehash(stored):
            account.password_hash = _hasher.hash(password)
        account.last_login_at = ctx.now()
        return _view(account)


def load_account(ctx: Context, public_id: str) -> AccountView | None:
    with ctx.uow() as uow:
        account = uow.session.scalar(select(Account).where(Account.public_id == public_id))
        if account is None or not account.is_active:
            return None
        return _view(account)


# ---------------------------------------------------------------- API tokens


@dataclass(frozen=True)
class TokenInfo:
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(
    ctx: Context, *, account_public_id: str, name: str, valid_days: int | None = None
) -> str:
    """Create a token and return it in plain text: the only time it is shown."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("name", "a name of 1-100 characters is required")
    if valid_days is not None and not 1 <= valid_days <= 3650:
        raise ValidationError("valid_days", "must be between 1 and 3650")
    prefix = secrets.token_hex(TOKEN_PREFIX_LEN // 2)
    token = f"bdg_{prefix}_{secrets.token_urlsafe(32)}"
    now = ctx.now()
    with ctx.uow() as uow:
        account = uow.session.scalar(select(Account).where(Account.public_id == account_public_id))
        if account is None:
            raise NotFound("no such account")
        uow.session.add(
            ApiToken(
                account=account,
                name=name,
                prefix=prefix,
                digest=_digest(token),
                created_at=now,
                expires_at=now + timedelta(days=valid_days) if valid_days else None,
            )
        )
        audit.record(
            uow,
            actor=f"account:{account.public_id}",
            action="token.create",
            subject_type="api_token",
            subject_id=prefix,
            now=now,
            name=name,
        )
    return token


def authenticate_token(ctx: Context, token: str) -> AccountView | None:
    """The account a bearer token belongs to, or ``None``."""
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != "bdg" or len(parts[1]) != TOKEN_PREFIX_LEN:
        return None
    now = ctx.now()
    with ctx.uow() as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.prefix == parts[1]))
        if row is None or not hmac.compare_digest(row.digest, _digest(token)):
            return None
        if row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
            return None
        if not row.account.is_active:
            return None
        row.last_used_at = now
        return _view(row.account)


def list_api_tokens(ctx: Context, account_public_id: str) -> list[TokenInfo]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(ApiToken)
            .join(Account)
            .where(Account.public_id == account_public_id)
            .order_by(ApiToken.id)
        )
        return [
            TokenInfo(r.prefix, r.name, r.created_at, r.last_used_at, r.expires_at, r.revoked_at)
            for r in rows
        ]


def revoke_api_token(ctx: Context, *, account_public_id: str, prefix: str) -> None:
    now = ctx.now()
    with ctx.uow() as uow:
        row = uow.session.scalar(
            select(ApiToken)
            .join(Account)
            .where(Account.public_id == account_public_id, ApiToken.prefix == prefix)
        )
        if row is None:
            raise NotFound(f"no token {prefix}")
        if row.revoked_at is None:
            row.revoked_at = now
            audit.record(
                uow,
                actor=f"account:{account_public_id}",
                action="token.revoke",
                subject_type="api_token",
                subject_id=prefix,
                now=now,
            )


def find_account(ctx: Context, email: str) -> AccountView:
    """The account for an email address, or :class:`NotFound`."""
    email = normalize_email(email)
    with ctx.uow() as uow:
        account = _find_by_email(uow.session, email)
        if account is None:
            raise NotFound(f"no account for {email}")
        return _view(account)


# ---------------------------------------------------------------- signed links (sign-up, reset)
#
# Links carry a payload signed with the ``email`` secret, each purpose with its
# own salt, so a verification link can never be replayed as a reset link.
# Expiry is checked against ``ctx.now()`` (not the wall clock) so tests pin it.
# Nothing is stored: a reset link also carries a fingerprint of the password
# hash it was issued under, so it stops working once used (the hash changes)
# or once the password is changed any other way.

EMAIL_LINK_TTL = timedelta(days=3)
RESET_LINK_TTL = timedelta(hours=1)
MAX_LINK_TOKEN = 1024
INVALID_LINK = "this link is not valid (it may have been used already)"
PURPOSE_VERIFY_EMAIL = "badger.email.verify"
PURPOSE_RESET_PASSWORD = "badger.password.reset"  # noqa: S105 (a salt name, not a secret)
PURPOSE_DID_CHALLENGE = "badger.did.challenge"


def _serializer(ctx: Context, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret("email"), salt=purpose)


def make_link_token(
    ctx: Context, purpose: str, data: dict[str, str], *, ttl: timedelta, now: datetime
) -> str:
    """A signed, expiring token for one purpose."""
    return str(_serializer(ctx, purpose).dumps({**data, "exp": int((now + ttl).timestamp())}))


def load_link_token(ctx: Context, purpose: str, token: str, *, now: datetime) -> dict[str, Any]:
    """The payload of a token made by :func:`make_link_token`; NotFound or ValidationError."""
    if not isinstance(token, str) or not token or len(token) > MAX_LINK_TOKEN:
        raise NotFound(INVALID_LINK)
    try:
        data = _serializer(ctx, purpose).loads(token)
    except BadSignature:
        raise NotFound(INVALID_LINK) from None
    if not isinstance(data, dict) or not isinstance(data.get("exp"), int):
        raise NotFound(INVALID_LINK)
    if now.timestamp() >= data["exp"]:
        raise ValidationError("token", "this link has expired; ask for a new one")
    return data


def _hash_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:32]


def _owner_of_email(session: Session, email: str) -> Account | None:
    """The account signing in with ``email`` or holding it as a verified identifier."""
    account = _find_by_email(session, email)
    if account is not None:
        return account
    return session.scalar(
        select(Account)
        .join(Learner, Account.learner_id == Learner.id)
        .join(LearnerIdentifier, LearnerIdentifier.learner_id == Learner.id)
        .where(
            LearnerIdentifier.kind == IdentifierKind.EMAIL,
            LearnerIdentifier.value == email,
            LearnerIdentifier.verified_at.is_not(None),
        )
    )


def email_verification_url(ctx: Context, account_public_id: str, email: str, now: datetime) -> str:
    token = make_link_token(
        ctx,
        PURPOSE_VERIFY_EMAIL,
        {"a": account_public_id, "e": email},
        ttl=EMAIL_LINK_TTL,
        now=now,
    )
    return f"{ctx.settings.base_url}/email/verify/{token}"


def _verification_message(ctx: Context, to: str, name: str, url: str) -> Message:
    body = "\n".join(
        [
            f"Hello {name},",
            "",
            "Please confirm that this address is yours by opening this link",
            "(sign in when asked):",
            "",
            f"  {url}",
            "",
            f"The link expires in {EMAIL_LINK_TTL.days} days.",
            "If you did not ask for this, you can ignore this message.",
            "",
        ]
    )
    return Message(to=to, subject="Confirm your email address", body=body)


def sign_up(ctx: Context, *, email: str, password: str, display_name: str) -> None:
    """Self-service sign-up; the same outcome whether or not the address has an account.

    A new address gets an account (role learner) and a verification link.  An
    address that already belongs to an account gets a note to its owner
    (with the way to reset the password) instead, and the caller learns
    nothing: the page says "check your inbox" either way.  The new account's
    learner holds no identifier until the address is proved, so nothing sent
    to the address binds to this account before then.
    """
    email = normalize_email(email)
    check_password(password)
    name = display_name.strip()
    if not name:
        raise ValidationError("display_name", "is required")
    if len(name) > 200:
        raise ValidationError("display_name", "at most 200 characters")
    now = ctx.now()
    try:
        with ctx.uow() as uow:
            session = uow.session
            owner = _owner_of_email(session, email)
            if owner is not None:
                # The same work as creating an account: no enumeration by timing.
                _hasher.hash(password)
                note = Message(
                    to=email,
                    subject="Someone tried to sign up with your address",
                    body="\n".join(
                        [
                            "Hello,",
                            "",
                            "Someone (perhaps you) tried to create a badger account with this",
                            "address, which already has one. If it was you, sign in:",
                            "",
                            f"  {ctx.settings.base_url}/login",
                            "",
                            "Forgot the password? Ask for a new one here:",
                            "",
                            f"  {ctx.settings.base_url}/password/forgot",
                            "",
                            "If it was not you, you can ignore this message.",
                            "",
                        ]
                    ),
                )
                uow.after_commit(lambda: ctx.mailer.send(note))
                return
            account = Account(
                learner=Learner(display_name=name),
                email=email,
                password_hash=_hasher.hash(password),
                roles=[AccountRole(role=Role.LEARNER.value)],
            )
            session.add(account)
            session.flush()
            audit.record(
                uow,
                actor=f"account:{account.public_id}",
                action="account.sign_up",
                subject_type="account",
                subject_id=account.public_id,
                now=now,
                email=email,
            )
            message = _verification_message(
                ctx, email, name, email_verification_url(ctx, account.public_id, email, now)
            )
            uow.after_commit(lambda: ctx.mailer.send(message))
    except IntegrityError:
        # Two sign-ups for one address at the same moment: the other one won.
        return


def resend_verification(ctx: Context, account_public_id: str) -> None:
    """Send the sign-in address's verification link again (when not yet verified)."""
    now = ctx.now()
    with ctx.uow() as uow:
        account = uow.session.scalar(select(Account).where(Account.public_id == account_public_id))
        if account is None:
            raise NotFound("no such account")
        if email_is_verified(uow.session, account):
            return
        message = _verification_message(
            ctx,
            account.email,
            account.learner.display_name,
            email_verification_url(ctx, account.public_id, account.email, now),
        )
        uow.after_commit(lambda: ctx.mailer.send(message))


def email_is_verified(session: Session, account: Account) -> bool:
    return any(
        i.kind == IdentifierKind.EMAIL and i.value == account.email and i.verified_at
        for i in account.learner.identifiers
    )


def request_password_reset(ctx: Context, email: str) -> None:
    """Mail a one-time reset link if the address has an account; silent otherwise."""
    try:
        email = normalize_email(email)
    except ValidationError:
        return
    now = ctx.now()
    with ctx.uow() as uow:
        account = _find_by_email(uow.session, email)
        if account is None or not account.is_active:
            return
        token = make_link_token(
            ctx,
            PURPOSE_RESET_PASSWORD,
            {"a": account.public_id, "h": _hash_fingerprint(account.password_hash)},
            ttl=RESET_LINK_TTL,
            now=now,
        )
        audit.record(
            uow,
            actor=audit.SYSTEM,
            action="account.password_reset_requested",
            subject_type="account",
            subject_id=account.public_id,
            now=now,
        )
        minutes = int(RESET_LINK_TTL.total_seconds() // 60)
        message = Message(
            to=email,
            subject="Reset your badger password",
            body="\n".join(
                [
                    f"Hello {account.learner.display_name},",
                    "",
                    "Choose a new password here:",
                    "",
                    f"  {ctx.settings.base_url}/password/reset/{token}",
                    "",
                    f"The link works once and expires in {minutes} minutes.",
                    "If you did not ask for this, you can ignore this message;",
                    "your password stays as it is.",
                    "",
                ]
            ),
        )
        uow.after_commit(lambda: ctx.mailer.send(message))


def check_reset_token(ctx: Context, token: str) -> None:
    """Raise unless ``token`` is a reset link that can still be used."""
    now = ctx.now()
    data = load_link_token(ctx, PURPOSE_RESET_PASSWORD, token, now=now)
    with ctx.uow() as uow:
        _reset_target(uow.session, data)


def _reset_target(session: Session, data: dict[str, Any]) -> Account:
    account = session.scalar(select(Account).where(Account.public_id == str(data.get("a"))))
    if account is None or not account.is_active:
        raise NotFound(INVALID_LINK)
    if not hmac.compare_digest(_hash_fingerprint(account.password_hash), str(data.get("h", ""))):
        raise NotFound(INVALID_LINK)
    return account


def reset_password(ctx: Context, token: str, new_password: str) -> AccountView:
    """Set a new password through a reset link; the link is spent afterwards."""
    now = ctx.now()
    data = load_link_token(ctx, PURPOSE_RESET_PASSWORD, token, now=now)
    check_password(new_password)
    with ctx.uow() as uow:
        account = _reset_target(uow.session, data)
        account.password_hash = _hasher.hash(new_password)
        audit.record(
            uow,
            actor=f"account:{account.public_id}",
            action="account.password_reset",
            subject_type="account",
            subject_id=account.public_id,
            now=now,
        )
        return _view(account)
