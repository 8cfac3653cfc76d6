"""Signing and verification throughput on one core: OB 2.0 JWS and OB 3.0 VC-JWT.

Run: ``.venv/bin/python bench/bench_signing.py [--seconds 1.0]``. A plain script, not
a test: it prints operations per second for each format and algorithm so a bulk
issue job can be sized (an award renders every format in one transaction).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from badger.proofs.jws import sign_ob2_assertion, verify_compact_jws
from badger.proofs.keystore import KeyAlgorithm, MemoryKeyStore
from badger.proofs.vc_jwt import sign_vc_jwt, verify_vc_jwt

ISSUER_ID = "https://badges.example.org/issuers/acme"
NOW = datetime(2025, 6, 1, tzinfo=UTC)

ASSERTION = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Assertion",
    "id": "urn:uuid:2f9c8f64-93c3-4a10-9d1c-0d1f3c9f3c55",
    "recipient": {"type": "email", "hashed": True, "identity": "sha256$" + "ab" * 32},
    "badge": "https://badges.example.org/badges/1",
    "verification": {"type": "SignedBadge", "creator": "https://badges.example.org/keys/1"},
    "issuedOn": "2025-03-01T12:00:00Z",
}

CREDENTIAL = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": "urn:uuid:5e0a9a57-5d5a-4d8b-9d9e-5f6d1f5a4b3c",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": ISSUER_ID, "type": ["Profile"], "name": "Acme Training"},
    "validFrom": "2025-01-01T00:00:00Z",
    "name": "Safety Basics",
    "credentialSubject": {
        "id": "did:example:learner-1",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://badges.example.org/a/1",
            "type": ["Achievement"],
            "name": "Safety Basics",
            "criteria": {"narrative": "Pass the safety course."},
        },
    },
}


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per second, measured over at least ``seconds`` after a warm-up."""
    for _ in range(3):
        operation()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        operation()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    store = MemoryKeyStore()
    store.ensure_keys("acme")
    rows: list[tuple[str, float, float]] = []

    rsa = store.signer("acme", KeyAlgorithm.RS256)
    token = sign_ob2_assertion(ASSERTION, rsa)
    rows.append(
        (
            "OB 2.0 JWS  RS256",
            rate(lambda: sign_ob2_assertion(ASSERTION, rsa), args.seconds),
            rate(lambda: verify_compact_jws(token, rsa.key_ref.public_pem), args.seconds),
        )
    )

    for alg in (KeyAlgorithm.RS256, KeyAlgorithm.ES256, KeyAlgorithm.ED25519):
        signer = store.signer("acme", alg)
        kid = f"{ISSUER_ID}/keys/{signer.kid}"
        jwk = signer.key_ref.public_jwk
        token = sign_vc_jwt(CREDENTIAL, signer, kid)
        result = verify_vc_jwt(token, lambda _kid, _jwk, jwk=jwk: jwk, NOW)
        if not result.verified:
            raise SystemExit(f"benchmark token failed to verify: {result.reason}")
        rows.append(
            (
                f"VC-JWT      {alg.jose_alg}",
                rate(lambda s=signer, k=kid: sign_vc_jwt(CREDENTIAL, s, k), args.seconds),
                rate(
                    lambda t=token, j=jwk: verify_vc_jwt(t, lambda _k, _j: j, NOW),
                    args.seconds,
                ),
            )
        )

    print(f"{'format / alg':<20}{'signs/s':>12}{'verifies/s':>14}   (one core)")
    for name, signs, verifies in rows:
        print(f"{name:<20}{signs:>12,.0f}{verifies:>14,.0f}")


if __name__ == "__main__":
    main()
