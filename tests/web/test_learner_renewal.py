"""The renewal picture: chart, totals, deadline, suggestions, ledger, requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from markupsafe import escape

from badger.domain.achievements import AchievementSpec
from badger.services import catalog, cycles
from badger.services.issue import IssueRequest, issue_award

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
START = datetime(2025, 1, 1, tzinfo=UTC)
ADA = "ada@example.org"


def spec(slug, credits, category, **kw):
    return AchievementSpec(
        slug=slug,
        name=kw.pop("name", slug.replace("-", " ").title()),
        description=f"{slug}.",
        criteria_narrative=f"Complete {slug}.",
        credits_available=Decimal(credits) if credits is not None else None,
        credit_category=category,
        **kw,
    )


CATALOGUE = [
    spec("csms", None, None, achievement_type="Certification", name="Certified <Strategist>"),
    spec("ethics-disclosure", "2", "ethics"),
    spec("analytics-a", "3", "analytics"),
    spec("analytics-b", "3", "analytics"),
    spec("content-a", "2", "content-strategy"),
]


@pytest.fixture
def cycle(initialized, create_account):
    catalog.create_achievements(initialized, issuer_slug="default", specs=CATALOGUE, actor="t")
    create_account(ADA, name="Ada Strategist")
    cycles.import_policy(
        initialized, json.loads((EXAMPLES / "csms-policy.json").read_text()), actor="t"
    )
    view = cycles.start_cycle(initialized, recipient=ADA, policy_key="csms", start=START, actor="t")
    for n, slug in enumerate(["analytics-a", "analytics-b", "ethics-disclosure"]):
        issue_award(
            initialized,
            IssueRequest(slug, ADA, issued_on=START + timedelta(days=10 + n)),
            actor="t",
        )
    return view


def test_dashboard_lists_each_cycle_with_deadline_and_total(client, initialized, cycle):
    client.login(ADA)
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/renewal/{cycle.public_id}" in html
    assert "Certified &lt;Strategist&gt;" in html
    assert "days left" in html
    assert 'class="mini-bar"' in html


def test_renewal_page_draws_the_chart_and_explains_every_line(client, initialized, cycle):
    client.login(ADA)
    response = client.get(f"/renewal/{cycle.public_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<svg class="renewal-chart"' in html
    assert 'role="img"' in html
    # analytics: 6 earned, 5 counted under the cap; the cap line and the cut part are drawn.
    assert 'class="chart-cap"' in html
    assert 'class="chart-capped"' in html
    assert "analytics: 5 counted of 6 earned, cap 5." in html
    assert 'class="chart-required"' in html
    overview = cycles.learner_cycles(initialized, cycle.learner_public_id)[0]
    assert overview.ledger.lines
    for line in overview.ledger.lines:
        assert str(escape(line.name)) in html
        assert str(escape(line.reason)) in html
    assert "days left" in html
    assert "What would still count" in html
    assert "Content A" in html  # a suggestion from the catalogue


def test_a_learner_requests_an_extension_and_sees_its_status(client, initialized, cycle):
    client.login(ADA)
    response = client.submit(
        f"/renewal/{cycle.public_id}/requests",
        {"kind": "extension", "days": "30", "reason": "Parental <leave>"},
        page=f"/renewal/{cycle.public_id}",
    )
    assert response.status_code == 302
    html = client.get(f"/renewal/{cycle.public_id}").get_data(as_text=True)
    assert "Parental &lt;leave&gt;" in html
    assert "extension (30 days)" in html
    assert "pending" in html


def test_request_errors_name_the_field(client, initialized, cycle):
    client.login(ADA)
    response = client.submit(
        f"/renewal/{cycle.public_id}/requests",
        {"kind": "extension", "reason": "need time"},
        page=f"/renewal/{cycle.public_id}",
    )
    assert response.status_code == 400
    assert 'id="days-error"' in response.get_data(as_text=True)
    missing = client.submit(
        f"/renewal/{cycle.public_id}/requests",
        {"kind": "hiatus", "reason": ""},
        page=f"/renewal/{cycle.public_id}",
    )
    assert missing.status_code == 400
    assert 'id="reason-error"' in missing.get_data(as_text=True)


def test_another_learner_gets_404_for_a_cycle(client, initialized, cycle, create_account):
    create_account("sam@example.org")
    client.login("sam@example.org")
    assert client.get(f"/renewal/{cycle.public_id}").status_code == 404
    response = client.submit(
        f"/renewal/{cycle.public_id}/requests",
        {"kind": "hiatus", "reason": "mine now"},
        page="/dashboard",
    )
    assert response.status_code == 404


def test_renewal_needs_sign_in(client, initialized, cycle):
    response = client.get(f"/renewal/{cycle.public_id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_chart_scales_every_category_on_one_axis_with_the_cap_drawn():
    from badger.domain.ledger import CategoryTotal, Ledger
    from badger.services import progress

    ledger = Ledger(
        lines=(),
        categories=(
            CategoryTotal("analytics", Decimal(6), Decimal(5), Decimal(5), None),
            CategoryTotal("library", Decimal(3), Decimal(3), None, None),
        ),
        counted_total=Decimal(8),
        required_total=Decimal(30),
        requirements=(),
    )
    chart = progress.chart(ledger)
    analytics, library = chart.bars
    assert analytics.earned_width == chart.bar_width  # 6 is the largest value
    assert analytics.counted_width == round(chart.bar_width * 5 / 6, 1)
    assert analytics.capped == 1
    assert analytics.cap_x == chart.bar_x + round(chart.bar_width * 5 / 6, 1)
    assert library.cap_x is None  # exempt: no cap line
    assert library.counted_width == round(chart.bar_width * 3 / 6, 1)
    # The total has its own scale: 8 of 30, the requirement line at the end.
    assert chart.total.counted_width == round(chart.bar_width * 8 / 30, 1)
    assert chart.total.minimum_x == chart.bar_x + chart.bar_width
    assert chart.height > chart.total.y


def test_linkedin_link_carries_the_expiry_when_there_is_one():
    from urllib.parse import parse_qs, urlsplit

    from badger.services import sharing

    url = sharing.linkedin_url(
        name="A & B",
        organization="Org",
        issued_on=datetime(2026, 3, 14, tzinfo=UTC),
        valid_until=datetime(2029, 3, 14, tzinfo=UTC),
        cert_url="https://badges.example.org/credentials/x",
        cert_id="urn:uuid:x",
    )
    params = parse_qs(urlsplit(url).query)
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&")
    assert params["name"] == ["A & B"]
    assert params["expirationYear"] == ["2029"]
    assert params["expirationMonth"] == ["3"]


def test_embed_snippet_escapes_every_value():
    from badger.services import sharing

    snippet = sharing.embed_html(
        page_url='https://x.example/"onmouseover=alert(1)',
        image_url="https://x.example/i.png",
        name="<script>alert(1)</script>",
        issuer="O'Brien & Co",
    )
    assert "<script>" not in snippet
    assert '"onmouseover' not in snippet
    assert "&lt;script&gt;" in snippet
    assert "O&#x27;Brien &amp; Co" in snippet
