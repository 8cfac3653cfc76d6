"""Issuing a certification renewal: the OB 3.0 renewal credential and its CLR 2.0 record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import Conflict, ValidationError
from badger.domain.ledger import CategoryRule, CycleWindow, Policy, compute
from badger.services import catalog, issue, ledger, renewal, status
from badger.services.verification import verify_input
from badger.store.models import AuditEntry, Award, IssuedDocument, LearnerIdentifier, Submission
from tests.official_schemas import schema_errors

LEARNER = "ada@example.org"
CYCLE_START = datetime(2026, 3, 1, tzinfo=UTC)
CYCLE_END = datetime(2029, 3, 1, tzinfo=UTC)
PREVIOUS_START = datetime(2023, 3, 1, tzinfo=UTC)
POLICY = Policy(
    key="practitioner",
    version=3,
    name="Practitioner CE",
    required_total=Decimal("6"),
    categories=(
        CategoryRule("ethics", cap=Decimal("5"), minimum=Decimal("1"), label="Ethics"),
        CategoryRule("technical", cap=Decimal("3")),
    ),
)


def _define(ctx, slug: str, name: str, **kw: Any) -> None:
    catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=AchievementSpec(
            slug=slug,
            name=name,
            description=f"{name}.",
            criteria_narrative="Complete the unit.",
            **kw,
        ),
    )


@pytest.fixture
def catalogue(initialized):
    _define(
        initialized,
        "ethics-1",
        "Ethics I",
        credits_available=Decimal("2"),
        credit_category="ethics",
    )
    _define(
        initialized,
        "ethics-2",
        "Ethics II",
        credits_available=Decimal("1.5"),
        credit_category="ethics",
    )
    _define(
        initialized,
        "tech-1",
        "Technical I",
        credits_available=Decimal("4"),
        credit_category="technical",
    )
    _define(
        initialized,
        "practitioner",
        "Certified Practitioner",
        achievement_type="Certification",
        criteria_url="https://institute.example.org/practitioner",
    )
    return initialized


@pytest.fixture
def badges(catalogue):
    """Three credit-bearing microcredentials earned during the previous cycle."""
    now = catalogue.now()
    out = []
    for i, slug in enumerate(("ethics-1", "ethics-2", "tech-1")):
        request = issue.IssueRequest(slug, LEARNER, issued_on=now - timedelta(days=300 - 50 * i))
        out.append(issue.issue_award(catalogue, request, actor="test").public_id)
    return out


def _learner_id(uow) -> int:
    return uow.session.scalar(
        select(LearnerIdentifier.learner_id).where(LearnerIdentifier.value == LEARNER)
    )


def _ledger(uow, policy: Policy = POLICY):
    items = ledger.items_of_learner(uow, _learner_id(uow))
    return compute(policy, items, CycleWindow(PREVIOUS_START, CYCLE_START))


def _renew(ctx, uow, book=None, **kw: Any) -> renewal.RenewalIssued:
    args: dict[str, Any] = {
        "learner_id": _learner_id(uow),
        "certification": "practitioner",
        "policy": POLICY,
        "ledger": book or _ledger(uow),
        "valid_from": CYCLE_START,
        "valid_until": CYCLE_END,
        "cycle_key": "2026-2029",
        "actor": "test",
    }
    args.update(kw)
    return renewal.issue_renewal(ctx, uow, **args)


@pytest.fixture
def renewed(badges, catalogue):
    with catalogue.uow() as uow:
        return _renew(catalogue, uow)


def _document(ctx, award_id: str, fmt: str) -> bytes:
    return issue.get_document(ctx, award_id, fmt).content


# ---------------------------------------------------------------- what is issued


def test_renewal_counts_every_badge_and_records_policy_and_ids_in_the_basis(
    catalogue, badges, renewed
):
    assert renewed.counted == tuple(badges)
    assert renewed.clr_url == (
        f"https://badges.example.org/credentials/{renewed.award_public_id}/clr-ldp.json"
    )
    with catalogue.uow() as uow:
        award = uow.session.scalar(select(Award).where(Award.public_id == renewed.award_public_id))
        assert award.cycle_key == "2026-2029"
        assert award.credits_earned == Decimal("6.5")  # ethics 3.5 + technical capped at 3
        assert award.valid_from.replace(tzinfo=UTC) == CYCLE_START
        assert award.valid_until.replace(tzinfo=UTC) == CYCLE_END
        assert award.basis["policy"] == "practitioner"
        assert award.basis["policy_version"] == 3
        assert award.basis["counted"] == badges
        formats = set(
            uow.session.scalars(
                select(IssuedDocument.format).where(IssuedDocument.award_id == award.id)
            )
        )
        assert formats == set(issue.FORMATS)
        actions = set(
            uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.subject_id == award.public_id)
            )
        )
        assert {"award.issue", "renewal.issue"} <= actions


def test_renewal_credential_is_a_certification_for_the_cycle_citing_every_counted_credential(
    catalogue, badges, renewed
):
    credential = json.loads(_document(catalogue, renewed.award_public_id, "ob3-ldp"))
    subject = credential["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "Certification"
    assert subject["creditsEarned"] == 6.5
    assert credential["validFrom"] == "2026-03-01T00:00:00Z"
    assert credential["validUntil"] == "2029-03-01T00:00:00Z"
    cited = {e.get("id") for e in credential["evidence"]}
    assert cited == {f"urn:uuid:{b}" for b in badges}
    assert credential["credentialStatus"]["statusPurpose"] == "suspension"
    results = {r["resultDescription"].rsplit("#", 1)[1]: r["value"] for r in subject["result"]}
    assert results == {
        "result-credits-total": "6.5",
        "result-credits-ethics": "3.5",
        "result-credits-technical": "3",
    }


def test_renewal_credential_and_clr_pass_the_official_schemas(catalogue, renewed):
    credential = json.loads(_document(catalogue, renewed.award_public_id, "ob3-ldp"))
    assert not schema_errors(credential, "ob-strict", "ob-json-ld")
    clr = json.loads(_document(catalogue, renewed.award_public_id, "clr-ldp"))
    assert not schema_errors(clr, "clr")


def test_clr_bundles_the_counted_credentials_as_issued_and_the_renewal(catalogue, badges, renewed):
    clr = json.loads(_document(catalogue, renewed.award_public_id, "clr-ldp"))
    embedded = clr["credentialSubject"]["verifiableCredential"]
    as_issued = [json.loads(_document(catalogue, b, "ob3-ldp")) for b in badges]
    renewal_credential = json.loads(_document(catalogue, renewed.award_public_id, "ob3-ldp"))
    assert embedded == [*as_issued, renewal_credential]
    certification = renewal_credential["credentialSubject"]["achievement"]["id"]
    associations = clr["credentialSubject"]["association"]
    assert {(a["associationType"], a["targetId"]) for a in associations} == {
        ("isPartOf", certification)
    }
    assert {a["sourceId"] for a in associations} == {
        c["credentialSubject"]["achievement"]["id"] for c in as_issued
    }
    assert clr["credentialStatus"] == renewal_credential["credentialStatus"]


@pytest.mark.parametrize("fmt", ["ob3-ldp", "clr-ldp", "ob3-jwt", "ob2-signed"])
def test_renewal_renderings_verify_as_valid(catalogue, renewed, fmt):
    report = verify_input(
        catalogue,
        _document(catalogue, renewed.award_public_id, fmt),
        recipient=LEARNER,
        offline=True,
    )
    assert report.verdict.value == "valid", report.as_json()
    if fmt == "clr-ldp":
        assert [r.verdict.value for r in report.embedded] == ["valid"] * 4


def test_suspending_the_renewal_makes_the_verifier_say_suspended(catalogue, renewed):
    status.suspend(catalogue, renewed.award_public_id, reason="shortfall review", actor="test")
    for fmt in ("ob3-ldp", "clr-ldp"):
        data = _document(catalogue, renewed.award_public_id, fmt)
        report = verify_input(catalogue, data, offline=True)
        assert report.verdict.value == "suspended", (fmt, report.as_json())


def test_an_approved_activity_counts_as_evidence_with_a_narrative(catalogue, badges):
    with catalogue.uow() as uow:
        learner_id = _learner_id(uow)
        activity = Submission(
            learner_id=learner_id,
            kind="activity",
            title="Regional ethics forum",
            url="https://forum.example.org/2025",
            credits=Decimal("1"),
            category="ethics",
            activity_date=catalogue.now() - timedelta(days=20),
            status="approved",
        )
        uow.session.add(activity)
        uow.session.flush()
        issued = _renew(catalogue, uow)
        activity_id = activity.public_id
    assert activity_id in issued.counted
    credential = json.loads(_document(catalogue, issued.award_public_id, "ob3-ldp"))
    entry = next(e for e in credential["evidence"] if activity_id in e.get("narrative", ""))
    assert entry["id"] == "https://forum.example.org/2025"
    assert entry["name"] == "Regional ethics forum"
    clr = json.loads(_document(catalogue, issued.award_public_id, "clr-ldp"))
    assert len(clr["credentialSubject"]["verifiableCredential"]) == len(badges) + 1


# ---------------------------------------------------------------- refusals


def _counts(ctx) -> tuple[int, int, int]:
    with ctx.uow() as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(Award)),
            uow.session.scalar(select(func.count()).select_from(IssuedDocument)),
            uow.session.scalar(select(func.count()).select_from(AuditEntry)),
        )


def test_an_unsatisfied_ledger_is_refused_with_its_reasons_and_nothing_written(catalogue, badges):
    before = _counts(catalogue)
    demanding = Policy(key="practitioner", version=3, name="x", required_total=Decimal("20"))
    with pytest.raises(ValidationError) as refused, catalogue.uow() as uow:
        _renew(catalogue, uow, book=_ledger(uow, demanding), policy=demanding)
    assert refused.value.field == "ledger"
    assert "not satisfied" in refused.value.message
    assert _counts(catalogue) == before


def test_a_second_renewal_for_the_same_cycle_is_a_conflict(catalogue, renewed):
    before = _counts(catalogue)
    with pytest.raises(Conflict), catalogue.uow() as uow:
        _renew(catalogue, uow)
    assert _counts(catalogue) == before


def test_only_a_certification_is_renewed(catalogue, badges):
    with pytest.raises(ValidationError) as refused, catalogue.uow() as uow:
        _renew(catalogue, uow, certification="ethics-1")
    assert refused.value.field == "certification"


def test_a_ledger_from_another_policy_is_refused(catalogue, badges):
    other = Policy(key="other", version=1, name="Other", required_total=Decimal("1"))
    with pytest.raises(ValidationError, match="required total"), catalogue.uow() as uow:
        _renew(catalogue, uow, book=_ledger(uow, other))


def test_a_revoked_counted_badge_is_refused(catalogue, badges):
    with catalogue.uow() as uow:
        book = _ledger(uow)
    with catalogue.uow() as uow:
        award = uow.session.scalar(select(Award).where(Award.public_id == badges[0]))
        award.status = "revoked"
    with pytest.raises(ValidationError, match="is revoked"), catalogue.uow() as uow:
        _renew(catalogue, uow, book=book)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_until": CYCLE_START}, "valid_until"),
        ({"valid_from": datetime(2026, 3, 1)}, "valid_from"),  # noqa: DTZ001 - the point
        ({"cycle_key": ""}, "cycle_key"),
        ({"status_purpose": "refresh"}, "status_purpose"),
    ],
)
def test_bad_arguments_name_their_field(catalogue, badges, change, field):
    with pytest.raises(ValidationError) as refused, catalogue.uow() as uow:
        _renew(catalogue, uow, **change)
    assert refused.value.field == field


# ---------------------------------------------------------------- reachable


def test_the_clr_is_served_as_issued_and_linked_from_the_credential_page(
    client, catalogue, renewed
):
    path = f"/credentials/{renewed.award_public_id}/clr-ldp.json"
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == "application/vc+ld+json"
    assert response.data == _document(catalogue, renewed.award_public_id, "clr-ldp")
    page = client.get(f"/credentials/{renewed.award_public_id}", headers={"Accept": "text/html"})
    assert f"{path}?download=1" in page.get_data(as_text=True)


def test_an_ordinary_award_has_no_clr(client, badges):
    assert client.get(f"/credentials/{badges[0]}/clr-ldp.json").status_code == 404


def test_revoking_a_suspended_renewal_keeps_its_only_status_bit_set(catalogue, renewed):
    # The renewal credentials carry only the suspension entry (the OB schema allows
    # one credentialStatus), so revoking must never clear that bit.
    status.suspend(catalogue, renewed.award_public_id, reason="review", actor="test")
    status.revoke(catalogue, renewed.award_public_id, reason="lapsed for good", actor="test")
    for fmt in ("ob3-ldp", "clr-ldp"):
        report = verify_input(
            catalogue, _document(catalogue, renewed.award_public_id, fmt), offline=True
        )
        assert report.verdict.value != "valid", (fmt, report.as_json())
    hosted = verify_input(
        catalogue, _document(catalogue, renewed.award_public_id, "ob2-signed"), offline=True
    )
    assert hosted.verdict.value == "revoked"


def test_revoking_an_active_renewal_sets_its_suspension_bit(catalogue, renewed):
    status.revoke(catalogue, renewed.award_public_id, reason="issued in error", actor="test")
    data = _document(catalogue, renewed.award_public_id, "ob3-ldp")
    assert verify_input(catalogue, data, offline=True).verdict.value == "suspended"


def test_an_early_renewal_is_not_yet_valid_while_its_record_verifies(catalogue, badges):
    # A cycle renewed before its deadline starts the new cycle at the deadline.
    start = catalogue.now() + timedelta(days=30)
    with catalogue.uow() as uow:
        issued = _renew(catalogue, uow, valid_from=start, valid_until=start + timedelta(days=1095))
    credential = _document(catalogue, issued.award_public_id, "ob3-ldp")
    assert verify_input(catalogue, credential, offline=True).verdict.value == "not_yet_valid"
    report = verify_input(
        catalogue, _document(catalogue, issued.award_public_id, "clr-ldp"), offline=True
    )
    assert report.verdict.value == "valid", report.as_json()
    assert [r.verdict.value for r in report.embedded][-1] == "not_yet_valid"
    assert any(c.code == "embedded_not_current" for c in report.checks)
