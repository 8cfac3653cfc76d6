"""Event -> evaluation -> award latency with 10,000 achievements defined (one core).

Run: ``.venv/bin/python bench/bench_awarding.py [events] [--database-url URL]``
(default 300 events, a throwaway SQLite file; ``URL`` must name an empty
database, e.g. ``postgresql://postgres@127.0.0.1:5432/badger_bench``).

Target (issue 5): p99 under 5 ms for event -> evaluation -> award *without
signing*.  Each figure is wall time and, below it, the CPU time of the thread
that awards (``time.thread_time``): on a shared virtual machine wall time also
counts the moments the core was busy elsewhere.  The awarding thread is
pinned to one core; SQLite's background checkpoint thread is not.  Three figures: an event that completes nothing (record + index
lookup + evaluation), an event that completes a badge with signing replaced by
a stub (the target; from new learners, then from learners seen before), and
the same with the real eight signed renderings.  Each
line also gives the SQL statements sent per event.  On PostgreSQL the
round trips per event are counted too (libpq's protocol trace; the queued
rows go with COMMIT in one query, ``badger.store.pg``), the commit query is
timed, and one more figure puts the server process on the awarding thread's
core (``pin_database_backends``), and a bare ``SELECT 1`` is timed at the
start and the end (the host's round trip then).  How fast a round trip is varies with the
host: on the 2-core development VM a bare ``select 1`` took 0.04-0.08 ms
(p99 0.1-0.26 ms) either way on 2026-12-03, on noisier days up to ~0.45 ms
between the two cores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import event
from throwaway import (
    pin_database_backends,
    pin_one_core,
    reference_workload_ms,
    throwaway_instance,
)

from badger.domain.achievements import AchievementSpec
from badger.services import awarding, catalog, issue
from badger.store import pg

ACHIEVEMENTS = 10_000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def round_trips(engine: Any, run: Callable[[], object], events: int = 20) -> float:
    """Round trips per event while ``run`` sends ``events`` events, counted by libpq's trace.

    Each round trip ends with the server's ReadyForQuery message; every
    pooled connection handed out meanwhile is traced.
    """
    traces: dict[Any, Any] = {}

    def trace(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        if dbapi_connection not in traces:
            traces[dbapi_connection] = sink = tempfile.TemporaryFile()  # noqa: SIM115
            dbapi_connection.pgconn.trace(sink.fileno())
            dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    event.listen(engine, "checkout", trace)
    try:
        run()
    finally:
        event.remove(engine, "checkout", trace)
    trips = 0
    for dbapi_connection, sink in traces.items():
        dbapi_connection.pgconn.untrace()
        sink.seek(0)
        trips += sum(1 for line in sink if line.startswith(b"B") and b"\tReadyForQuery" in line)
        sink.close()
    return trips / events


def round_trip_probe(engine: Any, n: int = 500) -> tuple[float, float]:
    """p50 and p99 (ms) of a bare ``SELECT 1`` on a pooled connection: the host's round trip now.

    An award pays several; on this VM their tail moves with the host's
    load, so the bench prints this at its start and its end.
    """
    times = []
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for _ in range(n):
            started = time.perf_counter()
            cursor.execute("SELECT 1", prepare=True)
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
        cursor.close()
        conn.rollback()
    return statistics.median(times), percentile(times, 99)


def time_in_waits(run: Callable[[], object], events: int) -> tuple[float, float, float]:
    """Per event while ``run`` sends ``events`` events: psycopg's waits for the
    server (how many, their wall time, the client CPU spent inside them).

    The wall time inside the waits is the server's work plus the round trips;
    the awarding thread's CPU outside them is the client's own share.
    """
    totals = [0, 0.0, 0.0]
    real_wait = psycopg.Connection.wait

    def wait(self: Any, *args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return real_wait(self, *args, **kwargs)
        finally:
            totals[0] += 1
            totals[1] += (time.perf_counter() - started) * 1000
            totals[2] += (time.thread_time() - cpu) * 1000

    psycopg.Connection.wait = wait  # type: ignore[method-assign]
    try:
        run()
    finally:
        psycopg.Connection.wait = real_wait  # type: ignore[method-assign]
    return totals[0] / events, totals[1] / events, totals[2] / events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="?", type=int, default=300)
    parser.add_argument("--database-url", help="an empty database instead of SQLite")
    args = parser.parse_args()
    events = args.events
    ctx = throwaway_instance(with_ethics=False, database_url=args.database_url)
    # The awarding thread on one core, pinned after the instance opened its
    # database: SQLite's checkpoint thread (badger.store.checkpoint), started
    # with the first connection, keeps every core, as in a deployment where
    # it runs beside the web workers and off their request path.
    pin_one_core()
    print(f"database: {ctx.engine.dialect.name}")
    speed_before = reference_workload_ms()
    on_postgresql = ctx.engine.dialect.name == "postgresql"
    probe_before = round_trip_probe(ctx.engine) if on_postgresql else None
    pinned = False
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    event.listen(ctx.engine, "before_cursor_execute", count)
    commits: list[float] = []
    real_commit_with = pg.commit_with

    def timed_commit(*args: Any) -> None:
        started = time.perf_counter()
        try:
            real_commit_with(*args)
        finally:
            commits.append((time.perf_counter() - started) * 1000)

    pg.commit_with = timed_commit  # type: ignore[assignment]
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
    # As a web worker does after start-up: the rule index built (then cached
    # until definitions change) and the long-lived heap frozen out of the GC.
    awarding.warm_up(ctx)

    def timed(
        n: int, score: int, prefix: str, learners: int = 0, *, idle: bool = False, first: int = 0
    ) -> tuple[list[float], list[float], float]:
        """``n`` events; from new learners, or from the first ``learners`` seen before.

        ``idle``: as if each came after a pause longer than the rule index's
        recheck interval (events arriving less often than every two seconds),
        so each one reads the catalog version before it is evaluated.
        ``first``: the achievement the first event completes (the k-th event
        completes achievement ``first + k``), so that learners seen before
        are sent events for achievements they do not hold yet.
        """
        out, cpu = [], []
        statements[0] = 0
        for k in range(n):
            if idle:
                ctx.extras["rule_index"].checked_at -= awarding.INDEX_RECHECK_SECONDS
            who = f"known{k % learners}" if learners else f"{prefix}{k}"
            payload = {
                "recipient": f"{who}@example.org",
                "kind": f"course-{(first + k) % ACHIEVEMENTS}.completed",
                "data": {"score": score},
            }
            t, c = time.perf_counter(), time.thread_time()
            awarding.record_event(
                ctx, payload, idempotency_key=f"{prefix}{k}", source="bench", actor="bench"
            )
            out.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
        return out, cpu, statements[0] / n

    def report(name: str, result: tuple[list[float], list[float], float]) -> None:
        values, cpu, per_event = result
        print(
            f"{name:52} p50 {statistics.median(values):6.2f} ms   "
            f"p99 {percentile(values, 99):6.2f} ms   {per_event:4.1f} statements\n"
            f"{'  the same in CPU time of the awarding thread':52} "
            f"p50 {statistics.median(cpu):6.2f} ms   p99 {percentile(cpu, 99):6.2f} ms"
        )

    timed(min(events, 20), 10, "warm")  # connections, statement caches
    report("event that completes nothing", timed(events, 10, "none"))
    # Learners an LMS has sent events for before (each earns a few badges here).
    known = max(events // 4, 1)
    timed(known, 10, "known-first")
    real_render = issue.render
    formats = getattr(issue, "AWARD_FORMATS", tuple(issue.FORMATS))
    issue.render = lambda *a, **k: dict.fromkeys(formats, b"-")  # type: ignore[assignment]
    try:
        commits.clear()
        stubbed = timed(events, 90, "stub")
        report("event -> award, signing stubbed (target p99 < 5 ms)", stubbed)
        if commits:  # PostgreSQL: the queued rows and COMMIT, one query
            print(
                f"{'  of which the commit query (WAL flush included)':52} "
                f"p50 {statistics.median(commits):6.2f} ms   p99 {percentile(commits, 99):6.2f} ms"
            )
        report("  the same, learners seen before", timed(events, 90, "stub-known", known))
        report("  the same, each after an idle pause", timed(events, 90, "stub-idle", idle=True))
        # By now each of these achievements was awarded three times: the
        # copy of its row its first award made is kept with the rule index
        # (awarding.achievement_row); a first award makes it from what the
        # index read, without a query.
        report(
            "  the same, achievements awarded before",
            timed(events, 90, "stub-repeat"),
        )
        if on_postgresql:
            print(
                f"  round trips to PostgreSQL per event, new learners: "
                f"{round_trips(ctx.engine, lambda: timed(20, 90, 'trips')):.1f}; "
                f"learners seen before: "
                f"{round_trips(ctx.engine, lambda: timed(20, 90, 'trips-known', known, first=events)):.1f}"
                "  (libpq's protocol trace, 20 untimed events each)"
            )
            stub_cpu = statistics.mean(stubbed[1])  # the same events, unwrapped
            n_waits, in_waits, cpu_in_waits = time_in_waits(
                lambda: timed(events, 90, "waits-timed"), events
            )
            print(
                f"  waiting for PostgreSQL per award: {n_waits:.1f} waits, {in_waits:.2f} ms "
                f"(server work and round trips; {cpu_in_waits:.2f} ms of it client CPU); "
                f"client CPU outside the waits {stub_cpu - cpu_in_waits:.2f} ms (means)"
            )
            pinned = pin_database_backends(ctx.engine)
            if pinned:
                timed(min(events, 20), 10, "pinned-warm")
                report(
                    "  the same, PostgreSQL's server process on this core",
                    timed(events, 90, "stub-pinned"),
                )
            else:
                print("  (PostgreSQL's server process could not be pinned to this core)")
    finally:
        issue.render = real_render  # type: ignore[assignment]
    report("event -> award with 8 signed renderings", timed(max(events // 3, 30), 90, "real"))
    print(
        f"host speed: a reference workload took {speed_before:.1f} ms of CPU at the start, "
        f"{reference_workload_ms():.1f} ms at the end (lower is faster; apart: an unsteady host)"
    )
    if probe_before is not None:
        after = round_trip_probe(ctx.engine)
        print(
            "round trip to PostgreSQL (bare SELECT 1, 500 times): "
            f"p50 {probe_before[0]:.3f} / p99 {probe_before[1]:.3f} ms at the start, "
            f"p50 {after[0]:.3f} / p99 {after[1]:.3f} ms at the end"
            + (" (by then the server process shares this core)" if pinned else "")
        )


if __name__ == "__main__":
    main()
