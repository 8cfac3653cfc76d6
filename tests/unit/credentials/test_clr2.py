"""Renewal credentials and the CLR 2.0 ClrCredential pass the official schemas (FACTS §2.5, §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badger.credentials import clr2, ob3
from badger.credentials.model import (
    AchievementInfo,
    AwardInfo,
    IssuerInfo,
    RecipientInfo,
    StatusRef,
)
from badger.domain.errors import ValidationError
from badger.domain.ledger import CategoryRule, CycleWindow, LedgerItem, Policy, compute
from badger.proofs import di_eddsa_rdfc_2022, jsonld, multikey
from tests.official_schemas import schema_errors

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
CYCLE_START = datetime(2026, 1, 1, tzinfo=UTC)
CYCLE_END = datetime(2029, 1, 1, tzinfo=UTC)

_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_MULTIKEY = multikey.ed25519_public_to_multibase(
    _KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
)
ISSUER = IssuerInfo(
    id=f"did:key:{_MULTIKEY}",
    ob2_profile_url="https://badges.example.org/ob2/issuers/default",
    name="Test Institute",
    url="https://institute.example.org",
)
METHOD = f"{ISSUER.id}#{_MULTIKEY}"
RECIPIENT = RecipientInfo(salt="pepper", email="ada@example.org")
CERT_ID = "https://badges.example.org/achievements/cert"
STATUS = StatusRef("https://badges.example.org/status/s1", 4242)


# ------------------------------------------------------------------ helpers


def walk(value: Any, path: str = "$") -> list[tuple[str, Any]]:
    found = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += walk(item, f"{path}[{i}]")
    return found


def sign(document: dict[str, Any]) -> dict[str, Any]:
    proof = di_eddsa_rdfc_2022.create_proof(document, _KEY, METHOD, NOW)
    return {**document, "proof": [proof]}


# ------------------------------------------------------------------ sample documents


def micro(slug: str, credits: str, category: str) -> AchievementInfo:
    return AchievementInfo(
        id=f"https://badges.example.org/achievements/{slug}",
        ob2_badgeclass_url=f"https://badges.example.org/ob2/badges/{slug}",
        name=slug.title(),
        description=f"The {slug} unit.",
        criteria_narrative="Pass the quiz.",
        achievement_type="MicroCredential",
        credits_available=Decimal(credits),
    )


UNITS = {
    "11111111-1111-4111-8111-111111111111": micro("ethics", "2", "ethics"),
    "22222222-2222-4222-8222-222222222222": micro("privacy", "3", "law"),
    "33333333-3333-4333-8333-333333333333": micro("audit", "6", "law"),
}
FIRST, _, LAST = UNITS
ACTIVITY_ID = "44444444-4444-4444-8444-444444444444"
POLICY = Policy(
    key="ce",
    version=2,
    name="CE renewal",
    required_total=Decimal("8"),
    default_category_cap=Decimal("5"),
    categories=(
        CategoryRule("ethics", minimum=Decimal("1"), label="Ethics"),
        CategoryRule("law", cap=Decimal("5")),
    ),
)


def micro_credential(public_id: str) -> dict[str, Any]:
    unit = UNITS[public_id]
    award = AwardInfo(
        public_id=public_id,
        ob2_assertion_url=f"https://badges.example.org/ob2/assertions/{public_id}",
        ob3_credential_id=f"urn:uuid:{public_id}",
        issued_on=NOW - timedelta(days=30),
        valid_from=NOW - timedelta(days=30),
        credits_earned=unit.credits_available,
        revocation=StatusRef("https://badges.example.org/status/r1", 7),
    )
    return sign(ob3.open_badge_credential(award, unit, ISSUER, RECIPIENT))


def ledger():
    items = [
        LedgerItem(
            id=pid,
            name=unit.name,
            credits=unit.credits_available or Decimal(0),
            categories=("ethics" if "ethics" in unit.id else "law",),
            earned_at=NOW - timedelta(days=30 - i),
        )
        for i, (pid, unit) in enumerate(UNITS.items())
    ]
    items.append(
        LedgerItem(
            id=ACTIVITY_ID,
            name="Regional conference",
            credits=Decimal("1.5"),
            categories=("ethics",),
            earned_at=NOW - timedelta(days=10),
        )
    )
    return compute(POLICY, items, CycleWindow(CYCLE_START - timedelta(days=1000), NOW))


CERT = AchievementInfo(
    id=CERT_ID,
    ob2_badgeclass_url="https://badges.example.org/ob2/badges/cert",
    name="Certified Practitioner",
    description="Renewed every three years.",
    criteria_narrative="Earn 8 CE credits per cycle.",
    achievement_type="Certification",
)


def counted_items(result) -> list[ob3.CountedCredit]:
    out = []
    for line in result.lines:
        if not line.counted > 0:
            continue
        is_award = line.item_id in UNITS
        out.append(
            ob3.CountedCredit(
                name=line.name,
                counted=line.counted,
                earned=line.earned,
                reason=line.reason,
                category=line.category,
                credential_id=f"urn:uuid:{line.item_id}" if is_award else None,
                activity_id=None if is_award else line.item_id,
                url=None if is_award else "https://conf.example.org/2026",
            )
        )
    return out


def renewal_credential() -> tuple[dict[str, Any], Any]:
    result = ledger()
    descriptions, results = ob3.renewal_results(CERT_ID, result, POLICY)
    cert = AchievementInfo(**{**_fields(CERT), "result_descriptions": descriptions})
    award = AwardInfo(
        public_id="55555555-5555-4555-8555-555555555555",
        ob2_assertion_url="https://badges.example.org/ob2/assertions/5555",
        ob3_credential_id="urn:uuid:55555555-5555-4555-8555-555555555555",
        issued_on=NOW,
        valid_from=CYCLE_START,
        valid_until=CYCLE_END,
        credits_earned=result.counted_total,
        evidence=ob3.renewal_evidence(counted_items(result)),
        results=results,
        suspension=STATUS,
    )
    credential = ob3.open_badge_credential(
        award, cert, ISSUER, RECIPIENT, status_purpose="suspension"
    )
    return credential, result


def _fields(info: AchievementInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in info.__slots__}  # type: ignore[attr-defined]


def build_clr(**kw: Any) -> dict[str, Any]:
    renewal, _ = renewal_credential()
    credentials = [*(micro_credential(pid) for pid in UNITS), sign(renewal)]
    info = clr2.ClrInfo(
        id="urn:uuid:66666666-6666-4666-8666-666666666666",
        name="Certified Practitioner: renewal record",
        issued_on=NOW,
        valid_from=NOW,
        status=STATUS,
        **kw,
    )
    return clr2.clr_credential(
        info,
        ISSUER,
        RECIPIENT,
        credentials,
        associations=clr2.part_of_associations(credentials, CERT_ID),
    )


# ------------------------------------------------------------------ the renewal credential


def test_renewal_credential_passes_both_official_achievement_credential_schemas():
    credential, _ = renewal_credential()
    errors = schema_errors(sign(credential), "ob-strict", "ob-json-ld")
    assert not errors, errors


def test_renewal_credential_is_a_certification_for_the_new_cycle_with_the_counted_total():
    credential, result = renewal_credential()
    subject = credential["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "Certification"
    assert credential["validFrom"] == "2026-01-01T00:00:00Z"
    assert credential["validUntil"] == "2029-01-01T00:00:00Z"
    assert result.counted_total == Decimal("8.5")  # ethics 2 + 1.5, law capped at 5
    assert subject["creditsEarned"] == 8.5
    assert isinstance(subject["creditsEarned"], float)
    assert credential["credentialStatus"]["statusPurpose"] == "suspension"


def test_renewal_evidence_cites_every_counted_credential_by_its_id():
    credential, result = renewal_credential()
    evidence = credential["evidence"]
    cited = {e.get("id") for e in evidence}
    assert {f"urn:uuid:{pid}" for pid in UNITS} <= cited
    assert all(e["type"] == ["Evidence"] and e["name"] and e["narrative"] for e in evidence)
    activity = next(e for e in evidence if ACTIVITY_ID in e["narrative"])
    assert activity["id"] == "https://conf.example.org/2026"
    assert len(evidence) == sum(1 for line in result.lines if line.counted > 0)
    capped = next(e for e in evidence if e.get("id") == f"urn:uuid:{LAST}")
    assert "Counted 2 of 6 credits in category law." in capped["narrative"]


def test_renewal_results_report_the_total_and_each_category_against_described_results():
    credential, _ = renewal_credential()
    subject = credential["credentialSubject"]
    described = {d["id"]: d for d in subject["achievement"]["resultDescription"]}
    values = {r["resultDescription"]: r["value"] for r in subject["result"]}
    assert set(values) == set(described)
    assert values[f"{CERT_ID}#result-credits-total"] == "8.5"
    assert described[f"{CERT_ID}#result-credits-total"]["requiredValue"] == "8"
    assert values[f"{CERT_ID}#result-credits-law"] == "5"
    assert described[f"{CERT_ID}#result-credits-law"]["valueMax"] == "5"
    assert described[f"{CERT_ID}#result-credits-ethics"]["requiredValue"] == "1"
    assert all(d["resultType"] == "RawScore" for d in described.values())


def test_a_counted_item_is_a_credential_or_an_activity_never_both():
    with pytest.raises(ValidationError):
        ob3.CountedCredit("x", Decimal(1), Decimal(1), "", credential_id="urn:a", activity_id="b")
    with pytest.raises(ValidationError):
        ob3.CountedCredit("x", Decimal(1), Decimal(1), "")
    with pytest.raises(ValidationError):
        ob3.CountedCredit("x", Decimal(0), Decimal(1), "", credential_id="urn:a")


# ------------------------------------------------------------------ the CLR


def test_clr_passes_the_official_clr_credential_schema():
    clr = build_clr()
    errors = schema_errors(sign(clr), "clr")
    assert not errors, errors


def test_clr_contexts_come_in_the_required_order():
    clr = build_clr()
    assert clr["@context"][:3] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    # credentialSchema uses a 1EdTech type, which only extensions.json defines.
    assert clr["@context"][3:] == ["https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]


def test_clr_defines_every_term_and_signs_and_verifies():
    clr = build_clr()
    assert jsonld.undefined_terms(clr) == []
    signed = sign(clr)
    result = di_eddsa_rdfc_2022.verify_proof(signed, di_eddsa_rdfc_2022.resolve_did_key)
    assert result.verified, result.reason


def test_clr_embeds_the_credentials_exactly_as_issued_and_each_still_verifies():
    clr = build_clr()
    embedded = clr["credentialSubject"]["verifiableCredential"]
    assert [c["id"] for c in embedded] == [
        *(f"urn:uuid:{pid}" for pid in UNITS),
        "urn:uuid:55555555-5555-4555-8555-555555555555",
    ]
    assert embedded[0] == micro_credential(FIRST)
    for credential in embedded:
        check = di_eddsa_rdfc_2022.verify_proof(credential, di_eddsa_rdfc_2022.resolve_did_key)
        assert check.verified, check.reason


def test_clr_links_each_counted_achievement_to_the_certification_with_is_part_of():
    clr = build_clr()
    subject = clr["credentialSubject"]
    ids = [a["id"] for a in subject["achievement"]]
    assert ids == [*(u.id for u in UNITS.values()), CERT_ID]
    assert subject["association"] == [
        {
            "type": "Association",
            "associationType": "isPartOf",
            "sourceId": u.id,
            "targetId": CERT_ID,
        }
        for u in UNITS.values()
    ]
    assert subject["type"] == ["ClrSubject"]
    assert subject["identifier"][0]["type"] == "IdentityObject"


def test_clr_has_arrays_a_profile_issuer_z_dates_and_no_nulls_or_empty_arrays():
    clr = build_clr()
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert isinstance(clr["credentialSchema"], list)
    assert clr["issuer"]["type"] == ["Profile"]
    assert clr["validFrom"].endswith("Z")
    assert "partial" not in clr
    for path, value in walk(clr):
        assert value is not None, f"null at {path}"
        assert value != [], f"empty array at {path}"
    assert clr["credentialStatus"] == {
        "id": f"{STATUS.list_url}#{STATUS.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": str(STATUS.index),
        "statusListCredential": STATUS.list_url,
    }


def test_a_partial_clr_says_so():
    assert build_clr(partial=True)["partial"] is True


def test_clr_refuses_unsigned_duplicate_or_no_credentials():
    credential = micro_credential(FIRST)
    info = clr2.ClrInfo(id="urn:uuid:1", name="x", issued_on=NOW, valid_from=NOW)
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    with pytest.raises(ValidationError, match="signed"):
        clr2.clr_credential(info, ISSUER, RECIPIENT, [unsigned])
    with pytest.raises(ValidationError, match="twice"):
        clr2.clr_credential(info, ISSUER, RECIPIENT, [credential, credential])
    with pytest.raises(ValidationError, match="at least one"):
        clr2.clr_credential(info, ISSUER, RECIPIENT, [])


def test_clr_refuses_an_association_to_an_achievement_it_does_not_hold():
    credential = micro_credential(FIRST)
    info = clr2.ClrInfo(id="urn:uuid:1", name="x", issued_on=NOW, valid_from=NOW)
    dangling = clr2.Association("isPartOf", UNITS[FIRST].id, CERT_ID)
    with pytest.raises(ValidationError, match="not an achievement"):
        clr2.clr_credential(info, ISSUER, RECIPIENT, [credential], associations=[dangling])


def test_association_types_are_the_closed_clr_enumeration():
    with pytest.raises(ValidationError, match="AssociationType"):
        clr2.Association("isPartOfish", "urn:a", "urn:b")


def test_clr_info_checks_its_dates():
    with pytest.raises(ValidationError, match="time zone"):
        clr2.ClrInfo(id="urn:uuid:1", name="x", issued_on=NOW, valid_from=NOW.replace(tzinfo=None))
    with pytest.raises(ValidationError, match="before"):
        clr2.ClrInfo(
            id="urn:uuid:1",
            name="x",
            issued_on=NOW,
            valid_from=NOW,
            valid_until=NOW - timedelta(days=1),
        )


def test_clr_id_must_be_an_absolute_uri():
    with pytest.raises(ValidationError, match="absolute URI"):
        clr2.ClrInfo(id="credentials/1", name="x", issued_on=NOW, valid_from=NOW)
