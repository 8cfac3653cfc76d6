"""Learners propose activities for the pre-approved catalogue.

A proposal is a :class:`~badger.store.models.Submission` of kind
``proposal``: it goes into the same review queue, and a reviewer who approves
it adds it to the catalogue (:func:`badger.services.review.review`).  The
learner's description and "what I learned" are kept together in the
narrative, labelled, so the reviewer sees both.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from sqlalchemy import select

from badger.domain.achievements import validate_slug
from badger.domain.errors import NotFound, ValidationError
from badger.services import audit, review
from badger.services.context import Context
from badger.services.review import SubmissionView
from badger.store.models import Learner, Submission

MAX_TEXT = 5000


def _text(value: str | None, field: str, limit: int, *, required: bool) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(field, "is required")
    if len(text) > limit:
        raise ValidationError(field, f"at most {limit:,} characters")
    return text or None


def _url(value: str | None) -> str:
    text = (value or "").strip()
    parts = urlsplit(text)
    if (
        not text
        or len(text) > review.MAX_URL
        or parts.scheme.lower() not in {"http", "https"}
        or not parts.hostname
        or any(ch.isspace() or ord(ch) < 32 for ch in text)
    ):
        raise ValidationError("url", "must be an http(s) URL where the activity is offered")
    return text


def _credits(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise ValidationError("credits", "must be a decimal number such as 1.5")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError("credits", f"{value!r} is not a number") from None
    if not amount.is_finite() or not Decimal(0) < amount <= review.MAX_ACTIVITY_CREDITS:
        raise ValidationError(
            "credits", f"must be more than 0 and at most {review.MAX_ACTIVITY_CREDITS}"
        )
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("credits", "at most two decimal places")
    return amount


def submit_proposal(
    ctx: Context,
    *,
    learner_public_id: str,
    title: str,
    url: str,
    description: str,
    learned: str,
    credits: object = None,
    category: str | None = None,
    actor: str,
) -> SubmissionView:
    """Propose an activity (link, description, what was learned, suggested credit/category)."""
    clean_title = _text(title, "title", review.MAX_TITLE, required=True)
    clean_url = _url(url)
    about = _text(description, "description", MAX_TEXT, required=True)
    lesson = _text(learned, "learned", MAX_TEXT, required=True)
    amount = _credits(credits)
    slug = (category or "").strip() or None
    if slug is not None:
        validate_slug(slug, "category")
    narrative = f"Description:\n{about}\n\nWhat I learned:\n{lesson}"
    now = ctx.now()
    with ctx.uow() as uow:
        learner = uow.session.scalar(select(Learner).where(Learner.public_id == learner_public_id))
        if learner is None:
            raise NotFound(f"no learner {learner_public_id!r}")
        row = Submission(
            learner=learner,
            kind="proposal",
            title=clean_title,
            url=clean_url,
            narrative=narrative,
            credits=amount,
            category=slug,
            status="submitted",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        public_id = row.public_id
        audit.record(
            uow,
            actor=actor,
            action="submission.submit",
            subject_type="submission",
            subject_id=public_id,
            now=now,
            kind="proposal",
            learner=learner.public_id,
            title=clean_title,
            credits=str(amount) if amount is not None else None,
            category=slug,
        )
    return review.get_submission(ctx, public_id)
