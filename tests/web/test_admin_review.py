"""The reviewers' queue: evidence, activities and catalogue proposals; decisions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from badger.domain.achievements import AchievementSpec
from badger.services import awards, catalog, review
from badger.store.models import Learner, Submission
from tests.conftest import PASSWORD


@pytest.fixture
def reviewer(client, create_account):
    create_account("rev@example.org", roles=["reviewer"], name="Rita Reviewer")
    client.login("rev@example.org", PASSWORD)
    return client


@pytest.fixture
def learner(create_account):
    return create_account("lea@example.org", name="Lea <b>Learner</b>")


def _ethics(ctx):
    return catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics",
            description="d",
            criteria_narrative="c",
            rules={"evidence_approved": "ethics"},
        ),
    )


def _proposal(ctx, learner_view, **overrides):
    """A catalogue proposal as the learner pages create it (kind ``proposal``)."""
    values = {
        "title": "Podcast Ethics Masterclass",
        "url": "https://academy.example.org/podcast",
        "narrative": "Description:\nA masterclass\n\nWhat I learned:\nDisclosure rules",
        "credits": Decimal("1.5"),
        "category": "ethics",
    }
    values.update(overrides)
    with ctx.uow() as uow:
        from sqlalchemy import select

        owner = uow.session.scalar(
            select(Learner).where(Learner.public_id == learner_view.learner_public_id)
        )
        row = Submission(
            learner=owner,
            kind="proposal",
            status="submitted",
            created_at=ctx.now(),
            updated_at=ctx.now(),
            **values,
        )
        uow.session.add(row)
        uow.session.flush()
        return row.public_id


def test_queue_lists_evidence_with_links_and_files(reviewer, initialized, learner):
    _ethics(initialized)
    sent = review.submit_evidence(
        initialized,
        learner_public_id=learner.learner_public_id,
        achievement="ethics",
        url="https://example.org/certificate",
        narrative="<script>alert(1)</script>",
        file=(b"%PDF-1.4\n%%EOF\n", "cert.pdf", "application/pdf"),
        actor="test",
    )
    queue = reviewer.get("/admin/review").get_data(as_text=True)
    assert f"/admin/review/{sent.public_id}" in queue
    assert "Lea &lt;b&gt;Learner&lt;/b&gt;" in queue
    page = reviewer.get(f"/admin/review/{sent.public_id}").get_data(as_text=True)
    assert 'href="https://example.org/certificate"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    file_url = f"/admin/review/files/{sent.upload.public_id}"
    assert file_url in page
    download = reviewer.get(file_url)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.data.startswith(b"%PDF")


def test_learners_cannot_download_evidence_files(client, initialized, learner):
    _ethics(initialized)
    sent = review.submit_evidence(
        initialized,
        learner_public_id=learner.learner_public_id,
        achievement="ethics",
        file=(b"%PDF-1.4\n%%EOF\n", "cert.pdf", "application/pdf"),
        actor="test",
    )
    client.login("lea@example.org", PASSWORD)
    assert client.get(f"/admin/review/files/{sent.upload.public_id}").status_code == 403


def test_approving_evidence_awards_the_badge(reviewer, initialized, learner):
    _ethics(initialized)
    sent = review.submit_evidence(
        initialized,
        learner_public_id=learner.learner_public_id,
        achievement="ethics",
        url="https://example.org/c",
        actor="test",
    )
    done = reviewer.submit(f"/admin/review/{sent.public_id}", {"decision": "approve"})
    assert done.status_code == 302
    assert "1 badge(s) awarded" in reviewer.get("/admin/review").get_data(as_text=True)
    held = awards.list_awards(initialized, learner_public_id=learner.learner_public_id)
    assert [a.achievement for a in held] == ["ethics"]


def test_rejecting_needs_a_comment_shown_on_the_comment_field(reviewer, initialized, learner):
    _ethics(initialized)
    sent = review.submit_evidence(
        initialized,
        learner_public_id=learner.learner_public_id,
        achievement="ethics",
        narrative="n",
        actor="test",
    )
    refused = reviewer.submit(f"/admin/review/{sent.public_id}", {"decision": "reject"})
    assert refused.status_code == 400
    assert 'id="comment-error" aria-live="polite"><p>' in refused.get_data(as_text=True)
    assert review.get_submission(initialized, sent.public_id).status == "submitted"
    no_choice = reviewer.submit(f"/admin/review/{sent.public_id}", {})
    assert no_choice.status_code == 400
    assert "choose a decision" in no_choice.get_data(as_text=True)


def test_returning_for_revision_keeps_the_comment(reviewer, initialized, learner):
    _ethics(initialized)
    sent = review.submit_evidence(
        initialized,
        learner_public_id=learner.learner_public_id,
        achievement="ethics",
        narrative="n",
        actor="test",
    )
    reviewer.submit(
        f"/admin/review/{sent.public_id}", {"decision": "return", "comment": "Add the date"}
    )
    after = review.get_submission(initialized, sent.public_id)
    assert (after.status, after.review_comment) == ("returned", "Add the date")
    returned = reviewer.get("/admin/review?status=returned").get_data(as_text=True)
    assert sent.public_id in returned


def test_queue_rejects_an_unknown_status_with_400(reviewer, initialized):
    assert reviewer.get("/admin/review?status=nonsense").status_code == 400


def test_approved_proposal_joins_the_catalogue(reviewer, initialized, learner):
    proposal = _proposal(initialized, learner)
    page = reviewer.get(f"/admin/review/{proposal}").get_data(as_text=True)
    assert 'value="podcast-ethics-masterclass"' in page  # suggested slug
    assert "Proposal for the catalogue" in page
    done = reviewer.submit(
        f"/admin/review/{proposal}", {"decision": "approve", "provider": "Example Academy"}
    )
    assert done.status_code == 302
    assert "is now in the catalogue" in reviewer.get("/admin/review").get_data(as_text=True)
    created = catalog.get_definition(initialized, "podcast-ethics-masterclass").data
    assert created["name"] == "Podcast Ethics Masterclass"
    assert created["credits_available"] == 1.5
    assert created["credit_category"] == "ethics"
    assert created["provider"] == "Example Academy"
    assert created["criteria_url"] == "https://academy.example.org/podcast"
    assert "Disclosure rules" in created["criteria_narrative"]


def test_reviewer_can_correct_a_proposals_slug_and_credits(reviewer, initialized, learner):
    proposal = _proposal(initialized, learner, credits=None, category=None)
    reviewer.submit(
        f"/admin/review/{proposal}",
        {"decision": "approve", "slug": "podcasts", "credits": "2", "category": "media"},
    )
    created = catalog.get_definition(initialized, "podcasts").data
    assert (created["credits_available"], created["credit_category"]) == (2.0, "media")


def test_proposal_with_a_taken_slug_is_refused_and_nothing_changes(reviewer, initialized, learner):
    _ethics(initialized)
    proposal = _proposal(initialized, learner)
    refused = reviewer.submit(
        f"/admin/review/{proposal}", {"decision": "approve", "slug": "ethics"}
    )
    assert refused.status_code == 409
    assert "already exists" in refused.get_data(as_text=True)
    assert review.get_submission(initialized, proposal).status == "submitted"
    bad_credits = reviewer.submit(
        f"/admin/review/{proposal}", {"decision": "approve", "credits": "many"}
    )
    assert bad_credits.status_code == 400
    assert 'id="credits-error" aria-live="polite"><p>' in bad_credits.get_data(as_text=True)


def test_rejected_proposal_adds_nothing(reviewer, initialized, learner):
    proposal = _proposal(initialized, learner)
    reviewer.submit(f"/admin/review/{proposal}", {"decision": "reject", "comment": "Not CE"})
    assert catalog.list_achievements(initialized, public_only=False) == []


def test_review_service_adds_an_approved_proposal_to_the_catalogue(initialized, learner):
    from badger.services import accounts

    proposal = _proposal(initialized, learner)
    admin = accounts.find_account(initialized, "admin@institute.example.org")
    result = review.review(
        initialized,
        proposal,
        decision="approve",
        comment=None,
        reviewer=admin,
        entry=review.CatalogueEntry(provider="Academy"),
    )
    assert result.achievement is not None
    assert result.achievement.slug == "podcast-ethics-masterclass"
    assert result.achievement.provider == "Academy"
    assert result.achievement.credits_available == Decimal("1.5")


def test_proposal_slug_is_made_from_the_title():
    assert review.proposal_slug("Ethics 2.0: Disclosure!") == "ethics-2-0-disclosure"
    assert review.proposal_slug("!!!") == "proposal"
    assert len(review.proposal_slug("x" * 200)) == 80


def test_the_overview_counts_what_waits_for_review(client, initialized, learner):
    _ethics(initialized)
    review.submit_evidence(
        initialized,
        learner_public_id=learner.learner_public_id,
        achievement="ethics",
        narrative="n",
        actor="test",
    )
    client.login("admin@institute.example.org", PASSWORD)
    html = client.get("/admin/").get_data(as_text=True)
    assert "1 submission(s) waiting for review" in html
    assert "0 extension / hiatus request(s) waiting" in html


def test_the_queue_can_show_only_catalogue_proposals(reviewer, initialized, learner):
    _ethics(initialized)
    evidence = review.submit_evidence(
        initialized,
        learner_public_id=learner.learner_public_id,
        achievement="ethics",
        narrative="n",
        actor="test",
    )
    proposal = _proposal(initialized, learner)
    only = reviewer.get("/admin/review?kind=proposal").get_data(as_text=True)
    assert proposal in only
    assert evidence.public_id not in only
    both = reviewer.get("/admin/review").get_data(as_text=True)
    assert proposal in both
    assert evidence.public_id in both
    assert reviewer.get("/admin/review?kind=gossip").status_code == 400
