"""Manual award, bulk CSV upload with its job page, award search, revoke/suspend/reinstate."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import update

from badger.domain.achievements import AchievementSpec
from badger.services import awarding, awards, bulk, catalog, issue
from badger.store.models import Award
from tests.conftest import ADMIN_EMAIL


class RecordingQueue:
    """Jobs are run by the test, not in a thread sharing the test's connection."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def enqueue_bulk(self, job_public_id: str) -> str:
        self.started.append(job_public_id)
        return "recorded"


@pytest.fixture
def queue(initialized) -> RecordingQueue:
    initialized.jobs = RecordingQueue()
    return initialized.jobs


@pytest.fixture
def admin(client, initialized):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics <Unit>",
            description="d",
            criteria_narrative="c",
            credits_available=Decimal(2),
            credit_category="ethics",
        ),
    )
    client.login(ADMIN_EMAIL)
    return client


def _upload(admin, content: bytes, **form):
    return admin.submit(
        "/admin/bulk",
        {"file": (BytesIO(content), "rows.csv"), **form},
        content_type="multipart/form-data",
    )


# ---------------------------------------------------------------- manual award


def test_manual_award_issues_with_evidence_and_narrative(admin, initialized):
    done = admin.submit(
        "/admin/awards/new",
        {
            "achievement": "ethics",
            "recipient": "grace@example.org",
            "recipient_name": "Grace",
            "evidence": "https://example.org/e1\nhttps://example.org/e2",
            "narrative": "Completed on site",
        },
    )
    assert done.status_code == 302
    [line] = awards.list_awards(initialized, recipient="grace@example.org")
    assert (line.achievement, line.basis) == ("ethics", "manual")
    credential = issue.get_document(initialized, line.public_id, "ob3-ldp").content
    assert b"https://example.org/e2" in credential
    assert b"Completed on site" in credential
    listing = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert "Awarded to grace@example.org" in listing


def test_manual_award_with_a_bad_recipient_names_the_field(admin, initialized):
    bad = admin.submit("/admin/awards/new", {"achievement": "ethics", "recipient": "not a person"})
    assert bad.status_code == 400
    assert 'id="recipient-error" aria-live="polite"><p>' in bad.get_data(as_text=True)
    assert awards.list_awards(initialized) == []


def test_manual_award_twice_is_refused(admin):
    data = {"achievement": "ethics", "recipient": "grace@example.org"}
    admin.submit("/admin/awards/new", data)
    again = admin.submit("/admin/awards/new", data)
    assert again.status_code == 409


def test_manual_award_needs_a_known_achievement(admin):
    bad = admin.submit("/admin/awards/new", {"achievement": "nope", "recipient": "g@example.org"})
    assert bad.status_code == 400
    assert 'id="achievement-error" aria-live="polite"><p>' in bad.get_data(as_text=True)


# ---------------------------------------------------------------- bulk


def test_bulk_upload_page_names_every_column_the_file_may_have(admin, initialized):
    html = admin.get("/admin/bulk").get_data(as_text=True)
    listed = re.findall(r"<dt><code>(\w+)</code>", html)
    assert sorted(listed) == sorted(bulk.COLUMNS)


def test_bulk_upload_lists_every_bad_row_and_issues_nothing(admin, initialized, queue):
    csv = (
        b"recipient,achievement,evidence\n"
        b"a@example.org,ethics,\n"
        b"not-an-email,ethics,\n"
        b"b@example.org,nope,ftp://x\n"
    )
    refused = _upload(admin, csv)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td><td>", html)
    assert rows == [("3", "recipient"), ("4", "achievement"), ("4", "evidence")]
    assert "nothing was issued" in html
    assert bulk.list_jobs(initialized) == []
    assert queue.started == []


def test_bulk_upload_of_a_file_the_csv_module_cannot_read_is_400_naming_the_row(
    admin, initialized, queue
):
    csv = b"recipient,achievement,narrative\na@example.org,ethics," + b"n" * 200_000 + b"\n"
    refused = _upload(admin, csv)
    assert refused.status_code == 400
    assert "row 2: field larger than field limit" in refused.get_data(as_text=True)
    assert queue.started == []


def test_bulk_upload_with_skip_invalid_starts_a_job_with_a_progress_page(admin, initialized, queue):
    csv = (
        b"recipient,achievement\na@example.org,ethics\nnot-an-email,ethics\nb@example.org,ethics\n"
    )
    started = _upload(admin, csv, skip_invalid="y")
    assert started.status_code == 302
    [job_id] = queue.started
    page = admin.get(started.headers["Location"]).get_data(as_text=True)
    assert '<progress id="bulk-bar" max="2" value="0">' in page
    assert '<meta http-equiv="refresh" content="5">' in page  # without JavaScript
    assert "admin-bulk-progress.js" in page
    assert f'data-status-url="/api/v1/bulk/{job_id}"' in page
    assert "Rows left out as invalid" in page
    bulk.run_job(initialized, job_id)
    done = admin.get(started.headers["Location"]).get_data(as_text=True)
    assert '<progress id="bulk-bar" max="2" value="2">' in done
    assert "http-equiv" not in done
    assert done.count("<td>issued</td>") == 2
    # The poller's JSON is reachable with the admin's session.
    assert admin.get(f"/api/v1/bulk/{job_id}").json["issued"] == 2


def test_bulk_default_achievement_applies_to_rows_without_one(admin, initialized, queue):
    started = _upload(admin, b"recipient\nc@example.org\n", achievement="ethics")
    assert started.status_code == 302
    bulk.run_job(initialized, queue.started[0])
    assert [a.recipient for a in awards.list_awards(initialized)] == ["c@example.org"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name\nx\n", "needs a recipient column"),
        (b"\xff\xfe", "is not UTF-8"),
    ],
)
def test_bulk_file_problems_are_shown_on_the_file_field(admin, queue, content, message):
    refused = _upload(admin, content)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="file-error" aria-live="polite"><p>' in html
    assert message in html


def test_bulk_without_a_file_is_400(admin):
    refused = admin.submit("/admin/bulk", {})
    assert refused.status_code == 400
    assert "choose a CSV file" in refused.get_data(as_text=True)


def test_unknown_bulk_job_is_404(admin):
    assert admin.get("/admin/bulk/nope").status_code == 404


# ---------------------------------------------------------------- awards and status


def _award(ctx, recipient="grace@example.org"):
    return issue.issue_award(ctx, issue.IssueRequest("ethics", recipient), actor="test")


def test_award_search_filters_by_recipient_and_escapes(admin, initialized):
    _award(initialized)
    _award(initialized, "ada@example.org")
    html = admin.get("/admin/awards?recipient=ada@example.org").get_data(as_text=True)
    assert "ada@example.org" in html
    assert "grace@example.org" not in html
    assert "Ethics &lt;Unit&gt;" in html
    bad = admin.get("/admin/awards?recipient=%3Cnot%20valid%3E")
    assert bad.status_code == 400
    assert 'id="recipient-error" aria-live="polite"><p>' in bad.get_data(as_text=True)


def test_revoke_needs_a_reason_and_a_confirmation(admin, initialized):
    award = _award(initialized)
    url = f"/admin/awards/{award.public_id}/revoke"
    page = admin.get(url).get_data(as_text=True)
    assert "Revocation is final" in page
    unconfirmed = admin.submit(url, {"reason": "Fraud"})
    assert unconfirmed.status_code == 400
    no_reason = admin.submit(url, {"understood": "y"})
    assert no_reason.status_code == 400
    assert 'id="reason-error" aria-live="polite"><p>' in no_reason.get_data(as_text=True)
    assert awards.list_awards(initialized)[0].status == "active"
    done = admin.submit(url, {"understood": "y", "reason": "Certificate was forged"})
    assert done.status_code == 302
    assert awards.list_awards(initialized)[0].status == "revoked"
    again = admin.submit(url, {"understood": "y", "reason": "again"})
    assert again.status_code == 409


def test_suspend_then_reinstate(admin, initialized):
    award = _award(initialized)
    no_reason = admin.submit(f"/admin/awards/{award.public_id}/suspend", {"understood": "y"})
    assert no_reason.status_code == 400
    admin.submit(f"/admin/awards/{award.public_id}/suspend", {"understood": "y", "reason": "Audit"})
    assert awards.list_awards(initialized)[0].status == "suspended"
    listing = admin.get("/admin/awards").get_data(as_text=True)
    assert f"/admin/awards/{award.public_id}/unsuspend" in listing
    admin.submit(f"/admin/awards/{award.public_id}/unsuspend", {"understood": "y"})
    assert awards.list_awards(initialized)[0].status == "active"


def test_status_pages_for_unknown_awards_or_actions_are_404(admin, initialized):
    award = _award(initialized)
    assert admin.get("/admin/awards/nope/revoke").status_code == 404
    assert admin.get(f"/admin/awards/{award.public_id}/delete").status_code == 404


# ---------------------------------------------------------------- how an award came about


def test_the_award_page_shows_how_an_automatic_award_was_earned(admin, initialized):
    for slug, rules in [
        ("quiz", {"event": "quiz.completed"}),
        ("stack", {"all_of": [{"earned": "quiz"}]}),
    ]:
        catalog.create_achievement(
            initialized,
            issuer_slug="default",
            spec=AchievementSpec(
                slug=slug, name=slug.title(), description="d", criteria_narrative="c", rules=rules
            ),
        )
    result = awarding.record_event(
        initialized,
        {"recipient": "ada@example.org", "kind": "quiz.completed"},
        idempotency_key="k",
        source="lms",
        actor="t",
    )
    ids = {a.achievement_slug: a.public_id for a in result.awarded}
    listing = admin.get("/admin/awards").get_data(as_text=True)
    assert f'href="/admin/awards/{ids["stack"]}">automatic' in listing
    page = admin.get(f"/admin/awards/{ids['stack']}")
    assert page.status_code == 200
    section = page.get_data(as_text=True).split('id="basis-heading"')[1].split("</section>")[0]
    assert "holds Quiz" in section  # the name, not the slug
    assert f'badge <a href="/admin/awards/{ids["quiz"]}">Quiz</a>' in section
    assert "your " not in section
    quiz = admin.get(f"/admin/awards/{ids['quiz']}").get_data(as_text=True)
    assert "quiz.completed (from lms)" in quiz
    assert admin.get("/admin/awards/nope").status_code == 404


def test_the_award_page_is_for_admins(client, initialized, create_account):
    create_account("l@example.org")
    client.login("l@example.org")
    assert client.get("/admin/awards/anything").status_code == 403


def test_a_basis_recorded_before_outcomes_named_their_achievement_keeps_its_slugs(
    admin, initialized
):
    issued = issue.issue_award(
        initialized, issue.IssueRequest("ethics", "ada@example.org"), actor="t"
    )
    old = {
        "rule": "automatic",
        "outcome": {"met": True, "code": "earned", "reason": "holds ethics", "inputs": ["award:x"]},
    }
    with initialized.uow() as uow:
        uow.session.execute(
            update(Award).where(Award.public_id == issued.public_id).values(basis=old)
        )
    rules = awards.award_detail(initialized, issued.public_id).basis.rules
    assert rules.reason == "holds ethics"
    assert [(i.kind, i.ref, i.found) for i in rules.inputs] == [("award", "x", False)]
