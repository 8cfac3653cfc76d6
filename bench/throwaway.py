"""A throwaway badger instance for benchmarks: temp folder, SQLite, in-memory keys."""

from __future__ import annotations

import logging
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from badger.config import load_settings
from badger.domain.achievements import AchievementSpec
from badger.proofs.keystore import MemoryKeyStore
from badger.services import catalog, setup
from badger.services.context import Context, build_context
from badger.services.mail import MemoryMailer

ETHICS = AchievementSpec(
    slug="ethics",
    name="Ethics and Disclosure",
    description="The ethics unit.",
    criteria_narrative="Pass the quiz.",
    credits_available=Decimal("1.5"),
    credit_category="ethics",
    validity_days=365,
)


def reference_workload_ms() -> float:
    """CPU ms of a fixed pure-Python workload: this host's single-core speed right now.

    The VM's speed varies by up to ~2x from day to day (and within a run);
    benchmarks print this beside their figures so runs can be compared.
    """
    import json
    import time

    doc = {"id": "urn:uuid:0", "type": ["VerifiableCredential"], "n": list(range(50))}
    best = float("inf")
    for _ in range(5):
        started = time.thread_time()
        for i in range(2000):
            json.loads(json.dumps({**doc, "i": i}, sort_keys=True))
        best = min(best, (time.thread_time() - started) * 1000)
    return best


def pin_one_core() -> None:
    """Benchmarks state figures for one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def pin_database_backends(engine: object) -> bool:
    """Put the PostgreSQL server process of every new pooled connection on this core.

    On this 2-vCPU VM a round trip between a client and a server process on
    different cores costs about 0.45 ms of wall time and 0.2 ms of the
    client's CPU (the wake-ups cross the hypervisor), against about 0.05 /
    0.025 ms on one core.  With ~14 round trips an award pays that many
    times, so benchmarks print figures both ways.  Only for a server on this
    machine that we may re-pin (root, or the same user); ``False`` if not.
    """
    from sqlalchemy import event

    if not hasattr(os, "sched_setaffinity"):
        return False
    core = os.sched_getaffinity(0)
    engine.dispose()  # type: ignore[attr-defined]
    failures: list[str] = []

    def pin(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        cursor.close()
        dbapi_connection.rollback()  # leave it idle, as the pool expects
        try:
            os.sched_setaffinity(pid, core)
        except OSError as exc:  # not ours to pin, or on another host
            failures.append(str(exc))

    event.listen(engine, "connect", pin)
    with engine.connect():  # type: ignore[attr-defined]
        pass
    return not failures


def throwaway_instance(*, with_ethics: bool = True, database_url: str | None = None) -> Context:
    """An initialised instance (issuer, admin, keys) in a temp folder, quiet logs.

    ``database_url`` (an empty database) replaces the instance's SQLite file.
    """
    logging.getLogger("badger").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="badger-bench-"))
    overrides: dict[str, object] = {
        "instance_dir": tmp / "instance",
        "keys_dir": tmp / "keys",
        "base_url": "https://badges.example.org",
    }
    if database_url:
        overrides["database_url"] = database_url
    settings = load_settings(environ={}, overrides=overrides)
    ctx = build_context(settings, mailer=MemoryMailer(), keystore=MemoryKeyStore())
    setup.initialize(
        ctx,
        issuer=setup.IssuerInput(
            slug="default",
            name="Bench Institute",
            url="https://bench.example.org",
            email="office@bench.example.org",
        ),
        admin_email="admin@bench.example.org",
        admin_password="correct horse battery",  # noqa: S106 - throwaway bench instance
    )
    if with_ethics:
        catalog.create_achievement(ctx, issuer_slug="default", spec=ETHICS)
    return ctx
