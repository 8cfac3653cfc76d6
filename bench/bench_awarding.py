"""Event -> evaluation -> award latency with 10,000 achievements defined (one core).

Run: ``.venv/bin/python bench/bench_awarding.py [events]`` (default 300).

Target (issue 5): p99 under 5 ms for event -> evaluation -> award *without
signing*.  Three figures: an event that completes nothing (record + index
lookup + evaluation), an event that completes a badge with signing replaced by
a stub (the target), and the same with the real eight signed renderings.
"""

from __future__ import annotations

import statistics
import sys
import time

from instance import pin_one_core, throwaway_instance

from badger.domain.achievements import AchievementSpec
from badger.services import awarding, catalog, issue

ACHIEVEMENTS = 10_000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    pin_one_core()
    ctx = throwaway_instance(with_ethics=False)
    specs = [
        AchievementSpec(
            slug=f"unit-{i}",
            name=f"Unit {i}",
            description="d",
            criteria_narrative="c",
            rules={
                "event": f"course-{i}.completed",
                "where": [{"field": "score", "op": "gte", "value": 80}],
            },
        )
        for i in range(ACHIEVEMENTS)
    ]
    started = time.perf_counter()
    catalog.create_achievements(ctx, issuer_slug="default", specs=specs, actor="bench")
    print(f"{ACHIEVEMENTS:,} achievements defined in {time.perf_counter() - started:.1f} s")
    with ctx.uow() as uow:
        awarding.rule_index(ctx, uow)  # built once, then cached until definitions change

    def timed(n: int, score: int, prefix: str) -> list[float]:
        out = []
        for k in range(n):
            payload = {
                "recipient": f"{prefix}{k}@example.org",
                "kind": f"course-{k % ACHIEVEMENTS}.completed",
                "data": {"score": score},
            }
            t = time.perf_counter()
            awarding.record_event(
                ctx, payload, idempotency_key=f"{prefix}{k}", source="bench", actor="bench"
            )
            out.append((time.perf_counter() - t) * 1000)
        return out

    def report(name: str, values: list[float]) -> None:
        print(
            f"{name:44} p50 {statistics.median(values):6.2f} ms   p99 {percentile(values, 99):6.2f} ms"
        )

    report("event that completes nothing", timed(events, 10, "none"))
    real_render = issue.render
    issue.render = lambda *a, **k: dict.fromkeys(issue.FORMATS, b"-")  # type: ignore[assignment]
    try:
        report("event -> award, signing stubbed (target p99 < 5 ms)", timed(events, 90, "stub"))
    finally:
        issue.render = real_render  # type: ignore[assignment]
    report("event -> award with 8 signed renderings", timed(max(events // 3, 30), 90, "real"))


if __name__ == "__main__":
    main()
