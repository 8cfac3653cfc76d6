"""Screenshots of badger's main pages, for the README (not test assertions).

Run from the repository root: ``.venv/bin/python scripts/screenshots.py [OUT]``
(default ``docs/screenshots/``).  It starts the browser tests' live server (a
fresh demo instance on 127.0.0.1, see ``tests/browser/live.py``), adds a little
activity so the pages have something to show (a submission waiting for review,
an approved one), and saves PNGs with Debian's chromium (``/usr/bin/chromium``,
``apt-get install chromium``) through Playwright: each page at desktop width
and the pages a learner opens on the move at a phone's width too.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import live  # noqa: E402

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# (file name, who, path, also on a phone)
PAGES: list[tuple[str, str | None, str, bool]] = [
    ("home", None, "/", True),
    ("sign-in", None, "/login", False),
    ("badge-page", None, "/credentials/{award}", True),
    ("verify-result", None, "/verify?url={credential_url}", True),
    ("issuer", None, "/issuers/default", False),
    ("dashboard", "learner", "/dashboard", True),
    ("submit-evidence", "learner", "/submit/evidence", True),
    ("share", "learner", "/badges/{award}", True),
    ("admin-overview", "admin", "/admin/", False),
    ("admin-achievement-form", "admin", "/admin/achievements/new", False),
    ("admin-review-queue", "admin", "/admin/review", False),
    ("admin-bulk-upload", "admin", "/admin/bulk", False),
    ("admin-policies", "admin", "/admin/policies", False),
    ("admin-reports", "admin", "/admin/reports", False),
]


def _some_activity(server: live.LiveServer) -> None:
    """A submission waiting in the review queue, so the queue and dashboard are not empty."""
    from badger.services import accounts, review

    view = accounts.find_account(server.context, "grace@example.org")
    review.submit_evidence(
        server.context,
        learner_public_id=view.learner_public_id,
        achievement="audience-research",
        url="https://portfolio.example.org/grace/audience-study",
        narrative="My audience study for a regional museum, with the survey and interviews.",
        actor=f"account:{view.public_id}",
    )


def _sign_in(
    browser: Any, server: live.LiveServer, who: str | None, viewport: dict[str, int], **kw: Any
) -> Any:
    ctx = browser.new_context(base_url=server.url, viewport=viewport, **kw)
    if who is not None:
        email, password = {
            "learner": (live.LEARNER_EMAIL, live.LEARNER_PASSWORD),
            "admin": (live.ADMIN_EMAIL, live.ADMIN_PASSWORD),
        }[who]
        page = ctx.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        page.close()
    return ctx


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    if not live.CHROMIUM.is_file():
        sys.exit(
            f"screenshots need Debian's chromium at {live.CHROMIUM} (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    server = live.start_live_server(Path(tempfile.mkdtemp(prefix="badger-shots-")))
    try:
        _some_activity(server)
        values = {
            "award": server.award_id,
            "credential_url": server.page(f"/credentials/{server.award_id}"),
        }
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(live.CHROMIUM), headless=True, args=live.CHROMIUM_ARGS
            )
            contexts: dict[tuple[str | None, str], Any] = {}
            for name, who, path, on_phone in PAGES:
                for kind, viewport in [("desktop", DESKTOP), ("phone", PHONE)]:
                    if kind == "phone" and not on_phone:
                        continue
                    key = (who, kind)
                    if key not in contexts:
                        extra = (
                            {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
                            if kind == "phone"
                            else {}
                        )
                        contexts[key] = _sign_in(browser, server, who, viewport, **extra)
                    page = contexts[key].new_page()
                    response = page.goto(path.format(**values))
                    status = response.status if response is not None else "?"
                    target = out / f"{name}-{kind}.png"
                    page.screenshot(path=str(target), full_page=True)
                    page.close()
                    print(
                        f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  ({path}, {status})"
                    )
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
