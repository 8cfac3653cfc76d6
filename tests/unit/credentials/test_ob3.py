"""OB 3.0 builders: every credential passes both official schemas (FACTS §2.1-2.8, §5)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft201909Validator
from referencing import Registry, Resource

from badger.credentials import ob3
from badger.credentials.model import (
    AchievementInfo,
    Alignment,
    AwardInfo,
    EvidenceInfo,
    IssuerInfo,
    RecipientInfo,
    ResultDescriptionInfo,
    ResultInfo,
    StatusRef,
    format_datetime,
    json_number,
    prune,
    to_json_bytes,
)
from badger.domain.errors import ValidationError
from badger.domain.recipients import normalize_email
from tests.conftest import spec_path

SCHEMA_NAME = "ob_v3p0_achievementcredential_schema.json"
DATE_TIME_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NOW = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)
FAKE_PROOF = [
    {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "verificationMethod": "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
        "#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
        "created": "2026-03-14T15:09:26Z",
        "proofValue": "z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35H",
    }
]


# ------------------------------------------------------------------ schemas


@cache
def _validators() -> dict[str, Draft201909Validator] | None:
    folder = spec_path() / "ob_v3p0" / "schema"
    paths = {
        "strict": folder / "json" / SCHEMA_NAME,
        "json-ld": folder / "json-ld-adaptation" / SCHEMA_NAME,
    }
    if not all(path.is_file() for path in paths.values()):
        return None
    validators = {}
    for variant, path in paths.items():
        schema = json.loads(path.read_text(encoding="utf-8"))
        # The schemas hold only local "#/$defs/..." references today; the registry
        # makes any reference to a sibling file resolve offline instead of fetching.
        registry: Registry = Registry()
        for sibling in path.parent.glob("*.json"):
            contents = json.loads(sibling.read_text(encoding="utf-8"))
            resource = Resource.from_contents(contents)
            registry = registry.with_resource(sibling.as_uri(), resource)
            if "$id" in contents:
                registry = registry.with_resource(contents["$id"], resource)
        Draft201909Validator.check_schema(schema)
        validators[variant] = Draft201909Validator(
            schema, registry=registry, format_checker=Draft201909Validator.FORMAT_CHECKER
        )
    return validators


def schema_validators() -> dict[str, Draft201909Validator]:
    validators = _validators()
    if validators is None:
        pytest.skip(f"OB 3.0 JSON Schemas not found under {spec_path()} (set BADGER_SPEC_DIR)")
    return validators


def assert_valid(credential: dict[str, Any]) -> None:
    """Both the strict schema and the JSON-LD adaptation accept the signed-shaped document."""
    signed = {**credential, "proof": FAKE_PROOF}
    for variant, validator in schema_validators().items():
        errors = sorted(validator.iter_errors(signed), key=lambda e: list(e.absolute_path))
        assert not errors, f"{variant} schema: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
        )


def walk(value: Any, path: str = "$") -> list[tuple[str, Any]]:
    """Every (path, value) in a JSON tree."""
    found = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += walk(item, f"{path}[{i}]")
    return found


def assert_no_empties(document: dict[str, Any]) -> None:
    for path, value in walk(document):
        assert value is not None, f"null at {path}"
        assert value != [], f"empty array at {path}"
        assert value != {}, f"empty object at {path}"
        assert value != "", f"empty string at {path}"


# ------------------------------------------------------------------ sample values


ISSUER = IssuerInfo(
    id="did:web:badges.example.org",
    ob2_profile_url="https://badges.example.org/ob2/issuer.json",
    name="Institut für Lernen",
    url="https://institute.example.org",
    email="office@institute.example.org",
    description="Continuing education.",
    image_url="https://badges.example.org/logo.png",
)
ACHIEVEMENT = AchievementInfo(
    id="https://badges.example.org/achievements/intro-ethics",
    ob2_badgeclass_url="https://badges.example.org/ob2/badges/intro-ethics",
    name="Intro to Ethics",
    description="One hour of ethics.",
    criteria_narrative="Attend the session and pass the quiz.",
    criteria_url="https://badges.example.org/achievements/intro-ethics/criteria",
    image_url="https://badges.example.org/achievements/intro-ethics.png",
    achievement_type="MicroCredential",
    tags=("ethics", "ce"),
    alignments=(
        Alignment(
            target_name="Ethics",
            target_url="https://framework.example.org/ethics",
            target_type="CFItem",
            target_code="E1",
        ),
    ),
    credits_available=Decimal("1.5"),
    human_code="ETH-101",
    field_of_study="Ethics",
    version="2",
)
EMAIL_RECIPIENT = RecipientInfo(salt="Kosher", email="a@example.com")
DID_RECIPIENT = RecipientInfo(
    salt="s1", did="did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
)
PUBLIC_ID = "3c574c87-b96f-4f06-8eb5-68a29335b60e"
STATUS_URL = "https://badges.example.org/status/1"
SUSPENSION_URL = "https://badges.example.org/status/s1"


def make_award(**changes: Any) -> AwardInfo:
    values: dict[str, Any] = {
        "public_id": PUBLIC_ID,
        "ob2_assertion_url": f"https://badges.example.org/ob2/assertions/{PUBLIC_ID}",
        "ob3_credential_id": f"urn:uuid:{PUBLIC_ID}",
        "issued_on": NOW,
        "valid_from": NOW,
        "revocation": StatusRef(STATUS_URL, 94567),
    }
    values.update(changes)
    return AwardInfo(**values)


def build(
    award: AwardInfo | None = None, recipient: RecipientInfo = EMAIL_RECIPIENT, **kw: Any
) -> dict[str, Any]:
    return ob3.open_badge_credential(award or make_award(), ACHIEVEMENT, ISSUER, recipient, **kw)


# ------------------------------------------------------------------ hypothesis strategies

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)
maybe_text = st.none() | text
urls = st.builds(
    "https://{}.example.org/{}".format,
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_.~-]{0,20}", fullmatch=True),
)
maybe_url = st.none() | urls
credits = st.none() | st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False)
aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive by API
    max_value=datetime(2090, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
)
alignments = st.builds(
    Alignment,
    target_name=text,
    target_url=urls,
    target_code=maybe_text,
    target_description=maybe_text,
    target_framework=maybe_text,
    target_type=st.none() | st.sampled_from(["CFItem", "CTDL", "ceasn:Competency", "ext:Skill"]),
)
evidence = st.builds(
    EvidenceInfo, url=urls, narrative=maybe_text, name=maybe_text, description=maybe_text
) | st.builds(EvidenceInfo, url=st.none(), narrative=text, name=maybe_text, description=maybe_text)
issuers = st.builds(
    IssuerInfo,
    id=st.sampled_from(
        [
            "did:web:badges.example.org",
            "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
            "https://badges.example.org/issuers/1",
        ]
    ),
    ob2_profile_url=urls,
    name=text,
    url=maybe_url,
    email=st.none() | st.just("office@example.org"),
    description=maybe_text,
    image_url=maybe_url,
)
achievements = st.builds(
    AchievementInfo,
    id=urls,
    ob2_badgeclass_url=urls,
    name=text,
    description=text,
    criteria_narrative=text,
    criteria_url=maybe_url,
    image_url=maybe_url,
    achievement_type=st.none() | st.sampled_from(["MicroCredential", "Certification", "ext:CEU"]),
    tags=st.lists(text, max_size=3).map(tuple),
    alignments=st.lists(alignments, max_size=2).map(tuple),
    credits_available=credits,
    human_code=maybe_text,
    field_of_study=maybe_text,
    version=maybe_text,
    result_descriptions=st.lists(
        st.builds(
            ResultDescriptionInfo,
            id=urls,
            name=text,
            result_type=st.sampled_from(["RawScore", "Status", "ext:CreditCategory"]),
            allowed_values=st.lists(text, max_size=3).map(tuple),
            value_min=st.none() | st.just("0"),
            value_max=st.none() | st.just("12"),
        ),
        max_size=2,
    ).map(tuple),
)


@st.composite
def recipients(draw: st.DrawFn) -> RecipientInfo:
    email = draw(st.none() | st.emails())
    if email is not None:
        try:
            email = normalize_email(email)
        except ValidationError:
            assume(False)
    did = draw(
        st.none()
        | st.sampled_from(
            ["did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi", "did:web:learner.example"]
        )
    )
    assume(email is not None or did is not None)
    return RecipientInfo(salt=draw(text), email=email, did=did)


@st.composite
def awards(draw: st.DrawFn) -> AwardInfo:
    issued_on = draw(aware_datetimes)
    valid_from = issued_on + draw(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
    )
    duration = draw(
        st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650))
    )
    public_id = str(draw(st.uuids()))
    return AwardInfo(
        public_id=public_id,
        ob2_assertion_url=f"https://badges.example.org/ob2/assertions/{public_id}",
        ob3_credential_id=f"urn:uuid:{public_id}",
        issued_on=issued_on,
        valid_from=valid_from,
        valid_until=None if duration is None else valid_from + duration,
        credits_earned=draw(credits),
        narrative=draw(maybe_text),
        evidence=tuple(draw(st.lists(evidence, max_size=3))),
        results=tuple(
            draw(
                st.lists(
                    st.builds(
                        ResultInfo,
                        value=maybe_text,
                        status=st.none() | st.sampled_from(["Completed", "InProgress"]),
                        result_description=maybe_url,
                        alignments=st.lists(alignments, max_size=1).map(tuple),
                    ),
                    max_size=2,
                )
            )
        ),
        revocation=draw(st.none() | st.builds(StatusRef, urls, st.integers(0, 131_071))),
        suspension=draw(st.none() | st.builds(StatusRef, urls, st.integers(0, 131_071))),
        name=draw(maybe_text),
        image_url=draw(maybe_url),
    )


# ------------------------------------------------------------------ property tests


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    award=awards(),
    achievement=achievements,
    issuer=issuers,
    recipient=recipients(),
    with_schema=st.booleans(),
    data=st.data(),
)
def test_every_built_credential_passes_both_schemas_and_the_json_binding_rules(
    award: AwardInfo,
    achievement: AchievementInfo,
    issuer: IssuerInfo,
    recipient: RecipientInfo,
    with_schema: bool,
    data: st.DataObject,
) -> None:
    available = [p for p in ("revocation", "suspension") if getattr(award, p) is not None]
    purpose = data.draw(st.sampled_from([*available, None]), label="status_purpose")
    credential = ob3.open_badge_credential(
        award, achievement, issuer, recipient, status_purpose=purpose, credential_schema=with_schema
    )

    assert_valid(credential)
    assert_no_empties(credential)
    assert credential["@context"][:2] == [ob3.VC_V2_CONTEXT, ob3.OB3_CONTEXT]
    assert (ob3.EXTENSIONS_CONTEXT in credential["@context"]) is with_schema
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == issuer.id
    assert credential["issuer"]["type"] == ["Profile"]
    for key in ("validFrom", "validUntil", "awardedDate"):
        if key in credential:
            assert DATE_TIME_Z.match(credential[key]), credential[key]
    assert ("validUntil" in credential) is (award.valid_until is not None)
    assert credential["validFrom"] <= credential.get("validUntil", "9999")

    subject = credential["credentialSubject"]
    if recipient.did:
        assert subject["id"] == recipient.did
        assert "identifier" not in subject
    else:
        (identity,) = subject["identifier"]
        digest = hashlib.sha256(f"{recipient.email}{recipient.salt}".encode()).hexdigest()
        assert identity["identityHash"] == f"sha256${digest}"
    for owner, key, amount in (
        (subject, "creditsEarned", award.credits_earned),
        (subject["achievement"], "creditsAvailable", achievement.credits_available),
    ):
        if amount is None:
            assert key not in owner
        else:
            assert isinstance(owner[key], int | float)
            assert not isinstance(owner[key], bool)
            assert Decimal(str(owner[key])) == amount
    assert ("credentialStatus" in credential) is (purpose is not None)
    if purpose:
        assert credential["credentialStatus"]["statusPurpose"] == purpose
        assert isinstance(credential["credentialStatus"]["statusListIndex"], str)
    assert json.loads(to_json_bytes(credential)) == credential


# ------------------------------------------------------------------ the envelope


def test_the_spec_example_shape_is_reproduced_key_for_key() -> None:
    """Our minimal credential has the keys of the spec's basic example, and more."""
    path = spec_path() / "ob_v3p0" / "examples" / "basic-openbadgecredential.json"
    if not path.is_file():
        pytest.skip(f"OB 3.0 examples not found at {path}")
    example = json.loads(path.read_text(encoding="utf-8"))
    ours = build(recipient=DID_RECIPIENT)
    assert set(example) <= set(ours)
    assert set(example["credentialSubject"]) <= set(ours["credentialSubject"])
    assert set(example["credentialSubject"]["achievement"]) <= set(
        ours["credentialSubject"]["achievement"]
    )
    assert ours["@context"][:2] == example["@context"]


def test_the_context_is_vc_then_ob_then_extensions_because_credential_schema_is_present() -> None:
    credential = build()
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    ]
    assert credential["credentialSchema"] == [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ]
    assert next(iter(credential)) == "@context"


def test_without_credential_schema_the_extensions_context_is_left_out() -> None:
    credential = build(credential_schema=False)
    assert credential["@context"] == [ob3.VC_V2_CONTEXT, ob3.OB3_CONTEXT]
    assert "credentialSchema" not in credential
    assert_valid(credential)


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ({"credentialStatus": {"id": "x", "type": "1EdTechRevocationList"}}, True),
        ({"refreshService": {"id": "x", "type": ["1EdTechCredentialRefresh"]}}, True),
        ({"credentialStatus": {"id": "x", "type": "BitstringStatusListEntry"}}, False),
        ({"@context": [{"type": "1EdTechRevocationList"}]}, False),
        ({"type": 7}, False),
    ],
)
def test_contexts_for_adds_extensions_only_for_1edtech_types(
    fragment: dict[str, Any], expected: bool
) -> None:
    assert (ob3.EXTENSIONS_CONTEXT in ob3.contexts_for(fragment)) is expected


def test_dates_are_utc_with_z_and_whole_seconds() -> None:
    local = timezone(timedelta(hours=2))
    award = make_award(
        issued_on=datetime(2026, 1, 1, 1, 30, 0, 999_999, tzinfo=local),
        valid_from=datetime(2026, 1, 1, 2, 0, 0, tzinfo=local),
        valid_until=datetime(2027, 1, 1, 2, 0, 0, tzinfo=local),
    )
    credential = build(award)
    assert credential["awardedDate"] == "2025-12-31T23:30:00Z"
    assert credential["validFrom"] == "2026-01-01T00:00:00Z"
    assert credential["validUntil"] == "2027-01-01T00:00:00Z"


def test_credits_are_json_numbers_not_strings() -> None:
    credential = build(make_award(credits_earned=Decimal("1.50")))
    assert credential["credentialSubject"]["creditsEarned"] == 1.5
    assert credential["credentialSubject"]["achievement"]["creditsAvailable"] == 1.5
    assert b'"creditsEarned":1.5' in to_json_bytes(credential)
    whole = build(make_award(credits_earned=Decimal("3.00")))
    assert whole["credentialSubject"]["creditsEarned"] == 3
    assert re.search(rb'"creditsEarned":3[,}]', to_json_bytes(whole))


def test_zero_credits_are_stated_not_pruned() -> None:
    credential = build(make_award(credits_earned=Decimal(0)))
    assert credential["credentialSubject"]["creditsEarned"] == 0


def test_an_email_recipient_is_a_salted_hashed_identity_object_matching_the_spec_example() -> None:
    """OB 3.0 §IdentityObject example: a@example.com salted with 'Kosher' (FACTS §1.5)."""
    subject = build()["credentialSubject"]
    assert "id" not in subject
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "hashed": True,
            "identityHash": "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399",
            "identityType": "emailAddress",
            "salt": "Kosher",
        }
    ]


def test_a_did_recipient_is_the_subject_id() -> None:
    both = RecipientInfo(salt="x", email="a@example.com", did=DID_RECIPIENT.did)
    subject = build(recipient=both)["credentialSubject"]
    assert subject["id"] == DID_RECIPIENT.did
    assert "identifier" not in subject


def test_the_embedded_achievement_carries_every_field() -> None:
    doc = ob3.achievement(ACHIEVEMENT, ISSUER)
    assert doc == {
        "id": ACHIEVEMENT.id,
        "type": ["Achievement"],
        "name": "Intro to Ethics",
        "description": "One hour of ethics.",
        "criteria": {
            "id": "https://badges.example.org/achievements/intro-ethics/criteria",
            "narrative": "Attend the session and pass the quiz.",
        },
        "image": {"id": ACHIEVEMENT.image_url, "type": "Image"},
        "achievementType": "MicroCredential",
        "creditsAvailable": 1.5,
        "tag": ["ethics", "ce"],
        "alignment": [
            {
                "type": ["Alignment"],
                "targetCode": "E1",
                "targetName": "Ethics",
                "targetType": "CFItem",
                "targetUrl": "https://framework.example.org/ethics",
            }
        ],
        "humanCode": "ETH-101",
        "fieldOfStudy": "Ethics",
        "version": "2",
        "creator": ob3.profile(ISSUER),
    }


def test_the_profile_embeds_the_image_as_an_image_object() -> None:
    assert ob3.profile(ISSUER) == {
        "id": "did:web:badges.example.org",
        "type": ["Profile"],
        "name": "Institut für Lernen",
        "url": "https://institute.example.org",
        "email": "office@institute.example.org",
        "description": "Continuing education.",
        "image": {"id": "https://badges.example.org/logo.png", "type": "Image"},
    }


def test_a_minimal_profile_has_only_id_type_and_name() -> None:
    issuer = IssuerInfo(id="did:web:x.example", ob2_profile_url="https://x.example/i", name="X")
    assert ob3.profile(issuer) == {"id": "did:web:x.example", "type": ["Profile"], "name": "X"}


def test_evidence_results_and_narrative_are_rendered_with_their_types() -> None:
    award = make_award(
        narrative="Did the work.",
        evidence=(
            EvidenceInfo(url="https://e.example/1", name="Quiz"),
            EvidenceInfo(narrative="Presented to peers."),
        ),
        results=(ResultInfo(value="A", result_description="urn:uuid:rd-1"),),
        image_url="https://badges.example.org/baked/1.png",
    )
    credential = build(award)
    assert credential["evidence"] == [
        {"id": "https://e.example/1", "type": ["Evidence"], "name": "Quiz"},
        {"type": ["Evidence"], "narrative": "Presented to peers."},
    ]
    subject = credential["credentialSubject"]
    assert subject["narrative"] == "Did the work."
    assert subject["result"] == [
        {"type": ["Result"], "resultDescription": "urn:uuid:rd-1", "value": "A"}
    ]
    assert subject["image"] == {"id": "https://badges.example.org/baked/1.png", "type": "Image"}
    assert_valid(credential)


def test_the_credential_name_defaults_to_the_achievement_name() -> None:
    assert build()["name"] == "Intro to Ethics"
    assert build(make_award(name="Intro to Ethics for Ada"))["name"] == "Intro to Ethics for Ada"


def test_result_descriptions_render_for_renewal_credentials() -> None:
    achievement = AchievementInfo(
        id="https://badges.example.org/achievements/cert",
        ob2_badgeclass_url="https://badges.example.org/ob2/badges/cert",
        name="Certified",
        description="Renewed.",
        criteria_narrative="12 CEU in 2 years.",
        achievement_type="Certification",
        result_descriptions=(
            ResultDescriptionInfo(
                id="urn:uuid:rd-ethics",
                name="Ethics CEU",
                result_type="RawScore",
                value_min="0",
                value_max="12",
                required_value="2",
            ),
        ),
    )
    credential = ob3.open_badge_credential(
        make_award(results=(ResultInfo(value="2.5", result_description="urn:uuid:rd-ethics"),)),
        achievement,
        ISSUER,
        EMAIL_RECIPIENT,
    )
    assert credential["credentialSubject"]["achievement"]["resultDescription"] == [
        {
            "id": "urn:uuid:rd-ethics",
            "type": ["ResultDescription"],
            "name": "Ethics CEU",
            "requiredValue": "2",
            "resultType": "RawScore",
            "valueMax": "12",
            "valueMin": "0",
        }
    ]
    assert_valid(credential)


# ------------------------------------------------------------------ status


def test_credential_status_is_one_revocation_bitstring_entry_by_default() -> None:
    award = make_award(suspension=StatusRef(SUSPENSION_URL, 5))
    status = build(award)["credentialStatus"]
    assert status == {
        "id": f"{STATUS_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": STATUS_URL,
    }


def test_a_certification_can_carry_its_suspension_entry_instead() -> None:
    award = make_award(suspension=(SUSPENSION_URL, 5))
    credential = build(award, status_purpose="suspension")
    assert credential["credentialStatus"]["statusPurpose"] == "suspension"
    assert credential["credentialStatus"]["statusListCredential"] == SUSPENSION_URL
    assert credential["credentialStatus"]["id"] == f"{SUSPENSION_URL}#5"
    assert_valid(credential)


@pytest.mark.parametrize("purpose", ["revocation", "suspension"])
def test_asking_for_a_status_the_award_lacks_is_an_error(purpose: Any) -> None:
    award = make_award(revocation=None)
    with pytest.raises(ValueError, match=f"no {purpose} status entry"):
        build(award, status_purpose=purpose)


def test_a_credential_without_status_is_an_explicit_choice() -> None:
    credential = build(make_award(revocation=None), status_purpose=None)
    assert "credentialStatus" not in credential
    assert_valid(credential)


def test_an_unknown_status_purpose_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown status_purpose"):
        build(status_purpose="refresh")  # type: ignore[arg-type]


# ------------------------------------------------------------------ JSON-LD strictness


def test_every_term_and_type_is_defined_by_the_contexts() -> None:
    """Safe-mode JSON-LD (DCC) finds every term; this is why extensions.json is there."""
    jsonld = pytest.importorskip("badger.proofs.jsonld")
    undefined_terms = getattr(jsonld, "undefined_terms", None)
    if undefined_terms is None:
        pytest.skip("badger.proofs.jsonld has no undefined_terms check yet")
    award = make_award(
        narrative="n",
        evidence=(
            EvidenceInfo(url="https://e.example/1", narrative="x", name="n", description="d"),
        ),
        results=(ResultInfo(value="A", status="Completed", result_description="urn:uuid:r"),),
        image_url="https://badges.example.org/b.png",
        valid_until=NOW + timedelta(days=1),
        credits_earned=Decimal("1.25"),
    )
    credential = build(award)
    assert undefined_terms(credential) == []
    without_extensions = {**credential, "@context": credential["@context"][:2]}
    assert [t.term for t in undefined_terms(without_extensions)] == [
        "1EdTechJsonSchemaValidator2019"
    ]


# ------------------------------------------------------------------ model checks


def test_model_values_refuse_what_would_make_an_invalid_document() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        make_award(valid_from=datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValidationError, match="before valid_from"):
        make_award(valid_until=NOW - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="before issued_on"):
        make_award(valid_from=NOW - timedelta(days=2), valid_until=NOW - timedelta(days=1))
    with pytest.raises(ValidationError, match="not a UUID"):
        make_award(public_id="42")
    with pytest.raises(ValidationError, match="non-negative"):
        make_award(credits_earned=Decimal(-1))
    with pytest.raises(ValidationError, match="non-negative"):
        make_award(credits_earned=Decimal("NaN"))
    with pytest.raises(ValidationError, match="index"):
        make_award(revocation=(STATUS_URL, -1))
    with pytest.raises(ValidationError, match="list_url"):
        make_award(suspension=("", 1))
    with pytest.raises(ValidationError, match="email address or a DID"):
        RecipientInfo(salt="s")
    with pytest.raises(ValidationError, match="normalised"):
        RecipientInfo(salt="s", email="Ada@Example.com")
    with pytest.raises(ValidationError, match="without surrounding space"):
        RecipientInfo(salt="s", did=" did:web:learner.example")
    with pytest.raises(ValidationError, match="must be a datetime"):
        make_award(issued_on="2026-01-01T00:00:00Z")
    with pytest.raises(ValidationError, match="salt"):
        RecipientInfo(salt="", email="a@example.com")
    with pytest.raises(ValidationError, match="needs a URL or a narrative"):
        EvidenceInfo(name="nothing to see")
    with pytest.raises(ValidationError, match="ResultStatusType"):
        ResultInfo(status="Done")
    with pytest.raises(ValidationError, match="target_type"):
        achievement_with_unknown_alignment_type()
    with pytest.raises(ValidationError, match="result_type"):
        ResultDescriptionInfo(id="urn:x", name="n", result_type="Score")
    with pytest.raises(ValidationError, match="achievement_type"):
        AchievementInfo(
            id="u",
            ob2_badgeclass_url="u",
            name="n",
            description="d",
            criteria_narrative="c",
            achievement_type="Trophy",
        )
    with pytest.raises(ValidationError, match="not an absolute URI"):
        IssuerInfo(id="badges.example.org", ob2_profile_url="https://x/i", name="X")
    with pytest.raises(ValidationError, match="must start with one of did:, https://"):
        IssuerInfo(id="urn:uuid:1", ob2_profile_url="https://x/i", name="X")
    with pytest.raises(ValidationError, match="absolute URI"):
        make_award(ob3_credential_id="3c574c87")
    with pytest.raises(ValidationError, match=r"issuer\.name"):
        IssuerInfo(id="did:web:x", ob2_profile_url="https://x/i", name=" ")


def achievement_with_unknown_alignment_type() -> AchievementInfo:
    return AchievementInfo(
        id="u",
        ob2_badgeclass_url="u",
        name="n",
        description="d",
        criteria_narrative="c",
        alignments=[Alignment(target_name="t", target_url="https://t", target_type="Skill")],
    )


def test_model_values_normalise_sequences_and_ids() -> None:
    award = make_award(public_id=PUBLIC_ID.upper(), evidence=[EvidenceInfo(url="https://e")])
    assert award.public_id == PUBLIC_ID
    assert isinstance(award.evidence, tuple)
    assert award.revocation == StatusRef(STATUS_URL, 94567)
    issuer = IssuerInfo(
        id="did:web:x", ob2_profile_url="https://x/i", name="X", ob2_public_key_urls=["k"]
    )
    assert issuer.ob2_public_key_urls == ("k",)


# ------------------------------------------------------------------ helpers


def test_prune_drops_nulls_and_empties_but_keeps_false_and_zero() -> None:
    assert prune(
        {
            "a": None,
            "b": [],
            "c": {},
            "d": "",
            "e": False,
            "f": 0,
            "g": [None, "", [], {"x": None}, "y", 0],
            "h": {"i": {"j": None}},
            "k": ("t",),
            "l": 0.0,
        }
    ) == {"e": False, "f": 0, "g": ["y", 0], "k": ["t"], "l": 0.0}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_prune_never_leaves_an_empty_value_behind(value: Any) -> None:
    pruned = prune({"root": value, "keep": True})
    assert_no_empties(pruned)
    assert prune(pruned) == pruned


def test_format_datetime_refuses_naive_datetimes() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        format_datetime(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    assert format_datetime(NOW) == "2026-03-14T15:09:26Z"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1.5"), 1.5),
        (Decimal("2.00"), 2),
        (Decimal("0"), 0),
        (Decimal("1E+1"), 10),
        (Decimal("0.25"), 0.25),
    ],
)
def test_json_number_keeps_whole_amounts_integral(amount: Decimal, expected: float) -> None:
    result = json_number(amount)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), 1.5])
def test_json_number_refuses_non_finite_or_non_decimal_values(bad: Any) -> None:
    with pytest.raises(ValueError, match="finite Decimal"):
        json_number(bad)


def test_to_json_bytes_is_compact_utf8_in_builder_order() -> None:
    credential = build()
    data = to_json_bytes(credential)
    assert data.startswith(b'{"@context":["https://www.w3.org/ns/credentials/v2",')
    assert "Institut für Lernen".encode() in data
    assert b"\\u00fc" not in data
    assert b": " not in data
    assert b", " not in data
    assert not data.endswith(b"\n")
    assert to_json_bytes(build()) == data
    assert json.loads(data) == credential


def test_to_json_bytes_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        to_json_bytes({"x": float("nan")})
    with pytest.raises(ValueError, match="not valid Unicode"):
        to_json_bytes({"x": "\ud800"})
    with pytest.raises(TypeError):
        to_json_bytes({"x": Decimal(1)})


def test_the_credential_id_is_the_award_urn() -> None:
    assert build()["id"] == uuid.UUID(PUBLIC_ID).urn


@pytest.mark.parametrize(
    ("damage", "where"),
    [
        (lambda c: c["credentialSubject"].update(creditsEarned="1.5"), "creditsEarned"),
        (lambda c: c["credentialSubject"]["achievement"].update(image="https://x/i.png"), "image"),
        (lambda c: c.update(credentialStatus=[c["credentialStatus"]]), "credentialStatus"),
        (lambda c: c.update({"@context": c["@context"][::-1]}), "@context"),
        (lambda c: c["issuer"].update(type="Profile"), "type"),
    ],
)
def test_the_strict_schema_catches_the_classic_mistakes(damage: Any, where: str) -> None:
    """The yardstick is not vacuous: the pitfalls of FACTS §5 fail the strict schema."""
    credential = json.loads(to_json_bytes(build()))
    damage(credential)
    strict = schema_validators()["strict"]
    errors = list(strict.iter_errors({**credential, "proof": FAKE_PROOF}))
    assert errors
    assert any(where in "/".join(map(str, e.absolute_path)) or where in e.message for e in errors)
