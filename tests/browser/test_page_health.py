"""Pages load without console errors, uncaught exceptions or CSP violations."""

from __future__ import annotations

from tests.browser import live
from tests.browser.conftest import sign_in

PUBLIC = ["/", "/login", "/signup", "/password/forgot", "/verify", "/issuers/default"]
SIGNED_IN = ["/dashboard", "/account", "/submit/evidence", "/admin/", "/admin/bulk"]


def test_public_pages_load_cleanly(page, problems, live_server):
    paths = [*PUBLIC, f"/credentials/{live_server.award_id}"]
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        page.wait_for_load_state("load")
    assert problems.csp_violations == []
    assert problems.all() == []


def test_signed_in_pages_with_scripts_load_cleanly(page, problems):
    sign_in(page, live.ADMIN_EMAIL, live.ADMIN_PASSWORD)
    for path in SIGNED_IN:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert problems.csp_violations == []
    assert problems.all() == []


def test_every_stylesheet_and_script_comes_from_the_site(page, live_server):
    page.goto("/")
    sources = page.evaluate(
        "[...document.querySelectorAll('link[rel=stylesheet], script[src]')]"
        ".map(e => e.href || e.src)"
    )
    assert sources
    assert all(src.startswith(live_server.url + "/static/") for src in sources), sources
    inline = page.evaluate("document.querySelectorAll('script:not([src]), style, [style]').length")
    assert inline == 0


def test_the_watch_catches_a_csp_violation(page, problems):
    """The harness is not vacuous: an inline script is refused and reported."""
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.pwned = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.pwned === undefined")
    assert problems.csp_violations, "chromium reported no CSP violation"
    problems.console.clear()  # provoked on purpose
