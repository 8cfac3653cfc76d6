"""Claim links: awards to unproved addresses are claimed once, before they expire."""

import hashlib
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from badger.services import accounts, awarding, awards, catalog, claims, cycles, review
from badger.services.issue import IssueRequest, add_award
from badger.store.models import AuditEntry, Award, ClaimToken, Learner, LearnerIdentifier
from tests.conftest import PASSWORD

LINK = re.compile(r"https://badges\.example\.org/claim/([A-Za-z0-9_-]+)")


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


def issue(ctx, recipient, slug="ethics"):
    """Issue: add_award offers the claim in the same transaction."""
    with ctx.uow() as uow:
        return add_award(ctx, uow, IssueRequest(achievement=slug, recipient=recipient), actor="t")


def token_from(message):
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def learner_of(ctx, value):
    with ctx.uow() as uow:
        ident = uow.session.scalar(
            select(LearnerIdentifier).where(LearnerIdentifier.value == value)
        )
        return ident.learner.public_id, ident.verified_at


def unverified_account(ctx, email):
    return accounts.create_account(
        ctx, email=email, password=PASSWORD, display_name="Una Verified", email_verified=False
    )


@pytest.fixture
def badge(initialized):
    define(initialized, "ethics")
    return initialized


# ---------------------------------------------------------------- offering


def test_an_award_to_an_address_without_an_account_sends_a_claim_link(badge, mailer, clock):
    issued = issue(badge, "newcomer@example.org")
    (message,) = mailer.sent
    assert message.to == "newcomer@example.org"
    assert message.subject == "Claim your badge: Ethics"
    assert "Test Institute" in message.body
    token = token_from(message)
    assert len(token) >= 43
    with badge.uow() as uow:
        row = uow.session.scalar(select(ClaimToken))
        # Only the digest is stored; the link itself is nowhere in the database.
        assert row.digest == hashlib.sha256(token.encode()).hexdigest()
        assert row.digest != token
        assert row.expires_at == clock.now + timedelta(days=30)
        assert row.award.public_id == issued.public_id
        assert row.claimed_at is None


def test_a_verified_address_with_an_account_gets_a_plain_you_earned_mail(
    badge, create_account, mailer
):
    create_account("lena@example.org", name="Lena Learner")
    issued = issue(badge, "lena@example.org")
    (message,) = mailer.sent
    assert message.to == "lena@example.org"
    assert message.subject == "You earned a badge: Ethics"
    assert f"https://badges.example.org/credentials/{issued.public_id}" in message.body
    assert "/claim/" not in message.body
    with badge.uow() as uow:
        assert uow.session.scalar(select(func.count(ClaimToken.id))) == 0


def test_an_unverified_account_address_gets_a_claim_link(badge, mailer):
    unverified_account(badge, "una@example.org")
    issue(badge, "una@example.org")
    assert mailer.sent[0].subject == "Claim your badge: Ethics"


def test_a_did_recipient_gets_no_mail_and_no_link(badge, mailer):
    issue(badge, "did:example:lena")
    assert mailer.sent == []
    with badge.uow() as uow:
        assert uow.session.scalar(select(func.count(ClaimToken.id))) == 0


def test_the_offer_can_take_the_award_row_itself(badge, mailer):
    with badge.uow() as uow:
        issued = add_award(
            badge, uow, IssueRequest("ethics", "row@example.org"), actor="t", notify=False
        )
        row = uow.session.scalar(select(Award).where(Award.public_id == issued.public_id))
        claims.offer_claim(badge, uow, row, now=badge.now())
    assert token_from(mailer.sent[0])


def test_offering_for_an_unknown_award_is_not_found(badge):
    with pytest.raises(NotFound), badge.uow() as uow:
        claims.offer_claim(badge, uow, "no-such-award", now=badge.now())


def test_a_failed_issuing_transaction_sends_nothing_and_keeps_no_link(badge, mailer):
    with pytest.raises(RuntimeError), badge.uow() as uow:
        add_award(badge, uow, IssueRequest("ethics", "ghost@example.org"), actor="t")
        raise RuntimeError("the issuing flow failed after the offer")
    assert mailer.sent == []
    with badge.uow() as uow:
        assert uow.session.scalar(select(func.count(ClaimToken.id))) == 0
        assert uow.session.scalar(select(func.count(Award.id))) == 0


# ---------------------------------------------------------------- claiming


def test_claiming_moves_the_placeholders_awards_and_events_onto_the_account(
    badge, create_account, mailer
):
    define(badge, "webinar", {"event": "webinar.attended"})
    first = issue(badge, "old@example.org")
    awarding.record_event(
        badge,
        {"recipient": "old@example.org", "kind": "webinar.attended"},
        idempotency_key="w1",
        source="lms",
        actor="t",
    )
    placeholder, _ = learner_of(badge, "old@example.org")
    account = create_account("new@example.org", name="Nina New")

    result = claims.claim(badge, token_from(mailer.sent[0]), account)

    assert result.award_public_id == first.public_id
    assert result.achievement_name == "Ethics"
    assert result.identifier == "old@example.org"
    assert result.learner_public_id == account.learner_public_id
    assert result.merged_learner_public_id == placeholder
    assert len(result.moved_awards) == 2
    assert result.kept_apart == ()
    owner, verified_at = learner_of(badge, "old@example.org")
    assert owner == account.learner_public_id
    assert verified_at == badge.now()
    # Both addresses now name the account's learner; the credential is untouched.
    held = {a.achievement for a in awards.list_awards(badge, recipient="new@example.org")}
    assert held == {"ethics", "webinar"}
    with badge.uow() as uow:
        assert uow.session.scalar(select(Learner).where(Learner.public_id == placeholder)) is None
        assert uow.session.scalar(select(func.count(Learner.id))) == 2  # admin + Nina


def test_a_merge_moves_the_placeholders_certification_cycle_and_its_requests(
    badge, create_account, mailer
):
    catalog.create_achievement(
        badge,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="csms",
            name="Certified Strategist",
            description="The certification.",
            criteria_narrative="Renew every cycle.",
            achievement_type="Certification",
        ),
    )
    policy = json.loads((Path(__file__).parents[2] / "examples" / "csms-policy.json").read_text())
    cycles.import_policy(badge, policy, actor="t")
    issue(badge, "old@example.org")
    placeholder, _ = learner_of(badge, "old@example.org")
    cycle = cycles.start_cycle(
        badge, recipient="old@example.org", policy_key="csms", start=badge.now(), actor="t"
    )
    request = cycles.request_change(
        badge,
        learner_public_id=placeholder,
        cycle_public_id=cycle.public_id,
        kind="extension",
        reason="A hard year",
        days=60,
    )
    account = create_account("new@example.org")
    claims.claim(badge, token_from(mailer.sent[0]), account)
    (mine,) = cycles.learner_cycles(badge, account.learner_public_id)
    assert mine.cycle.public_id == cycle.public_id
    assert [r.public_id for r in cycles.requests_of(badge, account.learner_public_id)] == [
        request.public_id
    ]
    with badge.uow() as uow:
        assert uow.session.scalar(select(Learner).where(Learner.public_id == placeholder)) is None


def test_a_merge_moves_submissions_and_keeps_their_place_in_the_queue(
    badge, create_account, mailer, clock
):
    issue(badge, "old@example.org")
    placeholder, _ = learner_of(badge, "old@example.org")
    waiting = review.submit_activity(
        badge,
        learner_public_id=placeholder,
        title="Workshop",
        credits=Decimal("1"),
        category="ethics",
        actor="t",
    )
    account = create_account("new@example.org")
    clock.now += timedelta(days=2)
    claims.claim(badge, token_from(mailer.sent[0]), account)
    (mine,) = review.submissions_of(badge, account.learner_public_id)
    assert mine.public_id == waiting.public_id
    (entry,) = review.queue(badge)
    assert entry.age == timedelta(days=2)


def test_a_merge_completes_a_stack_the_two_learners_held_between_them(
    badge, create_account, mailer
):
    define(badge, "safety")
    define(badge, "stack", {"all_of": [{"earned": "ethics"}, {"earned": "safety"}]})
    account = create_account("nina@example.org")
    issue(badge, "nina@example.org", "safety")
    issue(badge, "nina.old@example.org", "ethics")
    result = claims.claim(badge, token_from(mailer.sent[-1]), account)
    assert [a.achievement_slug for a in result.awarded] == ["stack"]


def test_an_award_the_account_already_holds_is_kept_apart(badge, create_account, mailer):
    account = create_account("nina@example.org")
    issue(badge, "nina@example.org")
    duplicate = issue(badge, "nina.old@example.org")
    result = claims.claim(badge, token_from(mailer.sent[-1]), account)
    assert result.kept_apart == (duplicate.public_id,)
    assert result.moved_awards == ()
    owner, _ = learner_of(badge, "nina.old@example.org")
    assert owner == account.learner_public_id
    with badge.uow() as uow:
        # The placeholder stays, holding only the duplicate, for staff to resolve.
        row = uow.session.scalar(select(Award).where(Award.public_id == duplicate.public_id))
        assert row.learner.public_id == result.merged_learner_public_id


def test_claiming_with_the_unverified_account_itself_verifies_the_address(badge, mailer):
    account = unverified_account(badge, "una@example.org")
    issue(badge, "una@example.org")
    result = claims.claim(badge, token_from(mailer.sent[0]), account)
    assert result.merged_learner_public_id is None
    assert result.learner_public_id == account.learner_public_id
    _, verified_at = learner_of(badge, "una@example.org")
    assert verified_at == badge.now()


def test_an_address_of_another_account_cannot_be_claimed(badge, create_account, mailer):
    unverified_account(badge, "una@example.org")
    issue(badge, "una@example.org")
    thief = create_account("thief@example.org")
    with pytest.raises(Conflict, match="another account"):
        claims.claim(badge, token_from(mailer.sent[0]), thief)
    with badge.uow() as uow:
        assert uow.session.scalar(select(ClaimToken.claimed_at)) is None


def test_a_claim_link_works_once(badge, create_account, mailer):
    issue(badge, "old@example.org")
    account = create_account("new@example.org")
    token = token_from(mailer.sent[0])
    claims.claim(badge, token, account)
    with pytest.raises(Conflict, match="already claimed"):
        claims.claim(badge, token, account)


def test_one_claim_answers_every_link_sent_to_that_address(badge, create_account, mailer):
    define(badge, "safety")
    issue(badge, "old@example.org")
    issue(badge, "old@example.org", "safety")
    placeholder, _ = learner_of(badge, "old@example.org")
    assert len(claims.pending_claims(badge, placeholder)) == 2
    account = create_account("new@example.org")
    result = claims.claim(badge, token_from(mailer.sent[0]), account)
    assert len(result.moved_awards) == 2
    assert claims.pending_claims(badge, account.learner_public_id) == []
    with pytest.raises(Conflict):
        claims.claim(badge, token_from(mailer.sent[1]), account)


def test_an_expired_claim_link_is_refused(badge, create_account, mailer, clock):
    issue(badge, "old@example.org")
    account = create_account("new@example.org")
    clock.now += timedelta(days=31)
    with pytest.raises(ValidationError) as info:
        claims.claim(badge, token_from(mailer.sent[0]), account)
    assert info.value.field == "token"
    assert "expired" in info.value.reason


def test_a_link_still_works_on_its_last_day(badge, create_account, mailer, clock):
    issue(badge, "old@example.org")
    account = create_account("new@example.org")
    clock.now += timedelta(days=30) - timedelta(seconds=1)
    assert claims.claim(badge, token_from(mailer.sent[0]), account).moved_awards


@pytest.mark.parametrize("token", ["", "not-a-real-token", "x" * 500, "A" * 43])
def test_an_unknown_claim_link_is_not_found(badge, create_account, token):
    account = create_account("new@example.org")
    with pytest.raises(NotFound, match="this claim link is not valid"):
        claims.claim(badge, token, account)


def test_a_disabled_account_cannot_claim(badge, create_account, mailer):
    issue(badge, "old@example.org")
    account = create_account("new@example.org")
    disabled = accounts.AccountView(
        account.public_id,
        account.email,
        account.display_name,
        account.learner_public_id,
        account.roles,
        is_active=False,
    )
    with pytest.raises(PermissionDenied):
        claims.claim(badge, token_from(mailer.sent[0]), disabled)


def test_a_claim_is_audited(badge, create_account, mailer):
    issued = issue(badge, "old@example.org")
    account = create_account("new@example.org")
    claims.claim(badge, token_from(mailer.sent[0]), account)
    with badge.uow() as uow:
        entries = uow.session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.details)
            .where(AuditEntry.subject_id == issued.public_id)
            .order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == ["award.offer_claim", "award.issue", "award.claim"]
    claim_entry = entries[-1]
    assert claim_entry.actor == f"account:{account.public_id}"
    assert claim_entry.details["identifier"] == "email:old@example.org"


# ---------------------------------------------------------------- pending


def test_pending_claims_lists_unclaimed_links_until_they_expire(badge, mailer, clock):
    issue(badge, "old@example.org")
    placeholder, _ = learner_of(badge, "old@example.org")
    (pending,) = claims.pending_claims(badge, placeholder)
    assert pending.achievement_name == "Ethics"
    assert pending.issuer_name == "Test Institute"
    assert pending.identifier == "old@example.org"
    assert pending.expires_at == clock.now + timedelta(days=30)
    clock.now += timedelta(days=31)
    assert claims.pending_claims(badge, placeholder) == []
