"""SQLAlchemy 2.0 typed models.

Conventions: integer primary keys stay inside the database; anything that
appears in a URL or a credential is the opaque ``public_id`` (UUID).  Credits
are ``Numeric`` (Decimal), times are timezone-aware UTC.  The schema changes only
through Alembic migrations (``badger/store/migrations``); a test proves these
models and the migrations agree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend.

    SQLite has no time zone type and returns naive values; this stores UTC and
    hands back aware datetimes everywhere, and refuses naive input (a naive
    time in a credential is a bug: FACTS §5.13).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Issuer(Base):
    """An issuing organisation: the OB 2.0 / 3.0 Profile."""

    __tablename__ = "issuer"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    email: Mapped[str] = mapped_column(String(254))
    description: Mapped[str | None] = mapped_column(Text)
    image_uri: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    # How the issuer is identified in OB 3.0 credentials: did:key (offline
    # default), did:web, or its HTTPS profile URL.
    id_method: Mapped[str] = mapped_column(String(10), default="did:key")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    achievements: Mapped[list[Achievement]] = relationship(back_populates="issuer")

    __table_args__ = (
        CheckConstraint("id_method IN ('did:key', 'did:web', 'url')", name="id_method"),
    )


class Learner(Base):
    """A person who earns badges.  Identified by several verified identifiers."""

    __tablename__ = "learner"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identifiers: Mapped[list[LearnerIdentifier]] = relationship(
        back_populates="learner", cascade="all, delete-orphan", order_by="LearnerIdentifier.id"
    )
    account: Mapped[Account | None] = relationship(back_populates="learner")


class LearnerIdentifier(Base):
    """An email, URL, DID or phone number that names a learner."""

    __tablename__ = "learner_identifier"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[str] = mapped_column(String(500))
    verified_at: Mapped[datetime | None]
    is_primary: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[Learner] = relationship(back_populates="identifiers")

    __table_args__ = (
        UniqueConstraint("kind", "value"),
        CheckConstraint("kind IN ('email', 'url', 'did', 'telephone')", name="kind"),
        Index("ix_learner_identifier_learner_id", "learner_id"),
    )


class Account(Base):
    """A sign-in: email + password hash, roles, tokens.  Belongs to a learner."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    learner: Mapped[Learner] = relationship(back_populates="account")
    roles: Mapped[list[AccountRole]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}


class AccountRole(Base):
    __tablename__ = "account_role"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    account: Mapped[Account] = relationship(back_populates="roles")

    __table_args__ = (CheckConstraint("role IN ('admin', 'reviewer', 'learner')", name="role"),)


class ApiToken(Base):
    """A per-account bearer token for machine clients.

    Only a SHA-256 digest is stored: tokens are 256-bit random values, so a
    fast hash is the right tool (a password hasher buys nothing) and lookup
    by ``prefix`` keeps verification to one row.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(back_populates="tokens")

    __table_args__ = (Index("ix_api_token_account_id", "account_id"),)


class Achievement(Base):
    """An achievement definition (OB 3.0 Achievement / OB 2.0 BadgeClass)."""

    __tablename__ = "achievement"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id"))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    criteria_narrative: Mapped[str] = mapped_column(Text)
    criteria_url: Mapped[str | None] = mapped_column(String(500))
    image_uri: Mapped[str | None] = mapped_column(Text)
    achievement_type: Mapped[str] = mapped_column(String(60), default="MicroCredential")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    alignments: Mapped[list[Any]] = mapped_column(default=list)
    credits_available: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    credit_category: Mapped[str | None] = mapped_column(String(80))
    provider: Mapped[str | None] = mapped_column(String(200))
    series: Mapped[str | None] = mapped_column(String(80))
    validity_days: Mapped[int | None] = mapped_column(Integer)
    human_code: Mapped[str | None] = mapped_column(String(60))
    field_of_study: Mapped[str | None] = mapped_column(String(200))
    # Requirement rules and evidence rules are validated JSON documents
    # (schemas/); the awarding engine turns them into domain values.
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    evidence_rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_public: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    issuer: Mapped[Issuer] = relationship(back_populates="achievements")

    __table_args__ = (
        UniqueConstraint("issuer_id", "slug"),
        CheckConstraint("credits_available >= 0", name="credits_nonnegative"),
    )


class CatalogState(Base):
    """One row: a counter that every change to achievement definitions bumps.

    Bumped in the transaction that changes them, so a process that sees the
    new number also sees the new definitions: the awarding engine's rule
    index compares it to decide whether to rebuild (one primary-key read,
    where counting the achievements scanned the table).
    """

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class Award(Base):
    """The record: this learner earned this achievement at this time.

    At most one award per (learner, achievement, cycle): ``cycle_key`` is
    empty for achievements outside renewal cycles.  Every rendering of the
    award lives in :class:`IssuedDocument`.
    """

    __tablename__ = "award"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    recipient_identifier_id: Mapped[int | None] = mapped_column(ForeignKey("learner_identifier.id"))
    cycle_key: Mapped[str] = mapped_column(String(40), default="")
    issued_on: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None]
    credits_earned: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    narrative: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    # Which rule and which inputs satisfied the requirements (explainability).
    basis: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
    is_public: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    achievement: Mapped[Achievement] = relationship()
    learner: Mapped[Learner] = relationship()
    issuer: Mapped[Issuer] = relationship()
    documents: Mapped[list[IssuedDocument]] = relationship(
        back_populates="award", order_by="IssuedDocument.id"
    )

    __table_args__ = (
        UniqueConstraint("learner_id", "achievement_id", "cycle_key"),
        CheckConstraint("status IN ('active', 'revoked', 'suspended')", name="status"),
        Index("ix_award_achievement_id", "achievement_id"),
    )


class IssuedDocument(Base):
    """One rendering of an award exactly as issued (signed bytes never change)."""

    __tablename__ = "issued_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"))
    format: Mapped[str] = mapped_column(String(20))
    media_type: Mapped[str] = mapped_column(String(80))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    award: Mapped[Award] = relationship(back_populates="documents")

    __table_args__ = (UniqueConstraint("award_id", "format"),)


class StatusList(Base):
    """A Bitstring Status List (revocation or suspension) of one issuer.

    The bits and the signed list credential live in :class:`StatusListContent`:
    every award allocates an index here, and that small row must not drag the
    16 KiB bitstring along with each update.
    """

    __tablename__ = "status_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id"))
    purpose: Mapped[str] = mapped_column(String(12))
    size: Mapped[int] = mapped_column(Integer, default=131072)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    content: Mapped[StatusListContent] = relationship(
        back_populates="status_list", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("purpose IN ('revocation', 'suspension')", name="purpose"),
        CheckConstraint("allocated <= size", name="capacity"),
    )


class StatusListContent(Base):
    """The bits of a status list and its signed credential, re-signed when a bit flips."""

    __tablename__ = "status_list_content"

    status_list_id: Mapped[int] = mapped_column(
        ForeignKey("status_list.id", ondelete="CASCADE"), primary_key=True
    )
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    # The signed BitstringStatusListCredential for the current bits (served as stored).
    document: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    status_list: Mapped[StatusList] = relationship(back_populates="content")


class StatusAllocation(Base):
    """Which index of which status list belongs to which award."""

    __tablename__ = "status_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_list.id"))
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"))
    index: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("status_list_id", "index"),
        UniqueConstraint("status_list_id", "award_id"),
    )


class AuditEntry(Base):
    """Append-only audit log.  The database refuses UPDATE and DELETE (trigger)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)


class CompletionEvent(Base):
    """Something that happened to a learner elsewhere (LMS, webinar, CSV).

    ``idempotency_key`` is unique: the same event sent twice is recorded once.
    """

    __tablename__ = "completion_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    kind: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[Learner] = relationship()

    __table_args__ = (Index("ix_completion_event_learner_kind", "learner_id", "kind"),)


class Upload(Base):
    """An uploaded file (evidence, achievement image), stored once by content hash."""

    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


OPEN_EVIDENCE = "kind = 'evidence' AND status IN ('submitted', 'returned')"
OPEN_EVIDENCE_INDEX = "uq_submission_open_evidence"


class Submission(Base):
    """Evidence for an achievement, an activity worth credits, or a catalogue proposal.

    Reviewers approve, reject (with a comment) or return it for revision.
    """

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievement.id"))
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    narrative: Mapped[str | None] = mapped_column(Text)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id"))
    credits: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    category: Mapped[str | None] = mapped_column(String(80))
    learning_minutes: Mapped[int | None] = mapped_column(Integer)
    activity_date: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    reviewer: Mapped[str | None] = mapped_column(String(300))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    learner: Mapped[Learner] = relationship()
    achievement: Mapped[Achievement | None] = relationship()
    upload: Mapped[Upload | None] = relationship()

    __table_args__ = (
        CheckConstraint("kind IN ('evidence', 'activity', 'proposal')", name="kind"),
        CheckConstraint(
            "status IN ('submitted', 'approved', 'rejected', 'returned')", name="status"
        ),
        Index("ix_submission_status", "status"),
        Index("ix_submission_learner_id", "learner_id"),
        # At most one open (submitted or returned) evidence submission per
        # learner and achievement: the check in services.review cannot see a
        # concurrent insert that has not committed yet (migration 0006).
        Index(
            OPEN_EVIDENCE_INDEX,
            "learner_id",
            "achievement_id",
            unique=True,
            sqlite_where=text(OPEN_EVIDENCE),
            postgresql_where=text(OPEN_EVIDENCE),
        ),
    )


class ClaimToken(Base):
    """A one-time, expiring link that lets someone claim an award sent to an address."""

    __tablename__ = "claim_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"))
    identifier_id: Mapped[int] = mapped_column(ForeignKey("learner_identifier.id"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    award: Mapped[Award] = relationship()
    identifier: Mapped[LearnerIdentifier] = relationship()


class BulkJob(Base):
    """A bulk issue run: validated rows first, then issued; resumable."""

    __tablename__ = "bulk_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    total: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(300))
    rows: Mapped[list[Any]] = mapped_column(default=list)
    report: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    outcomes: Mapped[list[BulkJobRow]] = relationship(
        back_populates="job", order_by="BulkJobRow.position"
    )

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),
    )


class BulkJobRow(Base):
    """The outcome of one row of a bulk job; the job resumes after the last one."""

    __tablename__ = "bulk_job_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_job.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    row: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    award_public_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str | None] = mapped_column(Text)

    job: Mapped[BulkJob] = relationship(back_populates="outcomes")

    __table_args__ = (
        UniqueConstraint("job_id", "position"),
        CheckConstraint("status IN ('issued', 'skipped', 'failed')", name="status"),
    )


class RenewalPolicy(Base):
    """One version of a renewal policy (schemas/renewal-policy.json), never edited.

    A learner's cycle points at the version it started under; a new version of
    the same key is a new row.
    """

    __tablename__ = "renewal_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("key", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class CertificationCycle(Base):
    """A learner's renewal cycle of one certification under one policy version.

    ``open_policy_key`` holds the policy key while the cycle is open and is
    NULL once it is renewed or lapsed: the unique constraint on it allows one
    open cycle per learner and key on every backend (NULLs never collide).
    """

    __tablename__ = "certification_cycle"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("renewal_policy.id"))
    policy_key: Mapped[str] = mapped_column(String(80))
    open_policy_key: Mapped[str | None] = mapped_column(String(80))
    certification_id: Mapped[int] = mapped_column(ForeignKey("achievement.id"))
    starts_at: Mapped[datetime]
    base_deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
    renewal_award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))
    # What the renewal counted (credit total and item ids), for the revocation cascade.
    renewal_basis: Mapped[dict[str, Any]] = mapped_column(default=dict)
    renewed_at: Mapped[datetime | None]
    previous_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("certification_cycle.id"))
    superseded_at: Mapped[datetime | None]
    review_state: Mapped[str | None] = mapped_column(String(12))
    review_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[Learner] = relationship()
    policy: Mapped[RenewalPolicy] = relationship()
    certification: Mapped[Achievement] = relationship()
    renewal_award: Mapped[Award | None] = relationship()
    previous_cycle: Mapped[CertificationCycle | None] = relationship(
        remote_side="CertificationCycle.id"
    )
    extensions: Mapped[list[CycleExtension]] = relationship(
        back_populates="cycle", order_by="CycleExtension.id"
    )
    hiatus_periods: Mapped[list[CycleHiatus]] = relationship(
        back_populates="cycle", order_by="CycleHiatus.id"
    )

    __table_args__ = (
        UniqueConstraint("learner_id", "open_policy_key"),
        CheckConstraint(
            "status IN ('active', 'inactive', 'grace', 'lapsed', 'renewed')", name="status"
        ),
        CheckConstraint(
            "review_state IS NULL OR review_state IN ('pending', 'reinstated', 'revoked')",
            name="review_state",
        ),
        CheckConstraint("base_deadline > starts_at", name="deadline_after_start"),
        Index("ix_certification_cycle_status", "status"),
    )


class CycleExtension(Base):
    """Staff moved a cycle's deadline by ``days`` (audited; never edited)."""

    __tablename__ = "cycle_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("certification_cycle.id"))
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cycle: Mapped[CertificationCycle] = relationship(back_populates="extensions")

    __table_args__ = (
        CheckConstraint("days > 0", name="days_positive"),
        Index("ix_cycle_extension_cycle_id", "cycle_id"),
    )


class CycleHiatus(Base):
    """An inactive period: the cycle clock pauses from ``started_at`` to ``ended_at``."""

    __tablename__ = "cycle_hiatus"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("certification_cycle.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(300))
    ended_by: Mapped[str | None] = mapped_column(String(300))
    # The certification credential suspended for the hiatus (lifted on reactivation).
    suspended_award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))

    cycle: Mapped[CertificationCycle] = relationship(back_populates="hiatus_periods")

    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        Index("ix_cycle_hiatus_cycle_id", "cycle_id"),
    )


class CycleRequest(Base):
    """A learner asks for an extension, a hiatus or reactivation; staff decide."""

    __tablename__ = "cycle_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("certification_cycle.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    kind: Mapped[str] = mapped_column(String(12))
    days: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(300))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    cycle: Mapped[CertificationCycle] = relationship()
    learner: Mapped[Learner] = relationship()

    __table_args__ = (
        CheckConstraint("kind IN ('extension', 'hiatus', 'reactivation')", name="kind"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint("days IS NULL OR days > 0", name="days_positive"),
        Index("ix_cycle_request_status", "status"),
        Index("ix_cycle_request_cycle_id", "cycle_id"),
    )


class CycleReminder(Base):
    """A deadline reminder that went out; unique so each goes once."""

    __tablename__ = "cycle_reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("certification_cycle.id"))
    kind: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("cycle_id", "kind"),)


@event.listens_for(IssuedDocument, "before_update")
def _issued_documents_are_immutable(mapper: Any, connection: Any, target: IssuedDocument) -> None:
    raise ValueError("issued documents are immutable; issue a new award instead")


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise ValueError("the audit log is append-only")
