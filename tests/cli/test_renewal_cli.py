"""`badger export AWARD --as clr-ldp` writes a renewal's CLR exactly as issued."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import select

from badger.cli import main
from badger.config import load_settings
from badger.domain.achievements import AchievementSpec
from badger.domain.ledger import CycleWindow, Policy, compute
from badger.services import catalog, issue, ledger, renewal
from badger.services.context import build_context
from badger.store.models import LearnerIdentifier


def test_export_as_clr_ldp_writes_the_stored_record(tmp_path, fresh_database_url):
    env = {
        "BADGER_INSTANCE_DIR": str(tmp_path / "instance"),
        "BADGER_KEYS_DIR": str(tmp_path / "keys"),
        "BADGER_DATABASE_URL": fresh_database_url,
    }
    runner = CliRunner()
    init = runner.invoke(
        main,
        ["init", "--admin-email", "root@example.org", "--admin-password", "correct horse battery"],
        env=env,
        catch_exceptions=False,
    )
    assert init.exit_code == 0, init.output
    ctx = build_context(load_settings(environ=env))
    try:
        slug = ctx.settings.issuer_slug
        for spec in (
            AchievementSpec(
                slug="unit-1",
                name="Unit 1",
                description="A unit.",
                criteria_narrative="Do it.",
                credits_available=Decimal("3"),
                credit_category="core",
            ),
            AchievementSpec(
                slug="cert",
                name="Certificate holder",
                description="Renewed per cycle.",
                criteria_narrative="Earn 3 credits.",
                achievement_type="Certification",
            ),
        ):
            catalog.create_achievement(ctx, issuer_slug=slug, spec=spec)
        earned = ctx.now() - timedelta(days=10)
        badge = issue.issue_award(
            ctx, issue.IssueRequest("unit-1", "ada@example.org", issued_on=earned), actor="t"
        )
        policy = Policy(key="p", version=1, name="P", required_total=Decimal("3"))
        start = ctx.now() - timedelta(days=1)
        with ctx.uow() as uow:
            learner_id = uow.session.scalar(
                select(LearnerIdentifier.learner_id).where(
                    LearnerIdentifier.value == "ada@example.org"
                )
            )
            book = compute(
                policy,
                ledger.items_of_learner(uow, learner_id),
                CycleWindow(datetime(2000, 1, 1, tzinfo=UTC), start),
            )
            issued = renewal.issue_renewal(
                ctx,
                uow,
                learner_id=learner_id,
                certification="cert",
                policy=policy,
                ledger=book,
                valid_from=start,
                valid_until=start + timedelta(days=3 * 365),
                cycle_key="c1",
                actor="t",
            )
        stored = issue.get_document(ctx, issued.award_public_id, "clr-ldp").content
    finally:
        ctx.engine.dispose()
    out = tmp_path / "clr.json"
    exported = runner.invoke(
        main,
        ["export", issued.award_public_id, "--as", "clr-ldp", "-o", str(out)],
        env=env,
        catch_exceptions=False,
    )
    assert exported.exit_code == 0, exported.output
    assert "application/vc+ld+json" in exported.output
    assert out.read_bytes() == stored
    clr = json.loads(stored)
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    embedded = clr["credentialSubject"]["verifiableCredential"]
    assert embedded[0]["id"] == f"urn:uuid:{badge.public_id}"
    printed = runner.invoke(
        main, ["export", issued.award_public_id, "--as", "clr-ldp"], env=env, catch_exceptions=False
    )
    assert json.loads(printed.output) == clr
