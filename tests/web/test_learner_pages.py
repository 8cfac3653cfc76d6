"""The learner's dashboard, submissions and share pages."""

from __future__ import annotations

import html as htmlmod
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs

import pytest
from sqlalchemy import update

from badger.domain.achievements import AchievementSpec
from badger.services import accounts, awarding, catalog, issue, review, status
from badger.services.issue import IssueRequest
from badger.store.models import Achievement

EMAIL = "pat@example.org"


@pytest.fixture
def pat(create_account):
    return create_account(EMAIL, name="Pat Learner")


@pytest.fixture
def achievement(initialized):
    return catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics <script>alert(1)</script>",
            description="Required ethics unit",
            criteria_narrative="Pass the quiz",
            credits_available=Decimal(2),
        ),
    )


@pytest.fixture
def award(initialized, achievement, pat):
    return issue.issue_award(
        initialized, IssueRequest(achievement="ethics", recipient=EMAIL), actor="test"
    )


def test_dashboard_shows_badges_as_cards_with_status(client, initialized, award):
    client.login(EMAIL)
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/badges/{award.public_id}" in html
    assert "Ethics &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert 'alt="Badge image: Ethics &lt;script&gt;' in html
    assert "Test Institute" in html
    assert "14 March 2026" in html
    assert "status-active" in html
    status.revoke(initialized, award.public_id, reason="issued in error", actor="test")
    assert "status-revoked" in client.get("/dashboard").get_data(as_text=True)
    own = client.get(f"/badges/{award.public_id}").get_data(as_text=True)
    assert "linkedin.com/profile/add" not in own
    assert "This badge is revoked" in own


def test_dashboard_is_the_learners_own(client, initialized, award, create_account):
    create_account("sam@example.org")
    client.login("sam@example.org")
    html = client.get("/dashboard").get_data(as_text=True)
    assert award.public_id not in html
    assert client.get(f"/badges/{award.public_id}").status_code == 404


def test_account_page_still_works(client, initialized, award):
    client.login(EMAIL)
    assert client.get("/account").status_code == 200


# ---------------------------------------------------------------- submissions


def test_evidence_is_submitted_and_shows_on_the_dashboard(client, initialized, achievement, pat):
    client.login(EMAIL)
    form = client.get("/submit/evidence?achievement=ethics").get_data(as_text=True)
    assert '<option selected value="ethics">' in form
    response = client.submit(
        "/submit/evidence",
        {"achievement": "ethics", "narrative": "I did <b>it</b>", "url": ""},
        page="/submit/evidence",
    )
    assert response.status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    assert "submitted" in html
    assert "Ethics &lt;script&gt;" in html


def test_evidence_with_a_file_upload(client, initialized, achievement, pat):
    from io import BytesIO

    client.login(EMAIL)
    response = client.submit(
        "/submit/evidence",
        {"achievement": "ethics", "file": (BytesIO(b"my certificate text"), "cert.txt")},
        page="/submit/evidence",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    [sent] = review.submissions_of(initialized, pat.learner_public_id)
    assert sent.upload is not None
    assert sent.upload.filename == "cert.txt"


def test_evidence_errors_are_shown_on_the_form(client, initialized, achievement, pat):
    client.login(EMAIL)
    empty = client.submit("/submit/evidence", {"achievement": "ethics"}, page="/submit/evidence")
    assert empty.status_code == 400
    assert 'id="narrative-error"' in empty.get_data(as_text=True)
    bad_url = client.submit(
        "/submit/evidence",
        {"achievement": "ethics", "url": "javascript:alert(1)"},
        page="/submit/evidence",
    )
    assert bad_url.status_code == 400
    assert 'id="url-error"' in bad_url.get_data(as_text=True)


def test_activity_is_submitted_with_every_field(client, initialized, pat):
    client.login(EMAIL)
    response = client.submit(
        "/submit/activity",
        {
            "title": "Webinar <i>on</i> ethics",
            "activity_date": "2026-03-01",
            "credits": "1.5",
            "category": "ethics",
            "learning_minutes": "90",
            "url": "https://example.org/webinar",
            "narrative": "Learned a lot",
        },
        page="/submit/activity",
    )
    assert response.status_code == 302
    [sent] = review.submissions_of(initialized, pat.learner_public_id)
    assert sent.kind == "activity"
    assert sent.credits == Decimal("1.5")
    assert sent.learning_minutes == 90
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Webinar &lt;i&gt;on&lt;/i&gt; ethics" in html


def test_activity_errors_name_the_field(client, initialized, pat):
    client.login(EMAIL)
    response = client.submit(
        "/submit/activity",
        {"title": "x", "credits": "1.555", "category": "ethics"},
        page="/submit/activity",
    )
    assert response.status_code == 400
    assert 'id="credits-error"' in response.get_data(as_text=True)
    slug = client.submit(
        "/submit/activity",
        {"title": "x", "credits": "1", "category": "Not A Slug!"},
        page="/submit/activity",
    )
    assert slug.status_code == 400
    assert 'id="category-error"' in slug.get_data(as_text=True)
    future = client.submit(
        "/submit/activity",
        {"title": "x", "credits": "1", "category": "ethics", "activity_date": "2030-01-01"},
        page="/submit/activity",
    )
    assert future.status_code == 400
    assert 'id="activity_date-error"' in future.get_data(as_text=True)


def test_a_proposal_reaches_the_review_queue(client, initialized, pat):
    client.login(EMAIL)
    response = client.submit(
        "/submit/proposal",
        {
            "title": "Podcast series on privacy",
            "url": "https://example.org/podcast",
            "description": "Twelve episodes",
            "learned": "GDPR basics",
            "credits": "2",
            "category": "privacy",
        },
        page="/submit/proposal",
    )
    assert response.status_code == 302
    [sent] = review.submissions_of(initialized, pat.learner_public_id)
    assert sent.kind == "proposal"
    assert "What I learned:\nGDPR basics" in sent.narrative
    assert sent.category == "privacy"
    missing = client.submit("/submit/proposal", {"title": "x"}, page="/submit/proposal")
    assert missing.status_code == 400
    assert 'id="url-error"' in missing.get_data(as_text=True)


def test_a_returned_submission_is_revised_and_resubmitted(
    client, initialized, achievement, pat, create_account
):
    reviewer = create_account("rev@example.org", roles=["reviewer"])
    sent = review.submit_evidence(
        initialized,
        learner_public_id=pat.learner_public_id,
        achievement="ethics",
        narrative="first try",
        actor="test",
    )
    review.review(
        initialized, sent.public_id, decision="return", comment="Add a <link>", reviewer=reviewer
    )
    client.login(EMAIL)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f"/submissions/{sent.public_id}/revise" in dashboard
    assert "Add a &lt;link&gt;" in dashboard
    page = client.get(f"/submissions/{sent.public_id}/revise").get_data(as_text=True)
    assert "first try" in page
    response = client.submit(
        f"/submissions/{sent.public_id}/revise",
        {"url": "https://example.org/proof", "narrative": "second try"},
    )
    assert response.status_code == 302
    again = review.get_submission(initialized, sent.public_id)
    assert again.status == "submitted"
    assert again.url == "https://example.org/proof"


def test_another_learners_submission_is_not_found(
    client, initialized, achievement, pat, create_account
):
    sent = review.submit_evidence(
        initialized,
        learner_public_id=pat.learner_public_id,
        achievement="ethics",
        narrative="mine",
        actor="test",
    )
    create_account("sam@example.org")
    client.login("sam@example.org")
    assert client.get(f"/submissions/{sent.public_id}/revise").status_code == 404


# ---------------------------------------------------------------- sharing


def test_own_badge_page_has_every_share_tool(client, initialized, award):
    client.login(EMAIL)
    html = client.get(f"/badges/{award.public_id}").get_data(as_text=True)
    page_url = f"https://badges.example.org/credentials/{award.public_id}"
    assert f'<link rel="canonical" href="{page_url}">' in html
    assert f'<meta property="og:url" content="{page_url}">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    linkedin = htmlmod.unescape(
        html.split('href="https://www.linkedin.com/profile/add?')[1].split('"')[0]
    )
    params = parse_qs(linkedin)
    assert params["startTask"] == ["CERTIFICATION_NAME"]
    assert params["name"] == ["Ethics <script>alert(1)</script>"]
    assert params["organizationName"] == ["Test Institute"]
    assert params["issueYear"] == ["2026"]
    assert params["issueMonth"] == ["3"]
    assert params["certUrl"] == [page_url]
    assert params["certId"] == [f"urn:uuid:{award.public_id}"]
    assert '<svg role="img" aria-label="QR code for the badge page of Ethics &lt;script&gt;' in html
    assert 'class="qr"' in html
    # The snippet is shown as text in a readonly textarea, escaped twice over.
    snippet = html.split('<textarea id="embed-snippet"')[1].split("</textarea>")[0]
    assert "readonly" in snippet
    assert "&lt;a href=" in snippet
    assert "<script>" not in snippet
    for fmt, ext in issue.FILE_EXTENSIONS.items():
        if fmt in issue.AWARD_FORMATS:
            assert f"/credentials/{award.public_id}/{fmt}.{ext}?download=1" in html


def test_public_page_carries_open_graph_and_twitter_meta(client, initialized, award):
    html = client.get(f"/credentials/{award.public_id}").get_data(as_text=True)
    assert (
        '<meta property="og:title" content="Ethics &lt;script&gt;alert(1)&lt;/script&gt;">' in html
    )
    assert (
        f'<meta property="og:url" content="https://badges.example.org/credentials/{award.public_id}">'
        in html
    )
    assert '<meta name="twitter:card" content="summary">' in html
    assert "og:image" in html
    assert "linkedin.com/profile/add" in html
    assert 'class="qr"' in html


def test_hiding_a_badge_404s_its_page_but_keeps_the_credential(client, initialized, award):
    client.login(EMAIL)
    response = client.submit(
        f"/badges/{award.public_id}/visibility", {"public": "0"}, page=f"/badges/{award.public_id}"
    )
    assert response.status_code == 302
    assert "hidden" in client.get(f"/badges/{award.public_id}").get_data(as_text=True)
    anonymous = client.application.test_client()
    assert anonymous.get(f"/credentials/{award.public_id}").status_code == 404
    # The owner still sees their own page.
    assert client.get(f"/credentials/{award.public_id}").status_code == 200
    signed = anonymous.get(
        f"/credentials/{award.public_id}", headers={"Accept": "application/vc+ld+json"}
    )
    assert signed.status_code == 200
    assert anonymous.get(f"/credentials/{award.public_id}/ob3-jwt.jwt").status_code == 200
    client.submit(
        f"/badges/{award.public_id}/visibility", {"public": "1"}, page=f"/badges/{award.public_id}"
    )
    assert anonymous.get(f"/credentials/{award.public_id}").status_code == 200


def test_only_the_owner_can_hide_a_badge(client, initialized, award, create_account):
    create_account("sam@example.org")
    client.login("sam@example.org")
    response = client.submit(
        f"/badges/{award.public_id}/visibility", {"public": "0"}, page="/dashboard"
    )
    assert response.status_code == 404
    assert client.get(f"/credentials/{award.public_id}").status_code == 200


def test_sign_up_link_and_reset_link_on_sign_in(client, initialized):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html
    assert 'href="/signup"' in html


def test_unverified_address_badges_are_pending_not_shown(client, initialized, achievement, mailer):
    accounts.create_account(
        initialized,
        email="unv@example.org",
        password="correct horse battery",
        display_name="U",
        email_verified=False,
    )
    sent = issue.issue_award(
        initialized, IssueRequest(achievement="ethics", recipient="unv@example.org"), actor="t"
    )
    client.login("unv@example.org")
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/badges/{sent.public_id}" not in html
    assert "sent to <strong>unv@example.org</strong>" in html
    # Confirming the address from the dashboard claims the badge.
    client.submit("/account/identifiers/email", {"email": "unv@example.org"}, page="/dashboard")
    link = mailer.sent[-1].body.split("https://badges.example.org")[1].split()[0]
    client.submit(link, {})
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/badges/{sent.public_id}" in html
    assert "sent to <strong>unv@example.org</strong>" not in html


class _Audit(HTMLParser):
    """Ids, label targets and form controls of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.landmarks: set[str] = set()
        self.images_without_alt = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit"}:
            self.controls.append(a)
        if tag in {"header", "nav", "main", "footer"}:
            self.landmarks.add(tag)
        if tag == "img" and "alt" not in a:
            self.images_without_alt += 1


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard",
        "/account/identifiers",
        "/submit/evidence",
        "/submit/activity",
        "/submit/proposal",
        "/account",
        "BADGE",
    ],
)
def test_learner_pages_have_unique_ids_labels_alt_text_and_landmarks(
    client, initialized, award, url
):
    client.login(EMAIL)
    if url == "BADGE":
        url = f"/badges/{award.public_id}"
    audit = _Audit()
    audit.feed(client.get(url).get_data(as_text=True))
    assert len(audit.ids) == len(set(audit.ids)), sorted(audit.ids)
    for control in audit.controls:
        assert control.get("id") in audit.label_for, control
    assert audit.landmarks == {"header", "nav", "main", "footer"}
    assert audit.images_without_alt == 0


@pytest.mark.parametrize("url", ["/signup", "/password/forgot", "/login"])
def test_anonymous_pages_have_labelled_inputs(client, initialized, url):
    audit = _Audit()
    audit.feed(client.get(url).get_data(as_text=True))
    assert len(audit.ids) == len(set(audit.ids))
    for control in audit.controls:
        assert control.get("id") in audit.label_for, control


def test_an_approved_proposal_joins_the_catalogue(client, initialized, pat, create_account):
    reviewer = create_account("rev@example.org", roles=["reviewer"])
    client.login(EMAIL)
    client.submit(
        "/submit/proposal",
        {
            "title": "Privacy podcast",
            "url": "https://example.org/podcast",
            "description": "Twelve episodes",
            "learned": "GDPR basics",
            "credits": "1.5",
            "category": "privacy",
        },
        page="/submit/proposal",
    )
    [sent] = review.submissions_of(initialized, pat.learner_public_id)
    result = review.review(
        initialized, sent.public_id, decision="approve", comment=None, reviewer=reviewer
    )
    assert result.achievement is not None
    assert result.achievement.name == "Privacy podcast"
    assert result.achievement.credits_available == Decimal("1.5")
    assert result.achievement.credit_category == "privacy"
    assert "approved" in client.get("/dashboard").get_data(as_text=True)


def _define(ctx, slug, name, rules):
    catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=AchievementSpec(
            slug=slug, name=name, description="d", criteria_narrative="c", rules=rules
        ),
    )


def test_own_badge_page_says_how_it_was_earned_and_the_public_page_does_not(
    app, client, initialized, pat, create_account
):
    _define(initialized, "quiz", "Quiz", {"event": "quiz.completed"})
    _define(initialized, "case", "Case Study", {"evidence_approved": "case"})
    _define(
        initialized, "stack", "Practitioner", {"all_of": [{"earned": "quiz"}, {"earned": "case"}]}
    )
    awarding.record_event(
        initialized,
        {"recipient": EMAIL, "kind": "quiz.completed", "occurred_at": "2026-02-01"},
        idempotency_key="q1",
        source="lms",
        actor="t",
    )
    submitted = review.submit_evidence(
        initialized,
        learner_public_id=pat.learner_public_id,
        achievement="case",
        url="https://pat.example.org/case",
        actor="t",
    )
    reviewer = create_account("rev@example.org", roles=["reviewer"])
    result = review.review(
        initialized, submitted.public_id, decision="approve", comment=None, reviewer=reviewer
    )
    stack = next(a.public_id for a in result.awarded if a.achievement_slug == "stack")

    def basis_section(award_id):
        html = client.get(f"/badges/{award_id}").get_data(as_text=True)
        return html.split('id="basis-heading"')[1].split("</section>")[0]

    client.login(EMAIL)
    section = basis_section(stack)
    assert "Awarded automatically the moment its requirements were met" in section
    assert "all 2 of: 2 met" in section
    links = {
        text: href for href, text in re.findall(r'<a href="/badges/([^"]+)">([^<]+)</a>', section)
    }
    assert set(links) == {"Quiz", "Case Study"}
    assert section.count(">Quiz</a>") == 1  # on its rule's line, not again on the group's
    assert 'quiz.completed (from lms), <time datetime="2026-02-01T00:00:00' in basis_section(
        links["Quiz"]
    )
    assert "your evidence for Case Study, approved <time" in basis_section(links["Case Study"])
    public = app.test_client().get(f"/credentials/{stack}").get_data(as_text=True)
    assert "How you earned it" not in public
    assert "quiz.completed" not in public


def test_a_badge_given_by_hand_says_so(client, initialized, award):
    client.login(EMAIL)
    html = client.get(f"/badges/{award.public_id}").get_data(as_text=True)
    section = html.split('id="basis-heading"')[1].split("</section>")[0]
    assert "Awarded by Test Institute." in section


def test_dashboard_shows_the_badges_a_learner_is_working_towards(client, initialized, pat):
    _define(initialized, "quiz", "Quiz", {"event": "quiz.completed"})
    _define(initialized, "case", "Case Study", {"evidence_approved": "case"})
    _define(
        initialized, "stack", "Practitioner", {"all_of": [{"earned": "quiz"}, {"earned": "case"}]}
    )
    _define(initialized, "secret", "Unlisted", {"all_of": [{"earned": "quiz"}, {"earned": "case"}]})
    with initialized.uow() as uow:
        uow.session.execute(
            update(Achievement).where(Achievement.slug == "secret").values(is_public=False)
        )
    client.login(EMAIL)
    assert "Working towards" not in client.get("/dashboard").get_data(as_text=True)
    awarding.record_event(
        initialized,
        {"recipient": EMAIL, "kind": "quiz.completed"},
        idempotency_key="q1",
        source="lms",
        actor="t",
    )
    html = client.get("/dashboard").get_data(as_text=True)
    section = html.split('id="towards-heading"')[1].split("</section>")[0]
    assert re.findall(r"<h3><a [^>]*>([^<]+)</a></h3>", section) == ["Practitioner"]
    assert "1 of 2 requirements met" in section
    assert '<span class="visually-hidden">met:</span> holds Quiz' in section  # its name
    assert '<span class="visually-hidden">not met:</span> does not yet hold Case Study' in section
    assert '<span class="visually-hidden">not met:</span>' in section
