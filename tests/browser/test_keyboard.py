"""Keyboard only: sign in and submit evidence with Tab, typing and Enter, focus always visible."""

from __future__ import annotations

from typing import Any

from tests.browser import live

# What the focused element is, and whether a sighted keyboard user can see where focus is.
FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const label = (el.labels && el.labels[0] ? el.labels[0].innerText : '')
    || el.getAttribute('aria-label') || el.innerText || el.value || '';
  return {
    tag: el.tagName.toLowerCase(),
    label: label.trim().replace(/\\s+/g, ' '),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < innerWidth,
  };
}"""


def tab_to(page: Any, wanted: str, *, limit: int = 60) -> dict[str, Any]:
    """Press Tab until the focused element's label starts with ``wanted``.

    Every stop on the way must show a visible focus indicator on screen.
    """
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            continue
        seen.append(focus["label"][:40])
        assert focus["outline"], f"focus on {focus} is not visibly marked"
        assert focus["onScreen"], f"focus on {focus} is off screen"
        if focus["label"].startswith(wanted):
            return focus
    raise AssertionError(f"Tab never reached {wanted!r}; stops were {seen}")


def test_a_learner_submits_evidence_with_the_keyboard_alone(context, problems):
    page = context.new_page()
    problems.watch(page)
    page.goto("/")

    # The first Tab reaches the skip link, shown on focus.
    skip = tab_to(page, "Skip to content", limit=1)
    assert skip["tag"] == "a"

    tab_to(page, "Sign in")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "Email")
    page.keyboard.type(live.OTHER_LEARNER_EMAIL)
    tab_to(page, "Password", limit=1)
    page.keyboard.type(live.LEARNER_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/dashboard")

    tab_to(page, "Submit evidence")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/submit/evidence")

    focus = tab_to(page, "Achievement")
    assert focus["tag"] == "select"
    page.keyboard.type("Audience Research")  # type-ahead picks the option
    assert page.get_by_label("Achievement").input_value() == "audience-research"
    tab_to(page, "Link to your evidence", limit=1)
    page.keyboard.type("https://portfolio.example.org/grace/audience")
    tab_to(page, "Written reflection", limit=1)
    page.keyboard.type("Survey of 40 followers and five interviews.")
    tab_to(page, "Send for review")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url.endswith("/dashboard")
    assert "Evidence for “Audience Research Methods” is waiting for review." in (
        page.locator(".flash").inner_text()
    )
    assert problems.all() == []
    context.close()


def test_every_control_on_the_evidence_form_shows_focus(as_learner):
    page = as_learner
    page.goto("/submit/evidence")
    stops = 0
    for _ in range(40):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            break
        stops += 1
        assert focus["outline"], f"focus on {focus} is not visibly marked"
    assert stops >= 6  # skip link, navigation, the form's fields and its button
