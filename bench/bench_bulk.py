"""Bulk issue throughput and peak memory on one core (every award in all eight formats).

Run: ``.venv/bin/python bench/bench_bulk.py [rows]`` (default 2,000; the issue's
memory target is stated for 100,000 rows: ``bench_bulk.py 100000`` takes about
20 minutes here).  Prints rows validated per second, awards issued per second
and peak RSS; the target is peak memory under 300 MiB.
"""

from __future__ import annotations

import resource
import sys
import time

from throwaway import pin_one_core, throwaway_instance

from badger.services import bulk


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    pin_one_core()
    ctx = throwaway_instance()
    lines = ["recipient,achievement,name"] + [
        f"learner{i}@example.org,ethics,Learner {i}" for i in range(rows)
    ]
    content = ("\n".join(lines) + "\n").encode()
    start = time.perf_counter()
    parsed = bulk.parse_csv(ctx, content)
    validated = time.perf_counter()
    job = bulk.create_job(ctx, filename="bench.csv", content=content, parsed=parsed, actor="bench")
    del parsed, content, lines  # the job holds the rows now (as the CLI does)
    done = bulk.run_job(ctx, job.public_id, chunk=100)
    finished = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rows:,} rows: validated {rows / (validated - start):,.0f} rows/s")
    print(
        f"issued {done.issued:,} awards (8 formats each) at {done.issued / (finished - validated):,.0f}/s"
    )
    print(f"peak RSS {peak:,.0f} MiB (target < 300 MiB for 100,000 rows)")


if __name__ == "__main__":
    main()
