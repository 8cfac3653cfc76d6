"""A manual or bulk award has the consequences of an automatic one: stacks and auto-renewal."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from badger.services import bulk, catalog, cycles
from badger.services.issue import IssueRequest, issue_award
from badger.store.models import Achievement, Award
from tests.integration.test_cycles import ADA, CATALOGUE, FULL, START, earn, policy_doc, spec


@pytest.fixture
def ctx(initialized):
    catalog.create_achievements(initialized, issuer_slug="default", specs=CATALOGUE, actor="test")
    return initialized


def held(ctx):
    """The slugs the (only) learner holds."""
    with ctx.uow() as uow:
        return sorted(
            uow.session.scalars(
                select(Achievement.slug)
                .join(Award, Award.achievement_id == Achievement.id)
                .where(Award.status == "active")
            )
        )


@pytest.fixture
def stack(ctx):
    catalog.create_achievements(
        ctx,
        issuer_slug="default",
        specs=[
            spec("part-a", "1", "analytics"),
            spec("part-b", "1", "analytics"),
            spec(
                "stacked",
                "0",
                "analytics",
                rules={"all_of": [{"earned": "part-a"}, {"earned": "part-b"}]},
            ),
        ],
        actor="test",
    )


def test_manual_awards_complete_a_stack_at_once(ctx, stack):
    issue_award(ctx, IssueRequest("part-a", ADA), actor="staff")
    assert held(ctx) == ["part-a"]
    issue_award(ctx, IssueRequest("part-b", ADA), actor="staff")
    assert held(ctx) == ["part-a", "part-b", "stacked"]
    with ctx.uow() as uow:
        basis = uow.session.scalar(
            select(Award.basis).join(Award.achievement).where(Achievement.slug == "stacked")
        )
    assert basis["rule"] == "automatic"


def test_a_bulk_run_completes_a_stack_too(ctx, stack):
    content = f"recipient,achievement\n{ADA},part-a\n{ADA},part-b\n".encode()
    parsed = bulk.parse_csv(ctx, content)
    assert not parsed.problems
    job = bulk.create_job(ctx, filename="rows.csv", content=content, parsed=parsed, actor="t")
    assert bulk.run_job(ctx, job.public_id).issued == 2
    assert held(ctx) == ["part-a", "part-b", "stacked"]


def test_a_manual_award_that_satisfies_an_auto_renewing_cycle_renews_it(ctx, create_account):
    create_account(ADA, name="Ada Strategist")
    cycles.import_policy(ctx, policy_doc(key="csms-auto", auto_renew=True), actor="test")
    auto = cycles.start_cycle(
        ctx, recipient=ADA, policy_key="csms-auto", certification="csms", start=START, actor="t"
    )
    for n, slug in enumerate(s for s in FULL if s != "content-b"):
        earn(ctx, slug, START + timedelta(days=10 + n))
    for n in range(6):
        earn(ctx, "webinar", START + timedelta(days=40 + 20 * n), cycle_key=f"session-{n}")
    assert cycles.get_cycle(ctx, auto.public_id).status == "active"
    earn(ctx, "content-b", START + timedelta(days=300))  # the last credit, by hand
    assert cycles.get_cycle(ctx, auto.public_id).status == "renewed"
