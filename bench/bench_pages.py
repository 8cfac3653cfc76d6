"""Page throughput under gunicorn: the public badge page and /verify of an own credential.

Run: ``.venv/bin/python bench/bench_pages.py [seconds-per-url]`` (default 10).

Targets (issue 7): >= 1,000 requests/s with p99 <= 50 ms on 2 cores, for
``GET /credentials/<award>`` (the HTML page) and ``GET /verify?url=<that
credential>`` (a full itemised verification, rendered).  The load tool is
``wrk`` (Debian: ``apt-get install wrk``); without it the script says so and
stops.  badger runs as in production: ``gunicorn -w 2`` on 127.0.0.1 in front
of ``badger.wsgi:application()``, SQLite in a throwaway instance loaded with
``badger demo`` and one issued badge.  The rate limiter stays on (its
per-request cost is part of the figure) with the verify budget raised, since
one wrk client would otherwise be throttled after 60 requests.

Also checked, once, before the load: stored documents carry ``ETag`` and
``Cache-Control`` and a conditional GET answers 304.  Figures are printed;
nothing asserts (a shared machine makes timings noisy).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

TARGET_RPS = 1_000
TARGET_P99_MS = 50.0
WORKERS = 2
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode} before answering")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - our own loopback server
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"gunicorn did not answer {url}")


def _check_caching(credential_url: str) -> None:
    """ETag, Cache-Control and 304 on a stored document (the signed OB 3.0 credential)."""
    document = credential_url + "/ob3-ldp.json"
    with urllib.request.urlopen(document) as response:  # noqa: S310 - loopback
        etag = response.headers.get("ETag")
        cache = response.headers.get("Cache-Control")
    request = urllib.request.Request(document, headers={"If-None-Match": etag or '"none"'})  # noqa: S310
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
            status = response.status
    except urllib.error.HTTPError as exc:  # urllib raises for 304
        status = exc.code
    ok = bool(etag) and bool(cache) and status == 304
    print(
        f"stored document caching: ETag {etag}, Cache-Control {cache!r}, "
        f"conditional GET -> {status} ({'ok' if ok else 'NOT OK'})"
    )


def _parse_latency_ms(text: str) -> float:
    value = float(re.sub(r"[a-z]+$", "", text))
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("s"):
        return value * 1000
    return value


def _wrk(url: str, seconds: int) -> tuple[float, float, str]:
    result = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _parse_latency_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    spread = ", ".join(
        f"p{q} {_parse_latency_ms(v):.1f} ms"
        for q, v in re.findall(r"^\s+(50|90)%\s+(\S+)", out, re.M)
    )
    notes = [spread] + ([f"{errors.group(1)} non-2xx answers"] if errors else [])
    return rps, p99, "; ".join(notes)


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    if shutil.which("wrk") is None:
        print("bench_pages: skipped, the load tool wrk is not installed (apt-get install wrk)")
        return
    home = Path(tempfile.mkdtemp(prefix="badger-bench-pages-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BADGER_")},
        "BADGER_INSTANCE_DIR": str(home / "i"),
        "BADGER_KEYS_DIR": str(home / "k"),
        "BADGER_BASE_URL": base,
        "BADGER_LOG_LEVEL": "WARNING",
        "BADGER_RATE_LIMITS": "verify=100000000/minute",
    }
    # BADGER_PAGE_CACHE_SECONDS=0 measures the pages without the anonymous page cache.
    if "BADGER_PAGE_CACHE_SECONDS" in os.environ:
        env["BADGER_PAGE_CACHE_SECONDS"] = os.environ["BADGER_PAGE_CACHE_SECONDS"]
    bindir = Path(sys.executable).parent

    def cli(*args: str) -> str:
        return subprocess.run(
            [str(bindir / "badger"), *args],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    cli("demo", "--admin-password", "correct horse battery")
    issued = json.loads(cli("issue", "ethics-disclosure", "ada@example.org", "--json"))
    credential_url = f"{base}/credentials/{issued['id']}"
    server = subprocess.Popen(
        [
            str(bindir / "gunicorn"),
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "badger.wsgi:application()",
        ],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(f"{base}/healthz", server)
        _check_caching(credential_url)
        pages = {
            "public badge page": credential_url,
            "verify own credential": f"{base}/verify?url={urllib.parse.quote(credential_url)}",
        }
        print(
            f"gunicorn -w {WORKERS}, wrk -t2 -c{CONNECTIONS} -d{seconds}s on {os.cpu_count()} cores"
            f" (targets >= {TARGET_RPS:,} req/s, p99 <= {TARGET_P99_MS:.0f} ms)"
        )
        for name, url in pages.items():
            urllib.request.urlopen(url).read()  # noqa: S310 - warm both workers' caches
            rps, p99, errors = _wrk(url, seconds)
            met = rps >= TARGET_RPS and p99 <= TARGET_P99_MS
            print(
                f"{name}: {rps:,.0f} req/s, p99 {p99:.1f} ms -> {'met' if met else 'NOT met'}"
                + (f" ({errors})" if errors else "")
            )
    finally:
        server.terminate()
        server.wait(20)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
