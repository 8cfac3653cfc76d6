"""Admin pages over certification cycles: saved policy versions, extension / hiatus
request decisions, the renewal review queue and the at-risk report."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from badger.services import catalog, cycles, status
from tests.conftest import ADMIN_EMAIL
from tests.integration.test_cycles import ADA, CATALOGUE, DEADLINE, START, earn_full, policy_doc

POLICY = json.dumps(policy_doc())


@pytest.fixture
def ctx(initialized):
    catalog.create_achievements(initialized, issuer_slug="default", specs=CATALOGUE, actor="test")
    return initialized


@pytest.fixture
def cycle(ctx, create_account):
    create_account(ADA, name="Ada <Strategist>")
    cycles.import_policy(ctx, policy_doc(), actor="test")
    return cycles.start_cycle(ctx, recipient=ADA, policy_key="csms", start=START, actor="test")


@pytest.fixture
def admin(client, ctx):
    client.login(ADMIN_EMAIL)
    return client


CYCLE_PAGES = ["/admin/cycles/requests", "/admin/cycles/review"]


@pytest.mark.parametrize("page", CYCLE_PAGES)
def test_cycle_pages_need_the_admin_role(client, create_account, page):
    assert client.get(page).status_code == 302
    create_account("l@example.org")
    client.login("l@example.org")
    assert client.get(page).status_code == 403


# ---------------------------------------------------------------- policies


def test_saving_a_policy_stores_a_version_once(admin, ctx):
    saved = admin.submit("/admin/policies", {"policy": POLICY, "save": "y"})
    assert saved.status_code == 302
    page = admin.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Saved Certified Social Media Strategist renewal as csms version 1" in page
    assert "Load into the editor" in page
    assert "&#34;required_total&#34;: 30" in page  # the saved version is loaded back
    [version] = cycles.list_policies(ctx)
    assert (version.key, version.version) == ("csms", 1)
    again = admin.submit("/admin/policies", {"policy": POLICY, "save": "y"})
    assert "already saved with this content" in admin.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert len(cycles.list_policies(ctx)) == 1


def test_changing_a_saved_version_without_a_new_number_is_refused(admin, ctx):
    admin.submit("/admin/policies", {"policy": POLICY, "save": "y"})
    changed = json.dumps(policy_doc(required_total=40))
    refused = admin.submit("/admin/policies", {"policy": changed, "save": "y"})
    assert refused.status_code == 409
    assert "publish a new version number" in refused.get_data(as_text=True)
    admin.submit(
        "/admin/policies",
        {"policy": json.dumps(policy_doc(required_total=40, version=2)), "save": "y"},
    )
    assert [p.version for p in cycles.list_policies(ctx)] == [1, 2]


def test_saving_an_invalid_policy_shows_the_field(admin, ctx):
    bad = admin.submit(
        "/admin/policies", {"policy": json.dumps(policy_doc(cycle_months="x")), "save": "y"}
    )
    assert bad.status_code == 400
    assert 'id="policy-error" aria-live="polite"><p>policy.cycle_months' in bad.get_data(
        as_text=True
    )
    assert cycles.list_policies(ctx) == []


# ---------------------------------------------------------------- requests


def _ask(ctx, cycle, kind="extension", **kw):
    return cycles.request_change(
        ctx,
        learner_public_id=cycle.learner_public_id,
        cycle_public_id=cycle.public_id,
        kind=kind,
        reason=kw.pop("reason", "conference <cancelled>"),
        **kw,
    )


def test_requests_queue_lists_pending_requests_escaped(admin, ctx, cycle):
    request = _ask(ctx, cycle, days=90)
    html = admin.get("/admin/cycles/requests").get_data(as_text=True)
    assert f"/admin/cycles/requests/{request.public_id}" in html
    assert "Ada &lt;Strategist&gt;" in html
    assert "conference &lt;cancelled&gt;" in html
    page = admin.get(f"/admin/cycles/requests/{request.public_id}").get_data(as_text=True)
    assert "90 days" in page
    assert 'name="days"' in page


def test_approving_an_extension_with_fewer_days_moves_the_deadline(admin, ctx, cycle):
    request = _ask(ctx, cycle, days=90)
    done = admin.submit(
        f"/admin/cycles/requests/{request.public_id}",
        {"decision": "approve", "days": "45", "comment": "45 is enough"},
    )
    assert done.status_code == 302
    assert cycles.get_cycle(ctx, cycle.public_id).effective_deadline == DEADLINE + timedelta(
        days=45
    )
    assert cycles.list_requests(ctx) == []
    again = admin.submit(
        f"/admin/cycles/requests/{request.public_id}", {"decision": "reject", "comment": "no"}
    )
    assert again.status_code == 409


def test_rejecting_needs_a_comment_and_bad_days_are_named(admin, ctx, cycle):
    request = _ask(ctx, cycle, days=90)
    url = f"/admin/cycles/requests/{request.public_id}"
    no_comment = admin.submit(url, {"decision": "reject"})
    assert no_comment.status_code == 400
    assert 'id="comment-error" aria-live="polite"><p>' in no_comment.get_data(as_text=True)
    bad_days = admin.submit(url, {"decision": "approve", "days": "lots"})
    assert bad_days.status_code == 400
    assert 'id="days-error" aria-live="polite"><p>' in bad_days.get_data(as_text=True)
    assert [r.status for r in cycles.list_requests(ctx)] == ["pending"]


def test_approving_a_hiatus_request_pauses_the_cycle(admin, ctx, cycle):
    request = _ask(ctx, cycle, kind="hiatus", reason="caring for a parent")
    admin.submit(f"/admin/cycles/requests/{request.public_id}", {"decision": "approve"})
    assert cycles.get_cycle(ctx, cycle.public_id).status == "inactive"
    decided = admin.get("/admin/cycles/requests?status=approved").get_data(as_text=True)
    assert "caring for a parent" in decided


def test_unknown_request_is_404_and_bad_status_400(admin, cycle):
    assert admin.get("/admin/cycles/requests/nope").status_code == 404
    assert admin.get("/admin/cycles/requests?status=maybe").status_code == 400


# ---------------------------------------------------------------- renewal review queue


@pytest.fixture
def under_review(ctx, cycle):
    ids = earn_full(ctx)
    renewed = cycles.renew(ctx, cycle.public_id, actor="staff")
    status.revoke(ctx, ids["content-b"], reason="plagiarised", actor="staff")
    return renewed


def test_review_queue_shows_the_suspended_renewal(admin, cycle, under_review):
    html = admin.get("/admin/cycles/review").get_data(as_text=True)
    assert "Ada &lt;Strategist&gt;" in html
    assert "28 of 30" in html
    assert f"/admin/cycles/review/{cycle.public_id}" in html


def test_reinstating_a_renewal_clears_the_queue(admin, ctx, cycle, under_review):
    done = admin.submit(
        f"/admin/cycles/review/{cycle.public_id}",
        {"decision": "reinstate", "comment": "made up later"},
        page="/admin/cycles/review",
    )
    assert done.status_code == 302
    assert cycles.review_queue(ctx) == []
    assert "No renewal is waiting" in admin.get("/admin/cycles/review").get_data(as_text=True)


def test_revoking_a_renewal_needs_a_comment(admin, ctx, cycle, under_review):
    url = f"/admin/cycles/review/{cycle.public_id}"
    refused = admin.submit(url, {"decision": "revoke"}, page="/admin/cycles/review")
    assert refused.status_code == 400
    assert f'id="comment-{cycle.public_id}-error" aria-live="polite"><p>' in refused.get_data(
        as_text=True
    )
    admin.submit(url, {"decision": "revoke", "comment": "short"}, page="/admin/cycles/review")
    assert cycles.review_queue(ctx) == []
    gone = admin.submit(url, {"decision": "revoke", "comment": "x"}, page="/admin/cycles/review")
    assert gone.status_code == 409


# ---------------------------------------------------------------- at-risk report


def test_at_risk_learners_are_reported_with_csv(admin, ctx, cycle, clock):
    assert "Nobody is at risk." in admin.get("/admin/reports").get_data(as_text=True)
    clock.now = DEADLINE - timedelta(days=60)
    html = admin.get("/admin/reports").get_data(as_text=True)
    assert '<th scope="row">Ada &lt;Strategist&gt;</th>' in html
    assert "0 / 30" in html
    rows = list(
        csv.reader(io.StringIO(admin.get("/admin/reports/at-risk.csv").get_data(as_text=True)))
    )
    assert rows[0][:3] == ["learner", "certification", "status"]
    assert rows[1][0] == "Ada <Strategist>"
    assert rows[1][7] == "30"
    assert "ethics-disclosure" in rows[1][8]


# ---------------------------------------------------------------- staff actions on a cycle


def test_cycles_are_listed_and_filtered_by_status(admin, cycle):
    html = admin.get("/admin/cycles").get_data(as_text=True)
    assert f"/admin/cycles/{cycle.public_id}" in html
    assert "Ada &lt;Strategist&gt;" in html
    assert cycle.public_id not in admin.get("/admin/cycles?status=lapsed").get_data(as_text=True)
    assert admin.get("/admin/cycles?status=sleepy").status_code == 400


def test_staff_extend_a_deadline_directly(admin, ctx, cycle):
    url = f"/admin/cycles/{cycle.public_id}/extend"
    page = f"/admin/cycles/{cycle.public_id}"
    bad = admin.submit(url, {"days": "soon", "reason": "illness"}, page=page)
    assert bad.status_code == 400
    assert 'id="days-error" aria-live="polite"><p>' in bad.get_data(as_text=True)
    no_reason = admin.submit(url, {"days": "30"}, page=page)
    assert no_reason.status_code == 400
    assert 'id="reason-error" aria-live="polite"><p>' in no_reason.get_data(as_text=True)
    done = admin.submit(url, {"days": "30", "reason": "illness"}, page=page)
    assert done.status_code == 302
    assert cycles.get_cycle(ctx, cycle.public_id).effective_deadline == DEADLINE + timedelta(
        days=30
    )
    shown = admin.get(page).get_data(as_text=True)
    assert "The deadline moved by 30 days." in shown
    assert "<td>illness</td>" in shown


def test_staff_put_a_cycle_on_hiatus_and_reactivate_it(admin, ctx, cycle, clock):
    page = f"/admin/cycles/{cycle.public_id}"
    admin.submit(f"{page}/hiatus", {"reason": "parental leave"}, page=page)
    assert cycles.get_cycle(ctx, cycle.public_id).status == "inactive"
    assert "Reactivate" in admin.get(page).get_data(as_text=True)
    clock.now += timedelta(days=100)
    admin.submit(f"{page}/reactivate", {}, page=page)
    view = cycles.get_cycle(ctx, cycle.public_id)
    assert (view.status, view.effective_deadline) == ("active", DEADLINE + timedelta(days=100))
    again = admin.submit(f"{page}/reactivate", {}, page=page)
    assert again.status_code == 409
    assert "not on hiatus" in again.get_data(as_text=True)


def test_unknown_cycles_and_actions_are_404(admin, cycle):
    assert admin.get("/admin/cycles/nope").status_code == 404
    page = f"/admin/cycles/{cycle.public_id}"
    assert admin.submit(f"{page}/delete", {}, page=page).status_code == 404
