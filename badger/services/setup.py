"""Installing and upgrading a badger instance (``badger init``, ``badger db upgrade``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from badger.domain.accounts import Role
from badger.domain.achievements import validate_slug
from badger.domain.errors import ValidationError
from badger.domain.recipients import normalize_email
from badger.services import accounts, audit
from badger.services.context import Context
from badger.store import migrate
from badger.store.db import check_database
from badger.store.models import Account, AccountRole, Issuer

ISSUER_ID_METHODS = ("did:key", "did:web", "url")


@dataclass
class InitReport:
    lines: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.lines.append(line)


@dataclass(frozen=True)
class IssuerInput:
    slug: str
    name: str
    url: str
    email: str
    description: str | None = None
    id_method: str = "did:key"

    def validated(self) -> IssuerInput:
        validate_slug(self.slug, "issuer_slug")
        if not self.name.strip():
            raise ValidationError("issuer_name", "is required")
        if not self.url.startswith(("http://", "https://")):
            raise ValidationError("issuer_url", "must be an http(s) URL")
        if self.id_method not in ISSUER_ID_METHODS:
            raise ValidationError("issuer_id_method", f"one of {', '.join(ISSUER_ID_METHODS)}")
        return IssuerInput(
            slug=self.slug,
            name=self.name.strip(),
            url=self.url,
            email=normalize_email(self.email),
            description=self.description,
            id_method=self.id_method,
        )


def upgrade_database(ctx: Context) -> tuple[str | None, str | None]:
    """Migrate to head; returns (revision before, revision after)."""
    before = migrate.current_revision(ctx.engine)
    migrate.upgrade(ctx.engine)
    return before, migrate.current_revision(ctx.engine)


def database_status(ctx: Context) -> tuple[str | None, str | None]:
    return migrate.current_revision(ctx.engine), migrate.head_revision()


def initialize(
    ctx: Context,
    *,
    issuer: IssuerInput,
    admin_email: str,
    admin_password: str,
    admin_name: str = "Administrator",
) -> InitReport:
    """Create or upgrade the database, the first issuer and the first admin.

    Safe to run again: nothing is duplicated, an existing admin keeps their
    password, an existing issuer keeps its fields.
    """
    issuer = issuer.validated()
    admin_email = normalize_email(admin_email)
    report = InitReport()

    before, after = upgrade_database(ctx)
    report.say(
        f"database at revision {after}"
        + ("" if before == after else f" (upgraded from {before or 'empty'})")
    )

    with ctx.uow() as uow:
        existing = uow.session.scalar(select(Issuer).where(Issuer.slug == issuer.slug))
        if existing is None:
            row = Issuer(
                slug=issuer.slug,
                name=issuer.name,
                url=issuer.url,
                email=issuer.email,
                description=issuer.description,
                id_method=issuer.id_method,
            )
            uow.session.add(row)
            uow.session.flush()
            audit.record(
                uow,
                actor=audit.SYSTEM,
                action="issuer.create",
                subject_type="issuer",
                subject_id=row.public_id,
                now=ctx.now(),
                slug=issuer.slug,
            )
            report.say(f"issuer {issuer.slug!r} created ({issuer.name})")
        else:
            report.say(f"issuer {issuer.slug!r} already exists; left as it is")
        account = uow.session.scalar(select(Account).where(Account.email == admin_email))
        if account is None:
            accounts.add_account(
                uow,
                now=ctx.now(),
                email=admin_email,
                password=admin_password,
                display_name=admin_name,
                roles=[Role.ADMIN],
                email_verified=True,
            )
            report.say(f"admin {admin_email} created")
        elif Role.ADMIN.value not in account.role_names:
            account.roles.append(AccountRole(role=Role.ADMIN.value))
            audit.record(
                uow,
                actor=audit.SYSTEM,
                action="account.grant_role",
                subject_type="account",
                subject_id=account.public_id,
                now=ctx.now(),
                role=Role.ADMIN.value,
            )
            report.say(f"admin {admin_email} already had an account; admin role granted")
        else:
            report.say(f"admin {admin_email} already exists; password unchanged")

    for ref in ctx.keystore.ensure_keys(issuer.slug):
        report.say(f"key {ref.alg.value} ready: {ref.kid}")
    return report


def is_initialized(ctx: Context) -> bool:
    if not migrate.is_up_to_date(ctx.engine):
        return False
    with ctx.uow() as uow:
        return uow.session.scalar(select(Issuer.id).limit(1)) is not None


def health_problem(ctx: Context) -> str | None:
    """Why this instance cannot serve, or ``None`` when it is ready."""
    problem = check_database(ctx.engine)
    if problem is not None:
        return f"database unreachable ({problem})"
    if not is_initialized(ctx):
        return "database not initialised (run `badger init`)"
    return None
