"""Certification cycles: the gaps closed after the first cut.

A learner renews their own satisfied cycle; cycles in grace get reminders;
lifting a suspension records its reason; a renewal sends one mail; a claim
merge folds a placeholder's duplicate open cycle into the account's.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from badger.domain.errors import Conflict, NotFound
from badger.services import catalog, cycles
from badger.store.models import AuditEntry, Award, CertificationCycle
from tests.integration.test_cycles import (
    ADA,
    CATALOGUE,
    START,
    earn,
    earn_full,
    policy_doc,
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
