"""Submissions and their review: learners submit, reviewers decide.

Two kinds of submission reach the reviewers' queue:

* **evidence** for an achievement in the catalogue (a URL, a narrative, a
  file); approval feeds the awarding engine, so an achievement whose rule is
  ``{"evidence_approved": "<slug>"}`` is awarded in the same transaction;
* **activities** outside the catalogue worth CE credits in a category;
  approval feeds rules such as ``{"activity_credits": 2, "category": "ethics"}``.

A reviewer approves, rejects (with a comment) or returns for revision (with a
comment); a returned submission can be resubmitted and goes back into the
queue.  Only ``submitted`` submissions can be decided, and nobody decides their
own.  Every step is audited; the learner is told of each decision by mail,
sent only after the transaction commits (STYLE habit 3).

Views are frozen dataclasses; no ORM object leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from badger.domain.accounts import Role
from badger.domain.achievements import AchievementSpec, validate_slug
from badger.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from badger.domain.requirements import Dependencies
from badger.services import audit, awarding, catalog, uploads
from badger.services.accounts import AccountView, actor_of
from badger.services.context import Context
from badger.services.issue import IssuedAward
from badger.services.mail import Message
from badger.store.db import UnitOfWork
from badger.store.models import (
    OPEN_EVIDENCE_INDEX,
    Achievement,
    Issuer,
    Learner,
    Submission,
    Upload,
)

# How long a submission may wait before the queue marks it overdue.
REVIEW_TARGET = timedelta(days=5)
MAX_NARRATIVE = 10_000
MAX_COMMENT = 10_000
MAX_URL = 1000
MAX_TITLE = 200
MAX_ACTIVITY_CREDITS = Decimal(100)
MAX_LEARNING_MINUTES = 100_000
MAX_QUEUE = 1000

DECISIONS = {"approve": "approved", "reject": "rejected", "return": "returned"}
STATUSES = ("submitted", "approved", "rejected", "returned")
# A learner has at most one open evidence submission per achievement: waiting
# for review, or returned to them for changes (then they revise and resubmit
# it).  The database enforces it too (OPEN_EVIDENCE_INDEX, migration 0006).
OPEN_STATUSES = ("submitted", "returned")

# (content, file name, the Content-Type the client claimed)
FileInput = tuple[bytes, str, str | None]


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class SubmissionView:
    public_id: str
    kind: str
    status: str
    learner_public_id: str
    learner_name: str
    achievement_slug: str | None
    achievement_name: str | None
    title: str | None
    url: str | None
    narrative: str | None
    upload: uploads.UploadView | None
    credits: Decimal | None
    category: str | None
    learning_minutes: int | None
    activity_date: datetime | None
    # The latest decision; kept when a returned submission is resubmitted so
    # the next reviewer sees what was asked for.
    reviewer: str | None
    review_comment: str | None
    reviewed_at: datetime | None
    created_at: datetime
    # When it last entered its current status (for the queue: waiting since).
    updated_at: datetime

    @property
    def subject(self) -> str:
        """What the submission is about, for headings and mail subjects."""
        return self.achievement_name or self.title or self.kind


@dataclass(frozen=True)
class QueueEntry:
    """A submission in the reviewers' queue, with how long it has waited."""

    submission: SubmissionView
    waiting_since: datetime
    age: timedelta
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class ReviewResult:
    submission: SubmissionView
    awarded: tuple[IssuedAward, ...]
    # An approved catalogue proposal becomes this new achievement.
    achievement: catalog.AchievementView | None = None


def _view(row: Submission) -> SubmissionView:
    achievement = row.achievement
    return SubmissionView(
        public_id=row.public_id,
        kind=row.kind,
        status=row.status,
        learner_public_id=row.learner.public_id,
        learner_name=row.learner.display_name,
        achievement_slug=achievement.slug if achievement else None,
        achievement_name=achievement.name if achievement else None,
        title=row.title,
        url=row.url,
        narrative=row.narrative,
        upload=uploads.view_of(row.upload) if row.upload else None,
        credits=row.credits,
        category=row.category,
        learning_minutes=row.learning_minutes,
        activity_date=row.activity_date,
        reviewer=row.reviewer,
        review_comment=row.review_comment,
        reviewed_at=row.reviewed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# ---------------------------------------------------------------- input checks


def _clean_url(url: str | None) -> str | None:
    text = (url or "").strip()
    if not text:
        return None
    if len(text) > MAX_URL:
        raise ValidationError("url", f"at most {MAX_URL} characters")
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValidationError("url", "must be an http(s) URL")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationError("url", "must not contain spaces or control characters")
    return text


def _clean_text(value: str | None, field: str, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationError(field, f"at most {limit:,} characters")
    return text or None


def _parse_credits(value: object) -> Decimal:
    # Credits are Decimal, never float: 0.1 + 0.2 must stay 0.3.
    if isinstance(value, bool | float) or value is None:
        raise ValidationError("credits", "must be a decimal number such as 1.5")
    try:
        credits = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError("credits", f"{value!r} is not a number") from None
    if not credits.is_finite() or not Decimal(0) < credits <= MAX_ACTIVITY_CREDITS:
        raise ValidationError("credits", f"must be more than 0 and at most {MAX_ACTIVITY_CREDITS}")
    if credits.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("credits", "at most two decimal places")
    return credits


def _parse_activity_date(value: date | datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError("activity_date", "needs a time zone")
        moment = value.astimezone(UTC)
    else:
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    # A day's grace: "today" east of Greenwich is tomorrow in UTC.
    if moment > now + timedelta(days=1):
        raise ValidationError("activity_date", "is in the future")
    return moment


def _check_reviewer(reviewer: AccountView) -> None:
    if not reviewer.is_active or not reviewer.has_role(Role.REVIEWER):
        raise PermissionDenied("only reviewers can decide submissions")


# ---------------------------------------------------------------- lookups


def _learner(uow: UnitOfWork, public_id: str) -> Learner:
    learner = uow.session.scalar(select(Learner).where(Learner.public_id == public_id))
    if learner is None:
        raise NotFound(f"no learner {public_id!r}")
    return learner


def _achievement(ctx: Context, uow: UnitOfWork, ref: str) -> Achievement:
    stmt = select(Achievement).join(Issuer)
    row = uow.session.scalar(stmt.where(Achievement.public_id == ref))
    if row is None:
        row = uow.session.scalar(
            stmt.where(Achievement.slug == ref, Issuer.slug == ctx.settings.issuer_slug)
        )
    if row is None:
        raise NotFound(f"no achievement {ref!r}")
    return row


def _submission(uow: UnitOfWork, public_id: str, *, for_update: bool = False) -> Submission:
    stmt = select(Submission).where(Submission.public_id == public_id)
    if for_update:
        # Two reviewers deciding at once: the second waits, then sees the
        # first decision and gets a Conflict (PostgreSQL; SQLite's units of
        # work already run one writer at a time).
        stmt = stmt.with_for_update()
    row = uow.session.scalar(stmt)
    if row is None:
        raise NotFound(f"no submission {public_id!r}")
    return row


def _open_evidence(uow: UnitOfWork, learner: Learner, target: Achievement) -> Conflict | None:
    """The Conflict to raise if the learner already has open evidence for ``target``."""
    found = uow.session.execute(
        select(Submission.public_id, Submission.status).where(
            Submission.learner_id == learner.id,
            Submission.achievement_id == target.id,
            Submission.kind == "evidence",
            Submission.status.in_(OPEN_STATUSES),
        )
    ).first()
    if found is None:
        return None
    public_id, status = found
    if status == "returned":
        return Conflict(
            f"evidence for {target.name} was returned for changes; revise and resubmit "
            f"submission {public_id} instead"
        )
    return Conflict(
        f"evidence for {target.name} is already waiting for review (submission {public_id})"
    )


def _is_open_evidence_clash(exc: IntegrityError) -> bool:
    # PostgreSQL names the index; SQLite names its columns.
    message = str(exc.orig)
    return OPEN_EVIDENCE_INDEX in message or (
        "submission.learner_id, submission.achievement_id" in message
    )


def _store_file(
    ctx: Context, uow: UnitOfWork, file: FileInput | None, now: datetime
) -> Upload | None:
    if file is None:
        return None
    data, filename, declared_type = file
    return uploads.store_upload(
        uow,
        data=data,
        filename=filename,
        declared_type=declared_type,
        max_bytes=ctx.settings.max_upload_bytes,
        now=now,
    )


# ---------------------------------------------------------------- learners submit


def submit_evidence(
    ctx: Context,
    *,
    learner_public_id: str,
    achievement: str,
    url: str | None = None,
    narrative: str | None = None,
    file: FileInput | None = None,
    actor: str,
) -> SubmissionView:
    """Submit evidence for an achievement (slug or public id) for review."""
    clean_url = _clean_url(url)
    clean_narrative = _clean_text(narrative, "narrative", MAX_NARRATIVE)
    if not (clean_url or clean_narrative or file):
        raise ValidationError("evidence", "give a URL, a narrative or a file")
    now = ctx.now()
    with ctx.uow() as uow:
        learner = _learner(uow, learner_public_id)
        target = _achievement(ctx, uow, achievement)
        conflict = _open_evidence(uow, learner, target)
        if conflict is not None:
            raise conflict
        row = Submission(
            learner=learner,
            achievement=target,
            kind="evidence",
            url=clean_url,
            narrative=clean_narrative,
            upload=_store_file(ctx, uow, file, now),
            status="submitted",
            created_at=now,
            updated_at=now,
        )
        try:
            with uow.session.begin_nested():
                uow.session.add(row)
                uow.session.flush()
        except IntegrityError as exc:
            # Two submissions at once: the check above could not see the other
            # transaction's uncommitted row; the unique index waited for it to
            # commit and refused this one.  Under READ COMMITTED the check now
            # sees it, so the learner gets the same Conflict as one at a time.
            if not _is_open_evidence_clash(exc):
                raise
            raise _open_evidence(uow, learner, target) or Conflict(
                f"other evidence for {target.name} was submitted at the same moment"
            ) from None
        audit.record(
            uow,
            actor=actor,
            action="submission.submit",
            subject_type="submission",
            subject_id=row.public_id,
            now=now,
            kind="evidence",
            learner=learner.public_id,
            achievement=target.slug,
            upload=row.upload.public_id if row.upload else None,
        )
        return _view(row)


def submit_activity(
    ctx: Context,
    *,
    learner_public_id: str,
    title: str,
    credits: Decimal,
    category: str,
    url: str | None = None,
    narrative: str | None = None,
    learning_minutes: int | None = None,
    activity_date: date | datetime | None = None,
    file: FileInput | None = None,
    actor: str,
) -> SubmissionView:
    """Submit an activity outside the catalogue, worth ``credits`` in ``category``."""
    clean_title = _clean_text(title, "title", MAX_TITLE)
    if not clean_title:
        raise ValidationError("title", "is required")
    amount = _parse_credits(credits)
    validate_slug((category or "").strip(), "category")
    if learning_minutes is not None and (
        isinstance(learning_minutes, bool)
        or not isinstance(learning_minutes, int)
        or not 1 <= learning_minutes <= MAX_LEARNING_MINUTES
    ):
        raise ValidationError(
            "learning_minutes", f"must be a whole number from 1 to {MAX_LEARNING_MINUTES:,}"
        )
    clean_url = _clean_url(url)
    clean_narrative = _clean_text(narrative, "narrative", MAX_NARRATIVE)
    now = ctx.now()
    when = _parse_activity_date(activity_date, now)
    with ctx.uow() as uow:
        learner = _learner(uow, learner_public_id)
        row = Submission(
            learner=learner,
            kind="activity",
            title=clean_title,
            url=clean_url,
            narrative=clean_narrative,
            upload=_store_file(ctx, uow, file, now),
            credits=amount,
            category=category.strip(),
            learning_minutes=learning_minutes,
            activity_date=when,
            status="submitted",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            actor=actor,
            action="submission.submit",
            subject_type="submission",
            subject_id=row.public_id,
            now=now,
            kind="activity",
            learner=learner.public_id,
            title=clean_title,
            credits=str(amount),
            category=row.category,
            upload=row.upload.public_id if row.upload else None,
        )
        return _view(row)


def resubmit(
    ctx: Context,
    submission_public_id: str,
    learner_public_id: str,
    *,
    url: str | None = None,
    narrative: str | None = None,
    file: FileInput | None = None,
    actor: str,
) -> SubmissionView:
    """Send a returned submission back to the queue, revised.

    ``None`` keeps a field as it was; an empty string clears it (a form that
    shows the previous values sends them back, edited or emptied).
    """
    now = ctx.now()
    with ctx.uow() as uow:
        row = _submission(uow, submission_public_id, for_update=True)
        if row.learner.public_id != learner_public_id:
            raise PermissionDenied("only the learner who submitted it can resubmit it")
        if row.status != "returned":
            raise Conflict(
                f"only a returned submission can be resubmitted; this one is {row.status}"
            )
        if url is not None:
            row.url = _clean_url(url)
        if narrative is not None:
            row.narrative = _clean_text(narrative, "narrative", MAX_NARRATIVE)
        if file is not None:
            row.upload = _store_file(ctx, uow, file, now)
        # A returned evidence submission is still open, so no other can be
        # (OPEN_STATUSES): resubmitting it cannot make a second one.
        if row.kind == "evidence" and not (row.url or row.narrative or row.upload):
            raise ValidationError("evidence", "give a URL, a narrative or a file")
        row.status = "submitted"
        row.updated_at = now
        uow.session.flush()
        audit.record(
            uow,
            actor=actor,
            action="submission.resubmit",
            subject_type="submission",
            subject_id=row.public_id,
            now=now,
            upload=row.upload.public_id if row.upload else None,
        )
        return _view(row)


# ---------------------------------------------------------------- reviewers decide


def review(
    ctx: Context,
    submission_public_id: str,
    *,
    decision: str,
    comment: str | None,
    reviewer: AccountView,
    entry: CatalogueEntry | None = None,
) -> ReviewResult:
    """Approve, reject or return a submitted submission; approval awards what it completes.

    Approving a catalogue proposal adds it to the catalogue as a new
    microcredential in the same transaction, with the proposal's title, link,
    credits and category unless ``entry`` says otherwise.
    """
    if decision not in DECISIONS:
        raise ValidationError("decision", f"one of {', '.join(DECISIONS)}")
    note = _clean_text(comment, "comment", MAX_COMMENT)
    if decision != "approve" and not note:
        raise ValidationError("comment", f"tell the learner why (required to {decision})")
    _check_reviewer(reviewer)
    actor = actor_of(reviewer)
    now = ctx.now()
    with ctx.uow() as uow:
        row = _submission(uow, submission_public_id, for_update=True)
        if row.learner.public_id == reviewer.learner_public_id:
            raise PermissionDenied("you cannot review your own submission")
        if row.status != "submitted":
            raise Conflict(
                f"this submission is already {row.status}; only submitted ones can be decided"
            )
        row.status = DECISIONS[decision]
        row.reviewer = actor
        row.review_comment = note
        row.reviewed_at = now
        row.updated_at = now
        uow.session.flush()
        audit.record(
            uow,
            actor=actor,
            action=f"submission.{decision}",
            subject_type="submission",
            subject_id=row.public_id,
            now=now,
            kind=row.kind,
            learner=row.learner.public_id,
            comment=note,
        )
        awarded: tuple[IssuedAward, ...] = ()
        created = None
        if decision == "approve" and row.kind == "proposal":
            created = _add_to_catalogue(
                ctx, uow, row, entry or CatalogueEntry(), actor=actor, now=now
            )
        triggers = _triggers(row) if decision == "approve" else None
        if triggers is not None:
            awarded = awarding.evaluate(
                ctx, uow, row.learner, triggers, actor=actor, notify=False
            ).awarded
        view = _view(row)
        message = _decision_message(uow, row.learner, view, awarded)
        if message is not None:
            uow.after_commit(lambda: ctx.mailer.send(message))
    return ReviewResult(view, awarded, created)


def proposal_slug(title: str | None) -> str:
    """A catalogue slug made from a proposal's title (``"Ethics 2.0!"`` → ``ethics-2-0``)."""
    text = re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")
    return text[:80].rstrip("-") or "proposal"


@dataclass(frozen=True)
class CatalogueEntry:
    """How an approved proposal enters the catalogue; ``None`` takes the proposal's value."""

    slug: str | None = None
    provider: str | None = None
    credits: Decimal | None = None
    category: str | None = None


def _add_to_catalogue(
    ctx: Context,
    uow: UnitOfWork,
    row: Submission,
    entry: CatalogueEntry,
    *,
    actor: str,
    now: datetime,
) -> catalog.AchievementView:
    name = row.title or "Proposed activity"
    narrative = row.narrative or name
    credits = entry.credits if entry.credits is not None else row.credits
    category = (entry.category or "").strip() or row.category
    if category and credits is None:
        raise ValidationError("credits", "give the credits the activity is worth in its category")
    spec = AchievementSpec(
        slug=validate_slug((entry.slug or "").strip() or proposal_slug(row.title)),
        name=name[:200],
        description=narrative[:5000],
        criteria_narrative=narrative,
        criteria_url=row.url,
        credits_available=credits,
        credit_category=validate_slug(category, "category") if category else None,
        provider=_clean_text(entry.provider, "provider", 200),
        tags=("proposal",),
    )
    created = catalog.add_achievement(
        uow, issuer_slug=ctx.settings.issuer_slug, spec=spec, actor=actor, now=now
    )
    audit.record(
        uow,
        actor=actor,
        action="proposal.catalogue",
        subject_type="submission",
        subject_id=row.public_id,
        now=now,
        achievement=created.public_id,
        slug=created.slug,
    )
    return created


def _triggers(row: Submission) -> Dependencies | None:
    if row.kind == "evidence" and row.achievement is not None:
        return Dependencies(evidence_for=frozenset({row.achievement.slug}))
    if row.kind == "activity":
        return Dependencies(activities=True)
    return None


# ---------------------------------------------------------------- mail


def learner_email(learner: Learner) -> str | None:
    """Where to write to a learner: the account's address, else an email identifier."""
    if learner.account is not None:
        return learner.account.email
    emails = [i for i in learner.identifiers if i.kind == "email"]
    emails.sort(key=lambda i: (not i.is_primary, i.verified_at is None, i.id))
    return emails[0].value if emails else None


def _achievement_names(uow: UnitOfWork, slugs: Iterable[str]) -> dict[str, str]:
    wanted = set(slugs)
    if not wanted:
        return {}
    rows = uow.session.execute(
        select(Achievement.slug, Achievement.name).where(Achievement.slug.in_(wanted))
    )
    return dict(rows.all())


def _decision_message(
    uow: UnitOfWork, learner: Learner, view: SubmissionView, awarded: tuple[IssuedAward, ...]
) -> Message | None:
    to = learner_email(learner)
    if to is None:
        return None
    subject = view.subject
    headline = {
        "approved": f"Your submission was approved: {subject}",
        "rejected": f"Your submission was not approved: {subject}",
        "returned": f"Your submission needs changes: {subject}",
    }[view.status]
    lines = [f"Hello {learner.display_name},", ""]
    lines.append(
        {
            "approved": f"A reviewer approved your submission “{subject}”.",
            "rejected": f"A reviewer did not approve your submission “{subject}”.",
            "returned": (
                f"A reviewer returned your submission “{subject}” for changes. "
                "Revise it and resubmit it from your dashboard."
            ),
        }[view.status]
    )
    if view.review_comment:
        lines += [
            "",
            "The reviewer wrote:",
            "",
            *("  " + x for x in view.review_comment.splitlines()),
        ]
    if view.kind == "activity" and view.status == "approved" and view.credits is not None:
        lines += ["", f"Credits recorded: {view.credits} ({view.category})."]
    if awarded:
        names = _achievement_names(uow, (a.achievement_slug for a in awarded))
        lines += ["", "You were awarded:"]
        lines += [
            f"  • {names.get(a.achievement_slug, a.achievement_slug)}: {a.formats['page']}"
            for a in awarded
        ]
    return Message(to=to, subject=headline, body="\n".join(lines) + "\n")


# ---------------------------------------------------------------- read models


# Views never need the uploaded bytes; leave them in the database.
_VIEW_OPTIONS = (
    joinedload(Submission.learner),
    joinedload(Submission.achievement),
    joinedload(Submission.upload).defer(Upload.content),
)


def queue(
    ctx: Context, status: str = "submitted", limit: int = 100, *, target: timedelta = REVIEW_TARGET
) -> list[QueueEntry]:
    """Submissions in ``status``, longest waiting first, each with its age and due time."""
    if status not in STATUSES:
        raise ValidationError("status", f"one of {', '.join(STATUSES)}")
    if not 1 <= limit <= MAX_QUEUE:
        raise ValidationError("limit", f"between 1 and {MAX_QUEUE}")
    now = ctx.now()
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(Submission)
            .options(*_VIEW_OPTIONS)
            .where(Submission.status == status)
            .order_by(Submission.updated_at, Submission.id)
            .limit(limit)
        )
        out = []
        for row in rows:
            since = row.updated_at
            due = since + target
            out.append(QueueEntry(_view(row), since, now - since, due, now > due))
        return out


def submissions_of(ctx: Context, learner_public_id: str) -> list[SubmissionView]:
    """A learner's submissions, newest first."""
    with ctx.uow() as uow:
        learner = _learner(uow, learner_public_id)
        rows = uow.session.scalars(
            select(Submission)
            .options(*_VIEW_OPTIONS)
            .where(Submission.learner_id == learner.id)
            .order_by(Submission.created_at.desc(), Submission.id.desc())
        )
        return [_view(row) for row in rows]


def get_submission(ctx: Context, public_id: str) -> SubmissionView:
    with ctx.uow() as uow:
        row = uow.session.scalar(
            select(Submission).options(*_VIEW_OPTIONS).where(Submission.public_id == public_id)
        )
        if row is None:
            raise NotFound(f"no submission {public_id!r}")
        return _view(row)
