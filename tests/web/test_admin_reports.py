"""Renewal policy check and simulator page; reports with CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from badger.domain.achievements import AchievementSpec
from badger.services import catalog, issue, reports, status
from tests.conftest import ADMIN_EMAIL

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
POLICY = (EXAMPLES / "csms-policy.json").read_text()
ACTIVITIES = (EXAMPLES / "ada-activities.json").read_text()


@pytest.fixture
def admin(client, initialized):
    client.login(ADMIN_EMAIL)
    return client


# ---------------------------------------------------------------- policies


def test_a_valid_policy_is_summarised(admin):
    page = admin.submit("/admin/policies", {"policy": POLICY})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "The policy is valid" in html
    assert "Certified Social Media Strategist renewal" in html
    assert "no cap (exempt)" in html  # training-library


def test_the_simulator_shows_every_ledger_line_with_its_reason(admin):
    page = admin.submit("/admin/policies", {"policy": POLICY, "activities": ACTIVITIES})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Every activity, with the reason for what counted" in html
    for activity in json.loads(ACTIVITIES)["activities"]:
        assert activity["name"] in html
    assert html.count("<td>capped</td>") + html.count("<td>counted</td>") >= 1


def test_policy_schema_errors_are_shown_on_the_policy_field(admin):
    policy = json.loads(POLICY)
    policy["required_total"] = "thirty"
    page = admin.submit("/admin/policies", {"policy": json.dumps(policy)})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'id="policy-error" aria-live="polite"><p>policy.required_total: ' in html
    assert "thirty" in html


def test_activity_errors_are_shown_on_the_activities_field(admin):
    activities = json.loads(ACTIVITIES)
    activities["activities"][0]["earned_at"] = "yesterday"
    page = admin.submit("/admin/policies", {"policy": POLICY, "activities": json.dumps(activities)})
    assert page.status_code == 400
    assert 'id="activities-error" aria-live="polite"><p>activities.activities[0].earned_at' in (
        page.get_data(as_text=True)
    )


def test_broken_json_and_bad_as_of_are_400_with_field_messages(admin):
    broken = admin.submit("/admin/policies", {"policy": "{"})
    assert broken.status_code == 400
    assert "not valid JSON" in broken.get_data(as_text=True)
    naive = admin.submit(
        "/admin/policies", {"policy": POLICY, "activities": ACTIVITIES, "as_of": "2025-06-01"}
    )
    assert naive.status_code == 400
    assert 'id="as_of-error" aria-live="polite"><p>' in naive.get_data(as_text=True)


def test_as_of_leaves_out_later_activities(admin):
    early = admin.submit(
        "/admin/policies",
        {"policy": POLICY, "activities": ACTIVITIES, "as_of": "2025-02-15T00:00:00Z"},
    ).get_data(as_text=True)
    assert "<tr><td>Ethics and Disclosure</td>" in early
    assert "<tr><td>Attribution Models</td>" not in early


def test_user_text_in_a_policy_is_escaped(admin):
    policy = json.loads(POLICY)
    policy["name"] = "<img src=x onerror=alert(1)>"
    html = admin.submit("/admin/policies", {"policy": json.dumps(policy)}).get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# ---------------------------------------------------------------- reports


def _define(ctx, slug, credits, category):
    catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=AchievementSpec(
            slug=slug,
            name=slug.title(),
            description="d",
            criteria_narrative="c",
            credits_available=Decimal(credits) if credits is not None else None,
            credit_category=category,
        ),
    )


@pytest.fixture
def awarded(initialized, clock):
    _define(initialized, "ethics", "2", "ethics")
    _define(initialized, "analytics", "1.5", "analytics")
    _define(initialized, "welcome", None, None)
    when = [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)]
    made = {}
    for recipient, slug, on in [
        ("a@example.org", "ethics", when[0]),
        ("b@example.org", "ethics", when[1]),
        ("c@example.org", "ethics", when[1]),
        ("a@example.org", "analytics", when[1]),
        ("a@example.org", "welcome", when[1]),
    ]:
        made[(recipient, slug)] = issue.issue_award(
            initialized, issue.IssueRequest(slug, recipient, issued_on=on), actor="test"
        )
    status.revoke(
        initialized, made[("c@example.org", "ethics")].public_id, reason="error", actor="t"
    )
    return made


def test_credits_by_category_counts_active_awards_only(initialized, awarded):
    lines = reports.credits_by_category(initialized)
    assert [(c.category, c.awards, c.credits) for c in lines] == [
        ("ethics", 2, Decimal(4)),
        ("analytics", 1, Decimal("1.5")),
        (reports.NO_CATEGORY, 1, Decimal(0)),
    ]


def test_awards_by_month_fills_empty_months(initialized, awarded):
    months = reports.awards_by_month(initialized)
    assert [(m.month, m.awards) for m in months] == [
        ("2026-01", 1),
        ("2026-02", 0),
        ("2026-03", 4),
    ]
    chart = reports.bar_chart(months)
    assert chart.maximum == 4
    assert chart.bars[1].height == 0
    assert chart.bars[2].y == 20.0  # the tallest bar reaches the top of the plot


def test_reports_page_draws_the_chart_and_the_tables(admin, awarded):
    html = admin.get("/admin/reports").get_data(as_text=True)
    assert '<svg class="chart"' in html
    assert html.count('class="bar"') == 3
    assert '<th scope="row">2026-02</th><td>0</td>' in html
    assert '<th scope="row">ethics</th><td>2</td><td>4</td>' in html


def test_reports_export_as_csv(admin, awarded):
    response = admin.get("/admin/reports/credits-by-category.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["category", "active_awards", "credits"]
    assert rows[1] == ["ethics", "2", "4"]
    assert rows[2] == ["analytics", "1", "1.5"]
    months = admin.get("/admin/reports/awards-by-month.csv").get_data(as_text=True)
    assert months.splitlines()[1:] == ["2026-01,1", "2026-02,0", "2026-03,4"]
    assert admin.get("/admin/reports/nope.csv").status_code == 404


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (None, ""),
    ],
)
def test_csv_cells_cannot_become_formulas(cell, written):
    assert reports.safe_cell(cell) == written
    body = reports.to_csv(["h"], [[cell]])
    assert list(csv.reader(io.StringIO(body)))[1] == [written]


def test_empty_reports_say_so(admin):
    html = admin.get("/admin/reports").get_data(as_text=True)
    assert "No active awards yet." in html
    assert "No awards yet." in html
