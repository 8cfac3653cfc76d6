"""axe-core in the browser: WCAG 2.1 A/AA rules on a rendered page.

axe-core ships inside the axe-playwright-python wheel (nothing is downloaded);
it is injected through the DevTools protocol, which the page's CSP does not
govern, so the check sees the page exactly as served.
"""

from __future__ import annotations

from typing import Any

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations of the WCAG 2.1 A/AA rules on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]},
    )
    return list(results.response.get("violations", []))


def describe(found: list[dict[str, Any]]) -> str:
    """One readable paragraph per rule: what failed, why it matters, where."""
    lines = []
    for rule in found:
        lines.append(f"- {rule['id']} ({rule.get('impact')}): {rule['help']}  [{rule['helpUrl']}]")
        for node in rule.get("nodes", [])[:8]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {node.get('html', '')[:160]}")
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(rule.get("nodes", [])) > 8:
            lines.append(f"    … and {len(rule['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page: Any, what: str) -> None:
    found = violations(page)
    assert not found, f"accessibility violations on {what} ({page.url}):\n{describe(found)}"
