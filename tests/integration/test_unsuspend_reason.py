"""Lifting a suspension says why: the reason is audited and replaces the suspension's."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import ValidationError
from badger.services import catalog, cycles, status
from badger.services.issue import IssueRequest, issue_award
from badger.store.models import AuditEntry, Award
from tests.integration.test_cycles import ADA, CATALOGUE, START, earn, earn_full, policy_doc


@pytest.fixture
def award(initialized):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics",
            description="d",
            criteria_narrative="c",
            credits_available=Decimal(2),
            credit_category="ethics",
        ),
    )
    return issue_award(initialized, IssueRequest("ethics", "grace@example.org"), actor="t")


def row(ctx, public_id):
    with ctx.uow() as uow:
        found = uow.session.scalar(select(Award).where(Award.public_id == public_id))
        return found.status, found.status_reason


def unsuspend_entries(ctx, public_id):
    with ctx.uow() as uow:
        return [
            (e.actor, e.details)
            for e in uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_id == public_id, AuditEntry.action == "award.unsuspend")
                .order_by(AuditEntry.id)
            )
        ]


def test_a_reason_for_lifting_a_suspension_is_audited_and_kept(initialized, award):
    status.suspend(initialized, award.public_id, reason="under audit", actor="staff")
    change = status.unsuspend(
        initialized, award.public_id, actor="staff", reason="  audit found nothing  "
    )
    assert (change.status, change.reason) == ("active", "audit found nothing")
    assert row(initialized, award.public_id) == ("active", "reinstated: audit found nothing")
    ((actor, details),) = unsuspend_entries(initialized, award.public_id)
    assert actor == "staff"
    assert details["reason"] == "audit found nothing"
    assert details["suspended_for"] == "under audit"


def test_without_a_reason_the_suspension_reason_is_cleared(initialized, award):
    status.suspend(initialized, award.public_id, reason="under audit", actor="staff")
    change = status.unsuspend(initialized, award.public_id, actor="staff")
    assert change.reason is None
    assert row(initialized, award.public_id) == ("active", None)
    ((_, details),) = unsuspend_entries(initialized, award.public_id)
    assert details["reason"] is None
    assert details["suspended_for"] == "under audit"


def test_a_too_long_reason_is_refused_naming_the_field_and_changes_nothing(initialized, award):
    status.suspend(initialized, award.public_id, reason="under audit", actor="staff")
    with pytest.raises(ValidationError) as info:
        status.unsuspend(initialized, award.public_id, actor="staff", reason="x" * 501)
    assert info.value.field == "reason"
    assert row(initialized, award.public_id) == ("suspended", "under audit")
    assert unsuspend_entries(initialized, award.public_id) == []


@pytest.fixture
def cycle_ctx(initialized, create_account):
    catalog.create_achievements(initialized, issuer_slug="default", specs=CATALOGUE, actor="t")
    create_account(ADA, name="Ada Strategist")
    cycles.import_policy(initialized, policy_doc(), actor="t")
    return initialized


def test_ending_a_hiatus_says_why_the_certificate_is_reinstated(cycle_ctx, clock):
    ctx = cycle_ctx
    certificate = earn(ctx, "csms", START - timedelta(days=1))
    cycle = cycles.start_cycle(ctx, recipient=ADA, policy_key="csms", start=START, actor="t")
    cycles.start_hiatus(ctx, cycle.public_id, reason="leave", actor="staff")
    assert row(ctx, certificate)[0] == "suspended"
    clock.now += timedelta(days=30)
    cycles.end_hiatus(ctx, cycle.public_id, actor="staff")
    assert row(ctx, certificate) == ("active", "reinstated: hiatus ended")
    ((_, details),) = unsuspend_entries(ctx, certificate)
    assert details["suspended_for"] == "certification inactive (hiatus)"


def test_a_renewal_review_reinstatement_carries_the_comment(cycle_ctx):
    ctx = cycle_ctx
    cycle = cycles.start_cycle(ctx, recipient=ADA, policy_key="csms", start=START, actor="t")
    ids = earn_full(ctx)
    renewed = cycles.renew(ctx, cycle.public_id, actor="staff")
    status.revoke(ctx, ids["content-b"], reason="plagiarised", actor="staff")
    assert row(ctx, renewed.award_public_id)[0] == "suspended"
    cycles.resolve_review(
        ctx, cycle.public_id, decision="reinstate", actor="staff", comment="credit confirmed"
    )
    assert row(ctx, renewed.award_public_id) == (
        "active",
        "reinstated: renewal review: credit confirmed",
    )
