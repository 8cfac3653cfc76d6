"""axe-core's WCAG 2.1 A/AA rules on every page type, as a visitor, a learner and an admin.

Each page is also watched for console errors and CSP violations (the ``page``
fixture), so this doubles as the "every page loads cleanly" check.
"""

from __future__ import annotations

import pytest

from tests.browser import live
from tests.browser.a11y import assert_accessible, violations
from tests.browser.conftest import sign_in

ANONYMOUS = [
    "/",
    "/login",
    "/signup",
    "/password/forgot",
    "/verify",
    "/verify?url={credential_url}",
    "/issuers/default",
    "/achievements/{achievement_id}",
    "/credentials/{award_id}",
]
LEARNER = [
    "/account",
    "/dashboard",
    "/account/identifiers",
    "/submit/evidence",
    "/submit/activity",
    "/submit/proposal",
    "/badges/{award_id}",
]
ADMIN = [
    "/admin/",
    "/admin/keys",
    "/admin/achievements",
    "/admin/achievements/new",
    "/admin/achievements/{achievement_id}",
    "/admin/review",
    "/admin/awards/new",
    "/admin/awards",
    "/admin/awards/{award_id}",
    "/admin/bulk",
    "/admin/policies",
    "/admin/reports",
]


def _fill(path, live_server):
    award_id = live_server.award_id
    return path.format(
        award_id=award_id,
        credential_url=live_server.page(f"/credentials/{award_id}"),
        achievement_id=_achievement_id(live_server),
    )


def _achievement_id(live_server):
    from sqlalchemy import select

    from badger.store.models import Achievement

    with live_server.context.uow() as uow:
        return uow.session.scalar(
            select(Achievement.public_id).where(Achievement.slug == live.SHOWCASE_ACHIEVEMENT)
        )


def _open(page, path):
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    page.wait_for_load_state("load")


@pytest.mark.parametrize("path", ANONYMOUS)
def test_public_pages_meet_wcag_21_aa(page, live_server, path):
    _open(page, _fill(path, live_server))
    assert_accessible(page, path)


@pytest.mark.parametrize("path", LEARNER)
def test_learner_pages_meet_wcag_21_aa(as_learner, live_server, path):
    _open(as_learner, _fill(path, live_server))
    assert_accessible(as_learner, path)


@pytest.mark.parametrize("path", ADMIN)
def test_admin_pages_meet_wcag_21_aa(as_admin, live_server, path):
    _open(as_admin, _fill(path, live_server))
    assert_accessible(as_admin, path)


def test_a_form_showing_its_errors_meets_wcag_21_aa(page, problems):
    page.goto("/login")
    page.get_by_label("Email").fill("someone@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.get_by_text("Email or password is not right.").is_visible()
    problems.expected("401")  # the failed sign-in answers 401, which chromium logs
    assert_accessible(page, "the sign-in form with an error")


def test_the_error_page_meets_wcag_21_aa(page, problems):
    response = page.goto("/no/such/page")
    assert response is not None
    assert response.status == 404
    problems.expected("404")  # chromium logs the 404 it was asked to load
    assert_accessible(page, "the 404 page")


def test_pages_fit_a_phone_screen_without_sideways_scrolling(browser, live_server):
    phone = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = phone.new_page()
        sign_in(page, live.LEARNER_EMAIL, live.LEARNER_PASSWORD)
        credential = live_server.page(f"/credentials/{live_server.award_id}")
        for path in [
            "/",
            "/verify",
            f"/verify?url={credential}",
            f"/credentials/{live_server.award_id}",
            "/dashboard",
            f"/badges/{live_server.award_id}",
        ]:
            page.goto(path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} is {overflow}px wider than a phone screen"
    finally:
        phone.close()


def test_the_check_itself_catches_a_missing_label_and_low_contrast(page):
    """The helper is not vacuous: a page with known faults fails it."""
    page.set_content(
        "<!doctype html><html lang=en><head><title>faulty</title></head><body><main>"
        "<h1>Faulty</h1><input type=text name=q>"
        "<p style='color:#bbb;background:#fff'>faint text</p></main></body></html>"
    )
    rules = {v["id"] for v in violations(page)}
    assert {"label", "color-contrast"} <= rules
