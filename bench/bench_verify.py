"""Verification throughput on one core, and badger against the 1EdTech validator-core.

Run: ``.venv/bin/python bench/bench_verify.py [seconds-per-figure]``.

Targets (issue 4): VC-JWT >= 2,000/s, OB 3.0 Data Integrity >= 1,500/s, OB 2.0
signed >= 5,000/s, and badger at least 20x faster than validator-core on the
same OB 2.0 inputs.  Two figures per format: the proof alone (what the targets
measure) and the whole itemised report (issuer documents resolved, status
lists read and verified, recipient matched).  validator-core runs in its own
virtualenv (tests/interop), so its figure includes starting its process, as
any caller of it pays; the ratio is printed, nothing asserts.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from throwaway import pin_one_core, throwaway_instance  # noqa: E402

from badger.proofs.di_eddsa_rdfc_2022 import resolve_did_key, verify_proof  # noqa: E402
from badger.proofs.jws import verify_compact_jws  # noqa: E402
from badger.proofs.keystore import KeyAlgorithm  # noqa: E402
from badger.proofs.vc_jwt import verify_vc_jwt  # noqa: E402
from badger.services.issue import IssueRequest, get_document, issue_award  # noqa: E402
from badger.services.verification import verify_input  # noqa: E402


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    # The verifier reads unverified JWS payloads to learn which keys to fetch and
    # logs each such read; thousands of them would drown the figures.
    logging.getLogger("badger.proofs.jws").setLevel(logging.ERROR)
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    pin_one_core()
    ctx = throwaway_instance()
    award = issue_award(ctx, IssueRequest("ethics", "ada@example.org"), actor="bench")
    docs = {
        fmt: get_document(ctx, award.public_id, fmt).content
        for fmt in ("ob3-ldp", "ob3-jwt", "ob2-signed")
    }
    ldp = json.loads(docs["ob3-ldp"])
    jwt_token = docs["ob3-jwt"].decode()
    jws = docs["ob2-signed"].decode()
    rsa_pem = ctx.keystore.active_key("default", KeyAlgorithm.RS256).public_pem
    jwt_pem = ctx.keystore.active_key("default", ctx.settings.vc_jwt_alg).public_pem
    now = ctx.now()

    print(f"one core, {seconds:g} s per figure")
    rows = [
        (
            "OB 3.0 VC-JWT",
            lambda: verify_vc_jwt(jwt_token, lambda kid, jwk: jwt_pem, now),
            docs["ob3-jwt"],
            2000,
        ),
        (
            "OB 3.0 Data Integrity",
            lambda: verify_proof(ldp, resolve_did_key),
            docs["ob3-ldp"],
            1500,
        ),
        ("OB 2.0 signed", lambda: verify_compact_jws(jws, rsa_pem), docs["ob2-signed"], 5000),
    ]
    for name, proof_only, data, target in rows:
        proof_rate = rate(proof_only, seconds)
        full_rate = rate(
            lambda data=data: verify_input(ctx, data, recipient="ada@example.org", offline=True),
            seconds,
        )
        verdict = "met" if proof_rate >= target else "NOT met"
        print(
            f"{name:22} proof {proof_rate:8,.0f}/s (target {target:,}: {verdict})   "
            f"full report {full_rate:7,.0f}/s"
        )
    compare_with_validator_core(seconds)


def compare_with_validator_core(seconds: float) -> None:
    try:
        from tests.interop.validator_core import (
            ValidatorCoreUnavailable,
            ensure_venv,
            run_validator,
        )
    except ImportError:  # pragma: no cover - run from a checkout
        print("validator-core comparison skipped: tests/interop not found")
        return
    try:
        ensure_venv()
    except ValidatorCoreUnavailable as exc:
        print(f"validator-core comparison skipped: {exc}")
        return
    home = Path(tempfile.mkdtemp(prefix="badger-bench-vc-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "BADGER_INSTANCE_DIR": str(home / "i"),
        "BADGER_KEYS_DIR": str(home / "k"),
        "BADGER_BASE_URL": f"http://127.0.0.1:{port}",
        "BADGER_VERIFY_ALLOW_NETWORKS": "127.0.0.1/32",
    }
    badger = str(Path(sys.executable).with_name("badger"))

    def cli(*args: str) -> str:
        return subprocess.run(
            [badger, *args], env=env, cwd=home, capture_output=True, text=True, check=True
        ).stdout

    cli("demo", "--admin-password", "correct horse battery")
    issued = json.loads(cli("issue", "ethics-disclosure", "ada@example.org", "--json"))
    token = cli("export", issued["id"], "--as", "ob2-signed").strip()
    server = subprocess.Popen(
        [badger, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        runs, start = 0, time.perf_counter()
        while runs < 3 or time.perf_counter() - start < seconds:
            result = run_validator(token, recipient="ada@example.org")
            runs += 1
        core_rate = runs / (time.perf_counter() - start)
        valid = result["report"]["valid"]
        # badger on the same input, resolving the issuer's documents over HTTP
        # from the same live server (the validator-core way).
        sys.path.insert(0, str(ROOT))
        from datetime import UTC, datetime

        from badger.verify.context import VerifyContext
        from badger.verify.engine import verify
        from badger.verify.fetch import SafeFetcher

        fetcher = SafeFetcher(allow_networks=["127.0.0.1/32"])
        ours = rate(
            lambda: verify(
                token,
                VerifyContext(now=datetime.now(UTC), fetcher=fetcher, recipient="ada@example.org"),
            ),
            seconds,
        )
        print(
            f"OB 2.0 signed, same input over HTTP: badger {ours:,.1f}/s, validator-core "
            f"{core_rate:,.2f}/s (valid={valid}) -> badger is {ours / core_rate:,.0f}x faster "
            "(target >= 20x; badger's fetch cache holds the issuer documents between runs, "
            "validator-core starts afresh each time)"
        )
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
