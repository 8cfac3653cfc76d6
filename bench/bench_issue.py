"""Issuance throughput on one core: each format built + signed + stored in batches,
and the full award (all eight renderings, status lists, audit) end to end.

Run: ``.venv/bin/python bench/bench_issue.py [count]`` (default 2,000 per format).

Targets (issue 3): OB 3.0 VC-JWT >= 3,000/s, OB 3.0 Data Integrity >= 2,000/s,
OB 2.0 signed >= 700/s; peak memory of a long run under 300 MiB.  The figures
print; nothing asserts (timed tests would be flaky on a shared machine).
"""

from __future__ import annotations

import hashlib
import resource
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, insert
from throwaway import pin_one_core, throwaway_instance

from badger.credentials import ob2, ob3
from badger.credentials.model import AwardInfo, RecipientInfo, to_json_bytes
from badger.proofs.signing import add_data_integrity_proof, sign_ob2_jws, sign_vc_jwt
from badger.services import identity
from badger.services.issue import IssueRequest, achievement_info, issue_award, issuer_info
from badger.store.models import Achievement, Issuer

BATCH = 500
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    pin_one_core()
    ctx = throwaway_instance()
    settings = ctx.settings
    with ctx.uow() as uow:
        issuer_row = uow.session.query(Issuer).one()
        achievement_row = uow.session.query(Achievement).one()
        ident = identity.for_issuer(ctx, issuer_row)
        issuer = issuer_info(ctx, issuer_row, ident)
        achievement = achievement_info(ctx, achievement_row)

    docs = Table(
        "bench_docs",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("format", String(20)),
        Column("sha256", String(64)),
        Column("content", LargeBinary),
    )
    docs.create(ctx.engine)

    def award(n: int) -> tuple[AwardInfo, RecipientInfo]:
        public_id = str(uuid.UUID(int=n + 1))
        info = AwardInfo(
            public_id=public_id,
            ob2_assertion_url=identity.assertion_url(settings, public_id),
            ob3_credential_id=identity.credential_id(public_id),
            issued_on=NOW,
            valid_from=NOW,
            credits_earned=Decimal("1.5"),
            revocation=(f"{settings.base_url}/status/r", n % 131072),
        )
        return info, RecipientInfo(salt=secrets.token_hex(8), email=f"learner{n}@example.org")

    def ob2_signed(n: int) -> bytes:
        info, recipient = award(n)
        payload = ob2.signed_assertion(
            info, achievement, issuer, recipient, creator=ident.ob2_key_url(ident.rsa)
        )
        return sign_ob2_jws(payload, ctx.keystore, "default").encode()

    def ob3_ldp(n: int) -> bytes:
        info, recipient = award(n)
        credential = ob3.open_badge_credential(info, achievement, issuer, recipient)
        signed = add_data_integrity_proof(
            credential, ctx.keystore, "default", ident.verification_method, NOW
        )
        return to_json_bytes(signed)

    def ob3_jwt(alg: str) -> Callable[[int], bytes]:
        key = ident.rsa if alg == "RS256" else ident.p256

        def build(n: int) -> bytes:
            info, recipient = award(n)
            credential = ob3.open_badge_credential(info, achievement, issuer, recipient)
            return sign_vc_jwt(
                credential, ctx.keystore, "default", alg, ident.jwt_kid(key)
            ).encode()

        return build

    def measure(name: str, build: Callable[[int], bytes], n: int, target: int | None) -> None:
        start = time.perf_counter()
        batch = []
        for i in range(n):
            content = build(i)
            batch.append(
                {"format": name, "sha256": hashlib.sha256(content).hexdigest(), "content": content}
            )
            if len(batch) == BATCH:
                with ctx.engine.begin() as conn:
                    conn.execute(insert(docs), batch)
                batch = []
        if batch:
            with ctx.engine.begin() as conn:
                conn.execute(insert(docs), batch)
        rate = n / (time.perf_counter() - start)
        goal = (
            f"  (target >= {target:,}/s: {'met' if rate >= target else 'NOT met'})"
            if target
            else ""
        )
        print(f"{name:24} {rate:9,.0f} credentials/s{goal}")

    print(f"build + sign + store in batches of {BATCH}, {count:,} each, one core")
    measure("OB 2.0 signed (RS256)", ob2_signed, count, 700)
    measure("OB 3.0 Data Integrity", ob3_ldp, count, 2000)
    measure("OB 3.0 VC-JWT RS256", ob3_jwt("RS256"), count, 3000)
    measure("OB 3.0 VC-JWT ES256", ob3_jwt("ES256"), count, 3000)

    full = max(count // 10, 50)
    start = time.perf_counter()
    for i in range(full):
        issue_award(ctx, IssueRequest("ethics", f"full{i}@example.org"), actor="bench")
    rate = full / (time.perf_counter() - start)
    print(
        f"{'full award (8 formats)':24} {rate:9,.0f} awards/s  ({full:,} awards, one transaction each)"
    )
    print(f"peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
