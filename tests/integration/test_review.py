"""Learners submit evidence and activities; reviewers approve, reject or return them."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from badger.services import accounts, catalog, review, uploads
from badger.store.models import Achievement, AuditEntry, Award, Submission, Upload
from tests.fakes import race

LEARNER = "lena@example.org"
REVIEWER = "rita@institute.example.org"


def define(ctx, slug, rules=None):
    catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=AchievementSpec(
            slug=slug,
            name=slug.replace("-", " ").title(),
            description=f"{slug} unit",
            criteria_narrative="See the rules.",
            credits_available=Decimal("1"),
            credit_category="general",
            rules=rules,
        ),
    )


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def learner(create_account):
    return create_account(LEARNER, name="Lena Learner")


@pytest.fixture
def reviewer(create_account):
    return create_account(REVIEWER, roles=["reviewer"], name="Rita Reviewer")


def evidence(ctx, learner, achievement="portfolio", **kw):
    kw.setdefault("url", "https://portfolio.example.org/lena")
    return review.submit_evidence(
        ctx,
        learner_public_id=learner.learner_public_id,
        achievement=achievement,
        actor=f"account:{learner.public_id}",
        **kw,
    )


def activity(ctx, learner, credits="1", category="ethics", **kw):
    kw.setdefault("title", "Ethics in practice workshop")
    return review.submit_activity(
        ctx,
        learner_public_id=learner.learner_public_id,
        credits=Decimal(credits),
        category=category,
        actor=f"account:{learner.public_id}",
        **kw,
    )


def decide(ctx, sub, reviewer, decision="approve", comment=None):
    return review.review(ctx, sub.public_id, decision=decision, comment=comment, reviewer=reviewer)


def award_count(ctx):
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(Award.id)))


# ---------------------------------------------------------------- approving


def test_approving_evidence_awards_the_achievement_whose_rule_reads_it(
    initialized, learner, reviewer, clock, mailer
):
    define(initialized, "portfolio", {"evidence_approved": "portfolio"})
    sub = evidence(initialized, learner)
    assert sub.status == "submitted"
    assert sub.achievement_slug == "portfolio"
    assert mailer.sent == []

    result = decide(initialized, sub, reviewer)

    assert [a.achievement_slug for a in result.awarded] == ["portfolio"]
    assert result.submission.status == "approved"
    assert result.submission.reviewer == f"account:{reviewer.public_id}"
    assert result.submission.reviewed_at == clock.now
    (message,) = mailer.sent
    assert message.to == LEARNER
    assert message.subject == "Your submission was approved: Portfolio"
    assert "You were awarded:" in message.body
    assert result.awarded[0].formats["page"] in message.body


def test_approving_evidence_without_a_rule_that_reads_it_awards_nothing(
    initialized, learner, reviewer, mailer
):
    define(initialized, "portfolio")
    result = decide(initialized, evidence(initialized, learner), reviewer)
    assert result.awarded == ()
    assert award_count(initialized) == 0
    assert "awarded" not in mailer.sent[0].body


def test_approved_activities_add_up_to_a_credit_rule_in_their_category(
    initialized, learner, reviewer, mailer
):
    define(initialized, "ethics-hours", {"activity_credits": 2, "category": "ethics"})
    first = decide(initialized, activity(initialized, learner, "1.5"), reviewer)
    assert first.awarded == ()
    other = decide(initialized, activity(initialized, learner, "3", "general"), reviewer)
    assert other.awarded == ()
    last = decide(initialized, activity(initialized, learner, "0.5"), reviewer)
    assert [a.achievement_slug for a in last.awarded] == ["ethics-hours"]
    assert "Credits recorded: 0.50 (ethics)." in mailer.sent[-1].body
    with initialized.uow() as uow:
        basis = uow.session.scalar(select(Award.basis))
    assert "2.00 of 2 credits in ethics" in basis["outcome"]["reason"]


# ---------------------------------------------------------------- rejecting and returning


@pytest.mark.parametrize("decision", ["reject", "return"])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_reject_and_return_need_a_comment(initialized, learner, reviewer, decision, comment):
    define(initialized, "portfolio")
    sub = evidence(initialized, learner)
    with pytest.raises(ValidationError) as info:
        decide(initialized, sub, reviewer, decision, comment)
    assert info.value.field == "comment"
    assert review.get_submission(initialized, sub.public_id).status == "submitted"


def test_an_unknown_decision_is_refused(initialized, learner, reviewer):
    define(initialized, "portfolio")
    with pytest.raises(ValidationError, match="decision"):
        decide(initialized, evidence(initialized, learner), reviewer, "maybe", "hm")


def test_a_rejection_tells_the_learner_why(initialized, learner, reviewer, mailer):
    define(initialized, "portfolio", {"evidence_approved": "portfolio"})
    result = decide(
        initialized, evidence(initialized, learner), reviewer, "reject", "Not your own work."
    )
    assert result.awarded == ()
    assert result.submission.review_comment == "Not your own work."
    (message,) = mailer.sent
    assert message.subject == "Your submission was not approved: Portfolio"
    assert "Not your own work." in message.body
    assert award_count(initialized) == 0


def test_a_returned_submission_can_be_revised_and_resubmitted(
    initialized, learner, reviewer, clock, mailer
):
    define(initialized, "portfolio", {"evidence_approved": "portfolio"})
    sub = evidence(initialized, learner, narrative="My portfolio")
    returned = decide(initialized, sub, reviewer, "return", "Please add the reflection.")
    assert returned.submission.status == "returned"
    assert mailer.sent[0].subject == "Your submission needs changes: Portfolio"
    assert "Please add the reflection." in mailer.sent[0].body
    assert review.queue(initialized) == []

    clock.now += timedelta(days=2)
    again = review.resubmit(
        initialized,
        sub.public_id,
        learner.learner_public_id,
        url="",
        narrative="My portfolio, with the reflection.",
        actor=f"account:{learner.public_id}",
    )
    assert again.status == "submitted"
    assert again.url is None
    assert again.narrative == "My portfolio, with the reflection."
    # The last decision stays visible to the next reviewer.
    assert again.review_comment == "Please add the reflection."
    (entry,) = review.queue(initialized)
    assert entry.waiting_since == clock.now

    result = decide(initialized, again, reviewer)
    assert [a.achievement_slug for a in result.awarded] == ["portfolio"]


def test_only_a_returned_submission_can_be_resubmitted(initialized, learner, reviewer):
    define(initialized, "portfolio")
    sub = evidence(initialized, learner)
    with pytest.raises(Conflict, match="only a returned submission"):
        review.resubmit(
            initialized, sub.public_id, learner.learner_public_id, narrative="x", actor="t"
        )


def test_nobody_else_can_resubmit_a_learners_submission(
    initialized, learner, reviewer, create_account
):
    define(initialized, "portfolio")
    sub = evidence(initialized, learner)
    decide(initialized, sub, reviewer, "return", "More, please.")
    other = create_account("otto@example.org")
    with pytest.raises(PermissionDenied):
        review.resubmit(
            initialized, sub.public_id, other.learner_public_id, narrative="mine now", actor="t"
        )


def test_a_resubmission_still_needs_some_evidence(initialized, learner, reviewer):
    define(initialized, "portfolio")
    sub = evidence(initialized, learner)
    decide(initialized, sub, reviewer, "return", "Wrong link.")
    with pytest.raises(ValidationError, match="evidence"):
        review.resubmit(initialized, sub.public_id, learner.learner_public_id, url="", actor="t")


# ---------------------------------------------------------------- who may decide what


def test_reviewers_cannot_review_their_own_submission(initialized, reviewer):
    define(initialized, "portfolio")
    own = evidence(initialized, reviewer)
    with pytest.raises(PermissionDenied, match="your own"):
        decide(initialized, own, reviewer)
    assert review.get_submission(initialized, own.public_id).status == "submitted"


def test_learners_cannot_decide_submissions(initialized, learner, create_account):
    define(initialized, "portfolio")
    peer = create_account("peer@example.org")
    with pytest.raises(PermissionDenied, match="only reviewers"):
        decide(initialized, evidence(initialized, learner), peer)


def test_a_decided_submission_cannot_be_decided_again(initialized, learner, reviewer, mailer):
    define(initialized, "portfolio", {"evidence_approved": "portfolio"})
    sub = evidence(initialized, learner)
    decide(initialized, sub, reviewer)
    with pytest.raises(Conflict, match="already approved"):
        decide(initialized, sub, reviewer, "reject", "Changed my mind.")
    with pytest.raises(Conflict):
        decide(initialized, sub, reviewer)
    assert len(mailer.sent) == 1
    assert award_count(initialized) == 1


def test_deciding_an_unknown_submission_is_not_found(initialized, reviewer):
    with pytest.raises(NotFound):
        review.review(initialized, "nope", decision="approve", comment=None, reviewer=reviewer)


# ---------------------------------------------------------------- mail after commit


def test_a_failed_approval_sends_no_mail_and_changes_nothing(
    initialized, learner, reviewer, mailer, monkeypatch
):
    define(initialized, "portfolio", {"evidence_approved": "portfolio"})
    sub = evidence(initialized, learner)

    def broken(*args, **kwargs):
        raise RuntimeError("signing failed")

    monkeypatch.setattr(review.awarding, "evaluate", broken)
    with pytest.raises(RuntimeError):
        decide(initialized, sub, reviewer)
    assert mailer.sent == []
    assert review.get_submission(initialized, sub.public_id).status == "submitted"
    with initialized.uow() as uow:
        actions = set(uow.session.scalars(select(AuditEntry.action)))
    assert "submission.approve" not in actions


# ---------------------------------------------------------------- submitting


def test_evidence_needs_a_url_a_narrative_or_a_file(initialized, learner):
    define(initialized, "portfolio")
    with pytest.raises(ValidationError) as info:
        evidence(initialized, learner, url=None, narrative="  ")
    assert info.value.field == "evidence"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://files.example.org/x",
        "data:text/html,<script>alert(1)</script>",
        "https://",
        "https://example.org/a b",
        "https://example.org/" + "a" * 1000,
    ],
)
def test_evidence_urls_must_be_plain_http_or_https(initialized, learner, url):
    define(initialized, "portfolio")
    with pytest.raises(ValidationError) as info:
        evidence(initialized, learner, url=url)
    assert info.value.field == "url"


def test_narratives_are_capped_at_ten_thousand_characters(initialized, learner):
    define(initialized, "portfolio")
    assert evidence(initialized, learner, url=None, narrative="x" * 10_000).narrative
    define(initialized, "capstone")
    with pytest.raises(ValidationError) as info:
        evidence(initialized, learner, "capstone", url=None, narrative="x" * 10_001)
    assert info.value.field == "narrative"


def test_evidence_for_an_unknown_achievement_is_not_found(initialized, learner):
    with pytest.raises(NotFound, match="no achievement"):
        evidence(initialized, learner, "no-such-badge")


def test_evidence_can_name_the_achievement_by_its_public_id(initialized, learner):
    define(initialized, "portfolio")
    with initialized.uow() as uow:
        public_id = uow.session.scalar(select(Achievement.public_id))
    assert evidence(initialized, learner, public_id).achievement_slug == "portfolio"


def test_a_learner_with_evidence_waiting_cannot_submit_more_for_that_achievement(
    initialized, learner, reviewer
):
    define(initialized, "portfolio")
    define(initialized, "capstone")
    first = evidence(initialized, learner)
    with pytest.raises(Conflict, match="already waiting"):
        evidence(initialized, learner, narrative="again")
    evidence(initialized, learner, "capstone")
    decide(initialized, first, reviewer, "reject", "No.")
    assert evidence(initialized, learner, narrative="Second try").status == "submitted"


def test_evidence_returned_for_changes_is_resubmitted_not_submitted_again(
    initialized, learner, reviewer
):
    define(initialized, "portfolio")
    first = evidence(initialized, learner)
    decide(initialized, first, reviewer, "return", "Add the reflection.")
    with pytest.raises(Conflict, match=f"resubmit submission {first.public_id}"):
        evidence(initialized, learner, narrative="A fresh start")
    again = review.resubmit(
        initialized, first.public_id, learner.learner_public_id, narrative="Done.", actor="t"
    )
    assert again.status == "submitted"


def test_a_duplicate_the_check_misses_is_refused_by_the_database_as_the_same_conflict(
    initialized, learner, monkeypatch
):
    """What a concurrent submission sees: the check passes, the unique index refuses."""
    define(initialized, "portfolio")
    first = evidence(initialized, learner)
    real = review._open_evidence
    calls = []

    def blind_first_time(uow, who, target):
        calls.append(target.slug)
        return None if len(calls) == 1 else real(uow, who, target)

    monkeypatch.setattr(review, "_open_evidence", blind_first_time)
    with pytest.raises(
        Conflict, match=f"already waiting for review \\(submission {first.public_id}"
    ):
        evidence(initialized, learner, narrative="again")
    assert calls == ["portfolio", "portfolio"]
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count(Submission.id))) == 1


@pytest.mark.slow
def test_simultaneous_evidence_for_one_achievement_opens_one_submission(committed_context):
    """6 threads, each its own transaction, submitting for the same learner and badge."""
    ctx = committed_context
    define(ctx, "portfolio")
    lena = accounts.create_account(
        ctx, email=LEARNER, password="correct horse battery", display_name="Lena"
    )
    opened, raised = race(6, lambda n: evidence(ctx, lena, narrative=f"attempt {n}"))
    conflicts = [str(exc) for exc in raised if isinstance(exc, Conflict)]
    errors = [exc for exc in raised if not isinstance(exc, Conflict)]
    assert errors == []
    assert len(opened) == 1
    assert (
        conflicts
        == [
            f"evidence for Portfolio is already waiting for review "
            f"(submission {opened[0].public_id})"
        ]
        * 5
    )
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count(Submission.id))) == 1


def test_an_activity_is_stored_with_its_credits_and_category(initialized, learner, clock):
    sub = activity(
        initialized,
        learner,
        "2.25",
        title="  Regional ethics conference  ",
        learning_minutes=135,
        activity_date=date(2026, 2, 1),
        narrative="Two sessions on consent.",
    )
    assert sub.kind == "activity"
    assert sub.title == "Regional ethics conference"
    assert sub.credits == Decimal("2.25")
    assert sub.category == "ethics"
    assert sub.learning_minutes == 135
    assert sub.activity_date.date() == date(2026, 2, 1)
    assert sub.achievement_slug is None
    assert sub.subject == "Regional ethics conference"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"credits": Decimal(0)}, "credits"),
        ({"credits": Decimal("-1")}, "credits"),
        ({"credits": Decimal("100.01")}, "credits"),
        ({"credits": Decimal("1.234")}, "credits"),
        ({"credits": Decimal("NaN")}, "credits"),
        ({"credits": 1.5}, "credits"),
        ({"credits": "abc"}, "credits"),
        ({"category": "Ethics & Law"}, "category"),
        ({"category": ""}, "category"),
        ({"title": "  "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"learning_minutes": 0}, "learning_minutes"),
        ({"learning_minutes": True}, "learning_minutes"),
        ({"activity_date": date(2099, 1, 1)}, "activity_date"),
        ({"url": "file:///etc/passwd"}, "url"),
    ],
)
def test_bad_activities_name_the_field(initialized, learner, changes, field):
    kw = {
        "learner_public_id": learner.learner_public_id,
        "title": "Workshop",
        "credits": Decimal("1"),
        "category": "ethics",
        "actor": "t",
    } | changes
    with pytest.raises(ValidationError) as info:
        review.submit_activity(initialized, **kw)
    assert info.value.field == field


def test_an_activity_may_be_worth_up_to_one_hundred_credits(initialized, learner):
    assert activity(initialized, learner, "100").credits == Decimal("100")
    assert activity(initialized, learner, "0.01").credits == Decimal("0.01")


def test_submitting_for_an_unknown_learner_is_not_found(initialized):
    define(initialized, "portfolio")
    with pytest.raises(NotFound):
        review.submit_evidence(
            initialized,
            learner_public_id="nobody",
            achievement="portfolio",
            url=None,
            narrative="x",
            actor="t",
        )


# ---------------------------------------------------------------- files


def test_an_attached_file_is_checked_and_stored_once(initialized, learner):
    define(initialized, "portfolio")
    image = png()
    first = evidence(initialized, learner, url=None, file=(image, "../scan.png", "image/png"))
    second = activity(initialized, learner, file=(image, "certificate.png", None))
    assert first.upload is not None
    assert first.upload.filename == "scan.png"
    assert first.upload.media_type == "image/png"
    assert second.upload == first.upload
    stored = uploads.load_upload(initialized, first.upload.public_id)
    assert stored.content == image
    assert stored.size == len(image)
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count(Upload.id))) == 1


def test_a_disguised_file_is_refused_and_nothing_is_submitted(initialized, learner):
    define(initialized, "portfolio")
    page = b"<html><body><script>steal()</script></body></html>"
    with pytest.raises(ValidationError) as info:
        evidence(initialized, learner, file=(page, "photo.png", "image/png"))
    assert info.value.field == "file"
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count(Submission.id))) == 0
        assert uow.session.scalar(select(func.count(Upload.id))) == 0


def test_a_file_over_the_configured_limit_is_refused(initialized, learner):
    limit = initialized.settings.max_upload_bytes
    with pytest.raises(ValidationError, match="the limit is"):
        activity(initialized, learner, file=(b"a" * (limit + 1), "notes.txt", "text/plain"))


def test_an_unknown_upload_is_not_found(initialized):
    with pytest.raises(NotFound):
        uploads.load_upload(initialized, "no-such-upload")


# ---------------------------------------------------------------- read models and audit


def test_the_queue_lists_the_longest_waiting_first_with_its_age(
    initialized, learner, create_account, clock
):
    define(initialized, "portfolio")
    other = create_account("otto@example.org")
    start = clock.now
    oldest = evidence(initialized, learner)
    clock.now += timedelta(days=3)
    newer = evidence(initialized, other)
    clock.now += timedelta(days=3)

    entries = review.queue(initialized)

    assert [e.submission.public_id for e in entries] == [oldest.public_id, newer.public_id]
    assert entries[0].age == timedelta(days=6)
    assert entries[0].due_at == start + review.REVIEW_TARGET
    assert entries[0].overdue is True
    assert entries[1].age == timedelta(days=3)
    assert entries[1].overdue is False
    assert [e.submission.public_id for e in review.queue(initialized, limit=1)] == [
        oldest.public_id
    ]
    assert review.queue(initialized, "approved") == []


@pytest.mark.parametrize(("status", "limit"), [("pending", 10), ("submitted", 0)])
def test_the_queue_refuses_unknown_statuses_and_silly_limits(initialized, status, limit):
    with pytest.raises(ValidationError):
        review.queue(initialized, status, limit)


def test_a_learner_sees_their_own_submissions_newest_first(
    initialized, learner, create_account, clock
):
    define(initialized, "portfolio")
    first = evidence(initialized, learner)
    clock.now += timedelta(hours=1)
    second = activity(initialized, learner)
    evidence(initialized, create_account("otto@example.org"))
    mine = review.submissions_of(initialized, learner.learner_public_id)
    assert [s.public_id for s in mine] == [second.public_id, first.public_id]
    with pytest.raises(NotFound):
        review.submissions_of(initialized, "nobody")
    with pytest.raises(NotFound):
        review.get_submission(initialized, "nothing")


def test_every_step_is_audited(initialized, learner, reviewer):
    define(initialized, "portfolio")
    sub = evidence(initialized, learner)
    decide(initialized, sub, reviewer, "return", "More detail.")
    review.resubmit(
        initialized, sub.public_id, learner.learner_public_id, narrative="Detail.", actor="t"
    )
    decide(initialized, sub, reviewer)
    with initialized.uow() as uow:
        entries = uow.session.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.subject_id == sub.public_id)
            .order_by(AuditEntry.id)
        ).all()
    assert [a for a, _ in entries] == [
        "submission.submit",
        "submission.return",
        "submission.resubmit",
        "submission.approve",
    ]
    assert entries[1][1] == f"account:{reviewer.public_id}"
