"""Data Integrity throughput on one core: canonicalization, issuance, verification.

Run: ``.venv/bin/python bench/bench_data_integrity.py [seconds-per-figure]``.

Prints, for the fast and the reference (pyld) canonicalization engines:
canonicalizations/s of a typical OB 3.0 credential, build+sign/s (issuance:
build the credential dict, create the eddsa-rdfc-2022 proof), verify/s and
sign+verify/s. The target is build+sign >= 2,000 credentials/s with the
default engine.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badger.proofs import jsonld
from badger.proofs.di_eddsa_rdfc_2022 import create_proof, resolve_did_key, verify_proof
from badger.proofs.multikey import did_key_verification_method

CREATED = "2025-01-15T09:30:00Z"


def build_credential(issuer_id: str, n: int) -> dict[str, Any]:
    """A typical badger OB 3.0 credential: issuer profile, achievement, result, evidence."""
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        ],
        "id": f"urn:uuid:{uuid.UUID(int=n)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_id,
            "type": ["Profile"],
            "name": "Example Professional Association",
            "url": "https://association.example/",
            "email": "credentials@association.example",
        },
        "validFrom": "2025-01-15T09:30:00Z",
        "validUntil": "2027-01-15T09:30:00Z",
        "name": "Infection Control (2 CEU)",
        "credentialSchema": [
            {
                "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                "type": "1EdTechJsonSchemaValidator2019",
            }
        ],
        "credentialStatus": {
            "id": f"https://association.example/status/1#{n % 131072}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(n % 131072),
            "statusListCredential": "https://association.example/status/1",
        },
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": f"sha256${n:064x}",
                    "identityType": "emailAddress",
                    "salt": "pepper",
                }
            ],
            "creditsEarned": 2.0,
            "result": [{"type": ["Result"], "status": "Completed"}],
            "achievement": {
                "id": "https://association.example/achievements/infection-control",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": "Infection Control",
                "description": "Standard precautions, PPE and hand hygiene in clinical settings.",
                "criteria": {"narrative": "Attend the full session and pass the quiz (80%)."},
                "creditsAvailable": 2.0,
                "image": {
                    "id": "https://association.example/images/infection-control.png",
                    "type": "Image",
                },
            },
        },
        "evidence": [
            {
                "id": f"https://association.example/evidence/{n}",
                "type": ["Evidence"],
                "name": "Quiz result",
            }
        ],
    }


def rate(label: str, seconds: float, action: Callable[[int], object]) -> float:
    """Print the best operations/s of five rounds filling ``seconds`` (best of, like timeit)."""
    action(0)  # warm the context caches
    best, count = 0.0, 0
    for _round in range(5):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 5:
            for _ in range(20):
                action(count)
                count += 1
            done += 20
        best = max(best, done / elapsed)
    print(f"  {label:<28} {best:>10,.0f} /s   ({1e6 / best:,.0f} µs each)")
    return best


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    method = did_key_verification_method(
        key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    issuer_id = method.split("#")[0]
    sample = build_credential(issuer_id, 1)
    signed = {**sample, "proof": [create_proof(sample, key, method, CREATED)]}
    quads = jsonld.canonicalize(sample).count("\n")
    print(f"OB 3.0 credential: {quads} quads; one core; {seconds:g} s per figure")

    for engine in ("fast", "reference"):
        budget = seconds if engine == "fast" else max(seconds / 2, 0.5)
        bench_engine(engine, budget, key, method, signed)


def bench_engine(
    engine: jsonld.Engine,
    seconds: float,
    key: Ed25519PrivateKey,
    method: str,
    signed: dict[str, Any],
) -> None:
    """Print the four figures for one canonicalization engine."""
    issuer_id = method.split("#")[0]
    sample = {k: v for k, v in signed.items() if k != "proof"}
    print(f"engine={engine}")
    rate("canonicalize document", seconds, lambda _n: jsonld.canonicalize(sample, engine=engine))

    def build_and_sign(n: int) -> object:
        return create_proof(build_credential(issuer_id, n), key, method, CREATED, engine=engine)

    def sign_and_verify(n: int) -> object:
        document = build_credential(issuer_id, n)
        proof = create_proof(document, key, method, CREATED, engine=engine)
        return verify_proof({**document, "proof": [proof]}, resolve_did_key, engine=engine)

    rate("build+sign", seconds, build_and_sign)
    rate("verify", seconds, lambda _n: verify_proof(signed, resolve_did_key, engine=engine))
    rate("sign+verify", seconds, sign_and_verify)


if __name__ == "__main__":
    main()
