"""End-to-end journeys in a real browser, each person in a browser context of their own.

* an admin defines an achievement and a renewal policy → a learner submits
  evidence → a reviewer approves → the badge is on the learner's dashboard
  with the renewal progress updated → the learner shares it → an anonymous
  visitor verifies it on /verify and reads "valid";
* a badge sent to an address without an account is claimed from the e-mail's
  link (read from the file outbox);
* a bulk CSV upload with a bad row names the row and issues nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _counted_credits(page) -> tuple[float, float]:
    """'N of M credits' of the first renewal card on the dashboard."""
    text = page.locator("#renewal-heading + *").inner_text()
    match = re.search(r"([\d.]+) of ([\d.]+) credits", text)
    assert match, f"no renewal progress on the dashboard: {text!r}"
    return float(match.group(1)), float(match.group(2))


def _flash(page) -> str:
    return page.locator(".flash").inner_text()


def test_achievement_to_verified_badge(browse, live_server):
    slug = _unique("journey-ethics")
    name = f"Ethics in Practice {slug[-6:]}"

    # 1. The admin defines the achievement: 2 CEU of ethics, awarded on approved evidence.
    admin = browse("admin")
    admin.goto("/admin/achievements/new")
    admin.get_by_label("Slug", exact=True).fill(slug)
    admin.get_by_label("Name", exact=True).fill(name)
    admin.get_by_label("Description", exact=True).fill("Applying the code of ethics to real cases.")
    admin.get_by_label("Criteria", exact=True).fill("Write up one case you handled.")
    admin.get_by_label("Credits (CEU)").fill("2")
    admin.get_by_label("Credit category").fill("ethics")
    admin.get_by_label("Awarded when a reviewer approves evidence").check()
    with admin.expect_navigation():
        admin.get_by_role("button", name="Create achievement").click()
    assert f"Achievement “{name}” was created." in _flash(admin)

    # ... and a renewal policy, saved as a new version from the policy editor.
    policy = json.loads((ROOT / "examples" / "csms-policy.json").read_text())
    policy["key"] = _unique("journey-policy")
    admin.goto("/admin/policies")
    admin.get_by_label("Renewal policy (JSON)").fill(json.dumps(policy, indent=2))
    with admin.expect_navigation():
        admin.get_by_role("button", name="Save as a new policy version").click()
    assert f"as {policy['key']} version 1." in _flash(admin)
    assert admin.get_by_role("cell", name=policy["key"], exact=True).is_visible()

    # 2. The learner submits evidence for it.
    learner = browse("learner")
    learner.goto("/dashboard")
    before, required = _counted_credits(learner)
    learner.get_by_role("link", name="Submit evidence").first.click()
    learner.get_by_label("Achievement").select_option(slug)
    learner.get_by_label("Link to your evidence").fill("https://portfolio.example.org/ada/ethics")
    learner.get_by_label("Written reflection").fill("The disclosure case from March.")
    with learner.expect_navigation():
        learner.get_by_role("button", name="Send for review").click()
    assert f"Evidence for “{name}” is waiting for review." in _flash(learner)
    assert learner.get_by_role("row", name=re.compile(name)).get_by_text("submitted").is_visible()

    # 3. A reviewer approves it from the queue.
    admin.goto("/admin/review")
    admin.get_by_role("link", name=name).click()
    admin.get_by_label("Approve").check()
    admin.get_by_label("Comment to the learner").fill("A clear write-up.")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Record the decision").click()
    assert "Submission approved. 1 badge(s) awarded." in _flash(admin)

    # 4. The badge is on the dashboard and the renewal progress counts its 2 CEU.
    learner.goto("/dashboard")
    card = learner.locator(".badge-card", has_text=name)
    assert card.get_by_text("active").is_visible()
    after, _ = _counted_credits(learner)
    assert after == min(before + 2, required)

    # 5. The learner opens the share page and takes the public link.
    # Wait for the page: is_visible() answers at once, mid-navigation.
    with learner.expect_navigation():
        card.get_by_role("link", name=name).click()
    assert learner.get_by_role("heading", name=name, level=1).is_visible()
    assert learner.get_by_role("link", name="Add to LinkedIn profile").is_visible()
    public_url = learner.get_by_role("link", name=re.compile("^Badge page:")).get_attribute("href")
    assert public_url
    assert public_url.startswith(live_server.url + "/credentials/")

    # 6. An anonymous visitor opens it and verifies it.
    visitor = browse(None)
    visitor.goto(public_url)
    assert visitor.get_by_role("heading", name=name, level=1).is_visible()
    with visitor.expect_navigation():
        visitor.get_by_role("link", name="Verify this badge").click()
    assert "/verify?url=" in visitor.url
    result = visitor.get_by_role("heading", name=re.compile("^Result:"))
    assert result.inner_text() == "Result: valid"
    assert visitor.get_by_role("cell", name="✓ passed").count() >= 3

    # ... and by pasting the URL into the form.
    visitor.goto("/verify")
    visitor.get_by_label("or its URL").fill(public_url)
    with visitor.expect_navigation():
        visitor.get_by_role("button", name="Verify").click()
    assert visitor.get_by_role("heading", name=re.compile("^Result:")).inner_text() == (
        "Result: valid"
    )


def test_a_badge_sent_to_a_new_address_is_claimed_from_the_email_link(
    browse, live_server, problems
):
    address = f"{_unique('grace-personal')}@example.org"
    admin = browse("admin")
    admin.goto("/admin/awards/new")
    admin.get_by_label("Achievement").select_option("content-calendar-basics")
    admin.get_by_label("Recipient", exact=True).fill(address)
    admin.get_by_label("Recipient's name").fill("Grace Analyst")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Award").click()
    assert f"Awarded to {address}." in _flash(admin)

    links = live_server.links_in_mail(address, "/claim/")
    assert len(links) == 1, f"expected one claim link mailed to {address}, got {links}"

    grace = browse("grace")
    grace.goto(links[0])
    assert grace.get_by_role("heading", name="Claim your badge").is_visible()
    with grace.expect_navigation():
        grace.get_by_role("button", name="Claim it").click()
    assert "/credentials/" in grace.url
    assert f"“Content Calendar Basics” is now in your account ({address})." in _flash(grace)
    grace.goto("/dashboard")
    assert grace.locator(".badge-card", has_text="Content Calendar Basics").is_visible()

    # The link works once.
    grace.goto(links[0])
    with grace.expect_response(lambda r: r.request.method == "POST") as used:
        grace.get_by_role("button", name="Claim it").click()
    assert used.value.status == 409
    problems.expected("409")  # chromium logs the refusal it was shown
    assert grace.get_by_role("heading", name="Claim your badge").count() == 0
    assert grace.get_by_text(re.compile("already|used|claimed", re.I)).first.is_visible()


def test_a_bulk_upload_with_a_bad_row_names_the_row_and_issues_nothing(
    browse, live_server, problems
):
    good = f"{_unique('bulk-ok')}@example.org"
    rows = f"recipient,achievement\n{good},ethics-disclosure\nnot-an-address,ethics-disclosure\n"
    admin = browse("admin")
    admin.goto("/admin/bulk")
    admin.get_by_label("CSV file").set_input_files(
        files=[{"name": "awards.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    with admin.expect_navigation():
        admin.get_by_role("button", name="Check and issue").click()
    problems.expected("400")  # the page with the row errors answers 400, which chromium logs
    assert admin.get_by_role("heading", name="1 problem(s) found; nothing was issued").is_visible()
    row = admin.get_by_role("row").filter(has=admin.get_by_role("cell", name="3", exact=True))
    assert row.get_by_role("cell", name="recipient", exact=True).is_visible()
    assert live_server.mails(good) == []
    admin.goto(f"/admin/awards?recipient={good}")
    assert admin.get_by_text("ethics-disclosure").count() == 0
