"""The admin reinstate form takes an optional reason, kept with the badge and audited."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from badger.domain.achievements import AchievementSpec
from badger.services import catalog, issue, status
from badger.store.models import AuditEntry, Award
from tests.conftest import ADMIN_EMAIL


@pytest.fixture
def suspended(client, initialized):
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
    award = issue.issue_award(
        initialized, issue.IssueRequest("ethics", "grace@example.org"), actor="t"
    )
    status.suspend(initialized, award.public_id, reason="under audit", actor="t")
    client.login(ADMIN_EMAIL)
    return award.public_id


def state(ctx, public_id):
    with ctx.uow() as uow:
        award = uow.session.scalar(select(Award).where(Award.public_id == public_id))
        details = uow.session.scalar(
            select(AuditEntry.details).where(
                AuditEntry.subject_id == public_id, AuditEntry.action == "award.unsuspend"
            )
        )
        return award.status, award.status_reason, details


def test_the_reinstate_page_offers_an_optional_reason(client, suspended):
    html = client.get(f"/admin/awards/{suspended}/unsuspend").get_data(as_text=True)
    assert 'name="reason"' in html
    assert "Optional: why the suspension is lifted" in html


def test_reinstating_with_a_reason_records_it(client, initialized, suspended):
    url = f"/admin/awards/{suspended}/unsuspend"
    response = client.submit(url, {"understood": "y", "reason": "Audit <found> nothing"})
    assert response.status_code == 302
    award_status, reason, details = state(initialized, suspended)
    assert (award_status, reason) == ("active", "reinstated: Audit <found> nothing")
    assert details["reason"] == "Audit <found> nothing"
    assert details["suspended_for"] == "under audit"


def test_reinstating_without_a_reason_clears_the_suspension_reason(client, initialized, suspended):
    url = f"/admin/awards/{suspended}/unsuspend"
    assert client.submit(url, {"understood": "y"}).status_code == 302
    award_status, reason, details = state(initialized, suspended)
    assert (award_status, reason) == ("active", None)
    assert details["reason"] is None
