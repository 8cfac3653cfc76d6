"""Certification cycles: the gaps closed after the first cut.

A learner renews their own satisfied cycle; cycles in grace get reminders;
lifting a suspension records its reason; a renewal sends one mail; a claim
merge folds a placeholder's duplicate open cycle into the account's.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from badger.domain.errors import Conflict, NotFound
from badger.services import accounts, awarding, catalog, claims, cycles, identifiers
from badger.services.issue import IssueRequest, issue_award
from badger.store.models import AuditEntry, Award, CertificationCycle, CycleReminder, Learner
from tests.fakes import statements_sent
from tests.integration.test_cycles import (
    ADA,
    CATALOGUE,
    FULL,
    START,
    earn,
    earn_full,
    policy_doc,
    spec,
)


@pytest.fixture
def ctx(initialized):
    catalog.create_achievements(initialized, issuer_slug="default", specs=CATALOGUE, actor="test")
    return initialized


@pytest.fixture
def ada(ctx, create_account):
    return create_account(ADA, name="Ada Strategist").learner_public_id


@pytest.fixture
def cycle(ctx, ada):
    cycles.import_policy(ctx, policy_doc(), actor="test")
    return cycles.start_cycle(ctx, recipient=ADA, policy_key="csms", start=START, actor="test")


def audit_of(ctx, subject_id):
    with ctx.uow() as uow:
        return [
            (e.actor, e.action, e.details)
            for e in uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_id == subject_id)
                .order_by(AuditEntry.id)
            )
        ]


def overview_of(ctx, learner, cycle_id):
    return next(o for o in cycles.learner_cycles(ctx, learner) if o.cycle.public_id == cycle_id)


def award_count(ctx):
    with ctx.uow() as uow:
        return len(uow.session.scalars(select(Award.id)).all())


# ---------------------------------------------------------------- a learner renews


def test_a_learner_renews_their_own_satisfied_cycle_as_the_actor(ctx, ada, cycle):
    earn_full(ctx)
    result = cycles.renew_own(
        ctx, learner_public_id=ada, cycle_public_id=cycle.public_id, actor=f"learner:{ada}"
    )
    assert result.cycle.status == "renewed"
    assert result.next_cycle.previous_cycle_id == cycle.public_id
    entries = audit_of(ctx, cycle.public_id)
    assert ("cycle.renew", f"learner:{ada}") in {(action, actor) for actor, action, _ in entries}
    renewal = audit_of(ctx, result.award_public_id)
    assert [actor for actor, action, _ in renewal if action == "renewal.issue"] == [
        f"learner:{ada}"
    ]


def test_a_learner_cannot_renew_an_unsatisfied_cycle_and_nothing_is_issued(ctx, ada, cycle):
    earn(ctx, "library-1", START + timedelta(days=3))
    before = award_count(ctx)
    with pytest.raises(Conflict, match=r"not satisfied yet: 4.00 of 30 credits counted"):
        cycles.renew_own(
            ctx, learner_public_id=ada, cycle_public_id=cycle.public_id, actor=f"learner:{ada}"
        )
    assert award_count(ctx) == before
    assert cycles.get_cycle(ctx, cycle.public_id).status == "active"


def test_a_learner_cannot_renew_someone_elses_cycle(ctx, cycle, create_account):
    earn_full(ctx)
    grace = create_account("grace@example.org").learner_public_id
    before = award_count(ctx)
    with pytest.raises(NotFound, match="no certification cycle"):
        cycles.renew_own(
            ctx, learner_public_id=grace, cycle_public_id=cycle.public_id, actor="learner:grace"
        )
    assert award_count(ctx) == before
    with ctx.uow() as uow:
        row = uow.session.scalar(
            select(CertificationCycle).where(CertificationCycle.public_id == cycle.public_id)
        )
        assert row.status == "active"


def test_a_learner_cannot_renew_a_cycle_on_hiatus(ctx, ada, cycle):
    earn_full(ctx)
    cycles.start_hiatus(ctx, cycle.public_id, reason="parental leave", actor="staff")
    with pytest.raises(Conflict, match="on hiatus"):
        cycles.renew_own(
            ctx, learner_public_id=ada, cycle_public_id=cycle.public_id, actor=f"learner:{ada}"
        )


# ---------------------------------------------------------------- reminders in grace

DEADLINE = datetime(2028, 1, 1, tzinfo=UTC)


def reminder_kinds(ctx):
    with ctx.uow() as uow:
        return sorted(uow.session.scalars(select(CycleReminder.kind)).all())


def test_a_cycle_in_grace_is_reminded_at_the_start_and_7_days_before_the_end_once_each(
    ctx, cycle, mailer
):
    earn(ctx, "library-1", START + timedelta(days=3))
    subjects = []
    kinds = []
    for days in (1, 1, 2, 22, 23, 23, 24, 29):
        before = len(mailer.sent)
        report = cycles.tick(ctx, now=DEADLINE + timedelta(days=days))
        subjects += [m.subject for m in mailer.sent[before:]]
        kinds += [r.kind for r in report.reminders]
    # The move into grace is its first reminder (recorded, not sent twice).
    assert subjects == [
        "Certified Strategist: grace period",
        "Grace period ends in 7 days: Certified Strategist",
    ]
    assert kinds == ["grace-7d:2028-01-31"]
    assert reminder_kinds(ctx) == ["grace-30d:2028-01-31", "grace-7d:2028-01-31"]
    last = mailer.sent[-1]
    assert last.to == ADA
    assert "your grace period ends on 31 January 2028 (7 days from now)" in last.body
    assert "Counted so far: 4.00 of 30 credits." in last.body
    assert "26.00 credits to go" in last.body
    assert "Your progress: https://badges.example.org/account" in last.body
    entries = [a for _, a, d in audit_of(ctx, cycle.public_id) if a == "cycle.reminder"]
    assert len(entries) == 2
    lapsed = cycles.tick(ctx, now=DEADLINE + timedelta(days=30))
    assert [c.to_status for c in lapsed.changes] == ["lapsed"]
    assert lapsed.reminders == ()


def test_a_cycle_put_in_grace_outside_the_tick_gets_the_start_reminder_next_tick(
    ctx, cycle, clock, mailer
):
    # Migrating to a version with shorter cycles moves the deadline into the past.
    cycles.import_policy(ctx, policy_doc(version=2, cycle_months=24), actor="test")
    clock.now = datetime(2027, 1, 10, tzinfo=UTC)
    view = cycles.migrate_cycle(ctx, cycle.public_id, version=2, reason="v2", actor="staff")
    assert (view.status, view.grace_ends_at) == ("grace", datetime(2027, 1, 31, tzinfo=UTC))
    before = len(mailer.sent)
    report = cycles.tick(ctx, now=datetime(2027, 1, 11, tzinfo=UTC))
    assert report.changes == ()
    assert [(r.kind, r.days_left) for r in report.reminders] == [("grace-30d:2027-01-31", 20)]
    assert [m.subject for m in mailer.sent[before:]] == [
        "Grace period ends in 20 days: Certified Strategist"
    ]
    assert cycles.tick(ctx, now=datetime(2027, 1, 12, tzinfo=UTC)).reminders == ()


def test_a_satisfied_cycle_in_grace_is_told_to_renew_before_it_lapses(ctx, cycle, mailer):
    earn_full(ctx)
    cycles.tick(ctx, now=DEADLINE + timedelta(days=1))
    assert "Every requirement is met: renew now" in mailer.sent[-1].body
    report = cycles.tick(ctx, now=DEADLINE + timedelta(days=24))
    assert [r.kind for r in report.reminders] == ["grace-7d:2028-01-31"]
    assert "Every requirement is met: renew now" in mailer.sent[-1].body


def test_a_satisfied_active_cycle_still_gets_no_deadline_reminder(ctx, cycle):
    earn_full(ctx)
    assert cycles.tick(ctx, now=DEADLINE - timedelta(days=30)).reminders == ()


def test_a_cycle_on_hiatus_in_grace_gets_no_grace_reminder(ctx, cycle, clock):
    cycles.tick(ctx, now=DEADLINE + timedelta(days=1))
    clock.now = DEADLINE + timedelta(days=2)
    cycles.start_hiatus(ctx, cycle.public_id, reason="illness", actor="staff")
    report = cycles.tick(ctx, now=DEADLINE + timedelta(days=25))
    assert (report.examined, report.reminders) == (0, ())


# ---------------------------------------------------------------- one mail per renewal

CLAIM_LINK = re.compile(r"https://badges\.example\.org/claim/([A-Za-z0-9_-]+)")


def earn_full_for(ctx, recipient, *, start=START):
    """:func:`earn_full` for any recipient (issued in order, as the seed numbers need)."""
    for n, slug in enumerate(FULL):
        issue_award(
            ctx, IssueRequest(slug, recipient, issued_on=start + timedelta(days=10 + n)), actor="t"
        )
    for n in range(6):
        issue_award(
            ctx,
            IssueRequest(
                "webinar",
                recipient,
                issued_on=start + timedelta(days=40 + 20 * n),
                cycle_key=f"session-{n}",
            ),
            actor="t",
        )


def test_a_renewal_sends_exactly_one_mail_with_the_credential_page(ctx, cycle, mailer):
    earn_full(ctx)
    before = len(mailer.sent)
    result = cycles.renew(ctx, cycle.public_id, actor="staff")
    (mail,) = mailer.sent[before:]
    assert mail.to == ADA
    assert mail.subject == "Certification renewed: Certified Strategist"
    page = f"https://badges.example.org/credentials/{result.award_public_id}"
    assert f"download it and share it here: {page}" in mail.body
    assert f"Your comprehensive learner record: {result.clr_url}" in mail.body
    assert "renewed until 01 January 2031" in mail.body
    assert "claim" not in mail.body.lower()


def test_a_renewal_to_an_unproved_address_carries_the_claim_link_in_its_one_mail(
    ctx, mailer, create_account
):
    cycles.import_policy(ctx, policy_doc(), actor="test")
    earn_full_for(ctx, "sam@example.org")  # no account: a placeholder learner
    cycle = cycles.start_cycle(
        ctx, recipient="sam@example.org", policy_key="csms", start=START, actor="test"
    )
    before = len(mailer.sent)
    result = cycles.renew(ctx, cycle.public_id, actor="staff")
    (mail,) = mailer.sent[before:]
    assert mail.to == "sam@example.org"
    assert mail.subject == "Certification renewed: Certified Strategist"
    assert f"/credentials/{result.award_public_id}" in mail.body
    token = CLAIM_LINK.search(mail.body).group(1)
    assert "The link works once and expires on" in mail.body
    account = create_account("sam.new@example.org", name="Sam")
    claimed = claims.claim(ctx, token, account)
    assert claimed.award_public_id == result.award_public_id
    assert result.award_public_id in claimed.moved_awards


def test_an_auto_renewal_on_award_sends_the_badge_mail_and_one_renewal_mail(ctx, ada, mailer):
    cycles.import_policy(ctx, policy_doc(key="csms-auto", auto_renew=True), actor="test")
    auto = cycles.start_cycle(
        ctx, recipient=ADA, policy_key="csms-auto", certification="csms", start=START, actor="t"
    )
    for n, slug in enumerate(s for s in FULL if s != "content-b"):
        earn(ctx, slug, START + timedelta(days=10 + n))
    for n in range(6):
        earn(ctx, "webinar", START + timedelta(days=40 + 20 * n), cycle_key=f"session-{n}")
    catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=spec("content-live", "2", "content-strategy", rules={"event": "course.done"}),
    )
    before = len(mailer.sent)
    awarding.record_event(
        ctx,
        {"recipient": ADA, "kind": "course.done", "data": {}},
        idempotency_key="live-1",
        source="lms",
        actor="engine",
    )
    assert cycles.get_cycle(ctx, auto.public_id).status == "renewed"
    assert [m.subject for m in mailer.sent[before:]] == [
        "You earned a badge: Content Live",
        "Certification renewed: Certified Strategist",
    ]


def test_an_award_reads_the_open_cycles_with_the_learners_badges_and_events(ctx, ada, cycle):
    # The query of a known learner's badges and events returns the open cycle
    # ids too: the renewal check after the award asks for them no more.
    catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=spec("content-live", "2", "content-strategy", rules={"event": "course.done"}),
    )
    earn(ctx, "ethics-disclosure", START + timedelta(days=10))  # known to the database
    with statements_sent(ctx.engine) as statements:
        result = awarding.record_event(
            ctx,
            {"recipient": ADA, "kind": "course.done", "data": {}},
            idempotency_key="live-2",
            source="lms",
            actor="engine",
        )
    assert [a.achievement_slug for a in result.awarded] == ["content-live"]
    assert len([s for s in statements if "UNION ALL" in s and "certification_cycle" in s]) == 1
    assert not [s for s in statements if s.startswith("SELECT certification_cycle.id FROM")]
    # The cycle was checked (it is not satisfied, so it stays active).
    assert [s for s in statements if s.startswith("SELECT certification_cycle.id, ")]
    assert cycles.get_cycle(ctx, cycle.public_id).status == "active"


# ---------------------------------------------------------------- claim merges

OLD = "ada.old@example.org"


def claim_token(mailer, to):
    for message in mailer.sent:
        match = CLAIM_LINK.search(message.body)
        if message.to == to and match:
            return match.group(1)
    raise AssertionError(f"no claim link to {to}")


def account_of(ctx, email):
    return accounts.find_account(ctx, email)


@pytest.fixture
def both(ctx, cycle, mailer):
    """Ada's account has an open csms cycle; a placeholder (another address of hers) has one too."""
    earn_full_for(ctx, OLD)
    duplicate = cycles.start_cycle(ctx, recipient=OLD, policy_key="csms", start=START, actor="t")
    return cycle, duplicate


def test_a_claimed_placeholders_duplicate_cycle_is_closed_into_the_accounts(
    ctx, ada, both, mailer, clock
):
    mine, duplicate = both
    placeholder = duplicate.learner_public_id
    request = cycles.request_change(
        ctx,
        learner_public_id=placeholder,
        cycle_public_id=duplicate.public_id,
        kind="extension",
        reason="A hard year",
        days=60,
    )
    assert not overview_of(ctx, ada, mine.public_id).ledger.satisfied

    result = claims.claim(ctx, claim_token(mailer, OLD), account_of(ctx, ADA))

    assert result.merged_cycles == (duplicate.public_id,)
    # The placeholder's badges count in the account's open cycle.
    ledger = overview_of(ctx, ada, mine.public_id).ledger
    assert (ledger.counted_total, ledger.satisfied) == (30, True)
    closed = cycles.get_cycle(ctx, duplicate.public_id)
    assert closed.learner_public_id == ada
    assert closed.status == "lapsed"
    assert closed.status_reason == (
        f"merged into cycle {mine.public_id}: {OLD} was claimed by an account with that cycle open"
    )
    assert closed.superseded_at == clock.now
    assert not closed.is_open
    # Its pending request waits on the account's cycle now.
    (moved,) = cycles.list_requests(ctx)
    assert (moved.public_id, moved.cycle_public_id, moved.learner_public_id) == (
        request.public_id,
        mine.public_id,
        ada,
    )
    ((actor, _, details),) = [
        e for e in audit_of(ctx, duplicate.public_id) if e[1] == "cycle.merge"
    ]
    assert actor.startswith("account:")
    assert details["into"] == mine.public_id
    assert details["moved_requests"] == [request.public_id]
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Learner).where(Learner.public_id == placeholder)) is None
    # The closed cycle stays closed: the daily job skips it, an extension is refused.
    assert cycles.tick(ctx, now=DEADLINE + timedelta(days=40)).examined == 1
    assert cycles.get_cycle(ctx, duplicate.public_id).status == "lapsed"
    with pytest.raises(Conflict, match="extend the open cycle"):
        cycles.grant_extension(ctx, duplicate.public_id, days=30, reason="appeal", actor="staff")


def test_a_request_the_accounts_cycle_already_has_waiting_is_rejected_saying_why(
    ctx, ada, both, mailer
):
    mine, duplicate = both
    for learner, cycle_id in (
        (ada, mine.public_id),
        (duplicate.learner_public_id, duplicate.public_id),
    ):
        cycles.request_change(
            ctx,
            learner_public_id=learner,
            cycle_public_id=cycle_id,
            kind="extension",
            reason="A hard year",
            days=30,
        )
    claims.claim(ctx, claim_token(mailer, OLD), account_of(ctx, ADA))
    pending = cycles.list_requests(ctx)
    assert [r.cycle_public_id for r in pending] == [mine.public_id]
    (rejected,) = cycles.list_requests(ctx, status="rejected")
    assert rejected.cycle_public_id == duplicate.public_id
    assert rejected.comment == (
        f"the cycle was merged into {mine.public_id}, which has its own extension request waiting"
    )


def test_a_merged_cycles_hiatus_ends_and_its_suspension_is_lifted(ctx, ada, cycle, mailer):
    certificate = issue_award(
        ctx, IssueRequest("csms", OLD, issued_on=START - timedelta(days=1)), actor="t"
    ).public_id
    duplicate = cycles.start_cycle(ctx, recipient=OLD, policy_key="csms", start=START, actor="t")
    cycles.start_hiatus(ctx, duplicate.public_id, reason="leave", actor="staff")
    claims.claim(ctx, claim_token(mailer, OLD), account_of(ctx, ADA))
    with ctx.uow() as uow:
        award = uow.session.scalar(select(Award).where(Award.public_id == certificate))
        assert (award.status, award.status_reason) == (
            "active",
            "reinstated: the hiatus of a merged cycle ended",
        )
        assert award.learner.public_id == ada
    (period,) = cycles.get_cycle(ctx, duplicate.public_id).hiatus
    assert period.ended_at == ctx.now()
    assert period.ended_by.startswith("account:")


def test_moved_badges_that_complete_an_auto_renewing_cycle_renew_it_on_claim(ctx, ada, mailer):
    cycles.import_policy(ctx, policy_doc(key="csms-auto", auto_renew=True), actor="test")
    mine = cycles.start_cycle(
        ctx, recipient=ADA, policy_key="csms-auto", certification="csms", start=START, actor="t"
    )
    earn_full_for(ctx, OLD)
    assert cycles.get_cycle(ctx, mine.public_id).status == "active"
    claims.claim(ctx, claim_token(mailer, OLD), account_of(ctx, ADA))
    assert cycles.get_cycle(ctx, mine.public_id).status == "renewed"


def test_adding_the_address_to_the_account_merges_the_duplicate_cycle_the_same_way(
    ctx, ada, both, mailer
):
    mine, duplicate = both
    account = account_of(ctx, ADA)
    identifiers.request_email(ctx, account.public_id, OLD)
    link = re.search(r"/email/verify/([^\s]+)", mailer.sent[-1].body).group(1)
    identifiers.verify_email(ctx, link, account)
    closed = cycles.get_cycle(ctx, duplicate.public_id)
    assert (closed.learner_public_id, closed.status) == (ada, "lapsed")
    assert closed.status_reason.startswith(f"merged into cycle {mine.public_id}")
    assert overview_of(ctx, ada, mine.public_id).ledger.satisfied
