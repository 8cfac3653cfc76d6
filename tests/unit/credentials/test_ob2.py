"""OB 2.0 builders: hosted and signed assertions, BadgeClass, Profile, RevocationList (FACTS §1)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from badger.credentials import ob2
from badger.credentials.model import (
    AchievementInfo,
    Alignment,
    AwardInfo,
    EvidenceInfo,
    IssuerInfo,
    RecipientInfo,
    to_json_bytes,
)
from badger.domain.errors import ValidationError
from badger.domain.recipients import identity_matches, normalize_email
from tests.conftest import spec_path

DATE_TIME_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NOW = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)
PUBLIC_ID = "a953081a-4bbd-4927-9653-7219bca00e3b"
KEY_URL = "https://badges.example.org/ob2/keys/2026-rsa"
OLD_KEY_URL = "https://badges.example.org/ob2/keys/2024-rsa"

ISSUER = IssuerInfo(
    id="did:web:badges.example.org",
    ob2_profile_url="https://badges.example.org/ob2/issuer.json",
    name="An Example Badge Issuer",
    url="https://example.org",
    email="contact@example.org",
    image_url="https://badges.example.org/logo.png",
    ob2_public_key_urls=(KEY_URL, OLD_KEY_URL),
    ob2_revocation_list_url="https://badges.example.org/ob2/revocations.json",
)
ACHIEVEMENT = AchievementInfo(
    id="https://badges.example.org/achievements/robotics",
    ob2_badgeclass_url="https://badges.example.org/ob2/badges/robotics",
    name="Awesome Robotics Badge",
    description="For doing awesome things with robots.",
    criteria_narrative="Build a robot.",
    criteria_url="https://badges.example.org/achievements/robotics/criteria",
    image_url="https://badges.example.org/robotics.png",
    tags=("robots", "awesome"),
    alignments=(
        Alignment(
            target_name="Problem-Solving",
            target_url="https://learning.example.org/skills#problem-solving",
            target_description="Using research and rapid prototyping.",
            target_framework="21st Century Skills",
            target_code="PS",
            target_type="CFItem",
        ),
    ),
    credits_available=Decimal(2),
    version="1",
)
RECIPIENT = RecipientInfo(salt="deadsea", email="beth@example.org")


def spec_example(name: str) -> dict[str, Any]:
    path = spec_path() / "ob_v2p0" / "examples" / name
    if not path.is_file():
        pytest.skip(f"OB 2.0 example not found at {path} (set BADGER_SPEC_DIR)")
    return json.loads(path.read_text(encoding="utf-8"))


def make_award(**changes: Any) -> AwardInfo:
    values: dict[str, Any] = {
        "public_id": PUBLIC_ID,
        "ob2_assertion_url": f"https://badges.example.org/ob2/assertions/{PUBLIC_ID}",
        "ob3_credential_id": f"urn:uuid:{PUBLIC_ID}",
        "issued_on": NOW,
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=180),
        "evidence": (EvidenceInfo(url="https://example.org/beths-robot-work.html"),),
        "image_url": "https://badges.example.org/ob2/assertions/a9.png",
    }
    values.update(changes)
    return AwardInfo(**values)


def assert_no_empties(value: Any, path: str = "$") -> None:
    assert value is not None, f"null at {path}"
    if isinstance(value, str | list | dict):
        assert len(value) > 0, f"empty value at {path}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_empties(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_empties(item, f"{path}[{i}]")


# ------------------------------------------------------------------ hosted assertion

REQUIRED_ASSERTION_KEYS = {
    "@context",
    "id",
    "type",
    "recipient",
    "badge",
    "verification",
    "issuedOn",
}


def test_a_hosted_assertion_has_every_required_field() -> None:
    assertion = ob2.hosted_assertion(make_award(), ACHIEVEMENT, ISSUER, RECIPIENT)
    assert set(assertion) >= REQUIRED_ASSERTION_KEYS
    assert assertion["@context"] == "https://w3id.org/openbadges/v2"
    assert assertion["type"] == "Assertion"
    assert assertion["id"] == f"https://badges.example.org/ob2/assertions/{PUBLIC_ID}"
    assert assertion["badge"] == ACHIEVEMENT.ob2_badgeclass_url
    assert assertion["verification"] == {"type": "hosted"}
    assert assertion["issuedOn"] == "2026-03-14T15:09:26Z"
    assert assertion["expires"] == "2026-09-10T15:09:26Z"
    assert assertion["image"] == "https://badges.example.org/ob2/assertions/a9.png"
    assert assertion["evidence"] == [{"id": "https://example.org/beths-robot-work.html"}]
    assert_no_empties(assertion)


def test_the_hosted_assertion_has_the_keys_of_the_spec_example() -> None:
    example = spec_example("assertion-hosted.json")
    assertion = ob2.hosted_assertion(make_award(), ACHIEVEMENT, ISSUER, RECIPIENT)
    assert set(assertion) == set(example)
    assert set(assertion["recipient"]) == set(example["recipient"])
    assert assertion["verification"] == example["verification"]


def test_the_recipient_is_a_salted_sha256_of_the_email() -> None:
    recipient = ob2.hosted_assertion(make_award(), ACHIEVEMENT, ISSUER, RECIPIENT)["recipient"]
    digest = hashlib.sha256(b"beth@example.orgdeadsea").hexdigest()
    assert recipient == {
        "type": "email",
        "hashed": True,
        "salt": "deadsea",
        "identity": f"sha256${digest}",
    }
    assert identity_matches("beth@example.org", recipient["identity"], "deadsea", hashed=True)


def test_the_hash_matches_the_spec_example_for_a_at_example_com_salted_kosher() -> None:
    """Same rule in both versions; the OB 3.0 spec publishes this value (FACTS §1.5)."""
    recipient = ob2.recipient_identity(RecipientInfo(salt="Kosher", email="a@example.com"))
    assert recipient["identity"] == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )


def test_a_did_only_recipient_is_hashed_with_type_id() -> None:
    did = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    recipient = ob2.recipient_identity(RecipientInfo(salt="pepper", did=did))
    assert recipient["type"] == "id"
    assert recipient["hashed"] is True
    assert recipient["identity"] == "sha256$" + hashlib.sha256(f"{did}pepper".encode()).hexdigest()


def test_email_wins_over_did_in_ob2_because_backpacks_match_on_email() -> None:
    both = RecipientInfo(salt="s", email="beth@example.org", did="did:web:beth.example")
    assert ob2.recipient_identity(both)["type"] == "email"


def test_narrative_and_rich_evidence_are_rendered() -> None:
    award = make_award(
        narrative="Built a walking robot.",
        evidence=(
            EvidenceInfo(
                url="https://example.org/video",
                name="Demo",
                description="A video",
                narrative="Shows it walking",
            ),
            EvidenceInfo(narrative="Peer review notes."),
        ),
    )
    assertion = ob2.hosted_assertion(award, ACHIEVEMENT, ISSUER, RECIPIENT)
    assert assertion["narrative"] == "Built a walking robot."
    assert assertion["evidence"] == [
        {
            "id": "https://example.org/video",
            "name": "Demo",
            "description": "A video",
            "narrative": "Shows it walking",
        },
        {"narrative": "Peer review notes."},
    ]


def test_optional_assertion_fields_are_omitted_not_null() -> None:
    award = make_award(valid_until=None, evidence=(), image_url=None)
    assertion = ob2.hosted_assertion(award, ACHIEVEMENT, ISSUER, RECIPIENT)
    assert set(assertion) == REQUIRED_ASSERTION_KEYS
    assert_no_empties(assertion)


def test_a_hosted_assertion_off_the_issuer_host_is_refused() -> None:
    award = make_award(ob2_assertion_url="https://elsewhere.example.net/a/1")
    with pytest.raises(ValueError, match="not on the issuer's host"):
        ob2.hosted_assertion(award, ACHIEVEMENT, ISSUER, RECIPIENT)


emails = st.emails().map(str.lower)


@settings(max_examples=100, deadline=None)
@given(
    email=emails,
    salt=st.text(min_size=1, max_size=30).filter(str.strip),
    issued_on=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive by API
        max_value=datetime(2090, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3, minutes=-30))]),
    ),
    duration=st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
    narrative=st.none() | st.text(max_size=50),
)
def test_every_hosted_assertion_is_well_formed(
    email: str,
    salt: str,
    issued_on: datetime,
    duration: timedelta | None,
    narrative: str | None,
) -> None:
    try:
        email = normalize_email(email)
    except ValidationError:
        assume(False)
    award = make_award(
        issued_on=issued_on,
        valid_from=issued_on,
        valid_until=None if duration is None else issued_on + duration,
        narrative=narrative,
    )
    recipient = RecipientInfo(salt=salt, email=email)
    assertion = ob2.hosted_assertion(award, ACHIEVEMENT, ISSUER, recipient)

    assert set(assertion) >= REQUIRED_ASSERTION_KEYS
    assert_no_empties(assertion)
    expected = hashlib.sha256((email + salt).encode()).hexdigest()
    assert assertion["recipient"]["identity"] == f"sha256${expected}"
    assert DATE_TIME_Z.match(assertion["issuedOn"])
    if duration is None:
        assert "expires" not in assertion
    else:
        assert DATE_TIME_Z.match(assertion["expires"])
        assert assertion["expires"] >= assertion["issuedOn"]
    assert json.loads(to_json_bytes(assertion)) == assertion


# ------------------------------------------------------------------ signed assertion


def test_a_signed_assertion_uses_the_urn_and_names_its_key() -> None:
    example = spec_example("signed-assertion-jws-payload.json")
    assertion = ob2.signed_assertion(make_award(), ACHIEVEMENT, ISSUER, RECIPIENT, creator=KEY_URL)
    assert assertion["id"] == f"urn:uuid:{PUBLIC_ID}"
    assert assertion["verification"] == {"type": "SignedBadge", "creator": KEY_URL}
    assert set(example) <= set(assertion)
    hosted = ob2.hosted_assertion(make_award(), ACHIEVEMENT, ISSUER, RECIPIENT)
    assert {k: v for k, v in assertion.items() if k not in {"id", "verification"}} == {
        k: v for k, v in hosted.items() if k not in {"id", "verification"}
    }


def test_a_retired_but_published_key_may_still_sign() -> None:
    assertion = ob2.signed_assertion(
        make_award(), ACHIEVEMENT, ISSUER, RECIPIENT, creator=OLD_KEY_URL
    )
    assert assertion["verification"]["creator"] == OLD_KEY_URL


def test_a_signed_assertion_with_an_unpublished_key_is_refused() -> None:
    with pytest.raises(ValueError, match="not among the issuer's published public keys"):
        ob2.signed_assertion(
            make_award(), ACHIEVEMENT, ISSUER, RECIPIENT, creator="https://evil.example/key"
        )


# ------------------------------------------------------------------ BadgeClass


def test_the_badge_class_matches_the_spec_example_shape() -> None:
    example = spec_example("badgeclass.json")
    badge = ob2.badge_class(ACHIEVEMENT, ISSUER)
    assert set(example) <= set(badge)
    assert badge == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "BadgeClass",
        "id": ACHIEVEMENT.ob2_badgeclass_url,
        "name": "Awesome Robotics Badge",
        "description": "For doing awesome things with robots.",
        "image": "https://badges.example.org/robotics.png",
        "criteria": {
            "id": "https://badges.example.org/achievements/robotics/criteria",
            "narrative": "Build a robot.",
        },
        "issuer": ISSUER.ob2_profile_url,
        "tags": ["robots", "awesome"],
        "alignment": [
            {
                "targetName": "Problem-Solving",
                "targetUrl": "https://learning.example.org/skills#problem-solving",
                "targetDescription": "Using research and rapid prototyping.",
                "targetFramework": "21st Century Skills",
                "targetCode": "PS",
            }
        ],
        "version": "1",
    }
    for alignment in badge["alignment"]:
        assert set(alignment) <= set().union(*(set(a) for a in example["alignment"]))


def test_a_badge_class_without_an_image_is_refused() -> None:
    achievement = AchievementInfo(
        id="https://x/a",
        ob2_badgeclass_url="https://x/b",
        name="n",
        description="d",
        criteria_narrative="c",
    )
    with pytest.raises(ValueError, match=r"BadgeClass\.image is required"):
        ob2.badge_class(achievement, ISSUER)


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("data:image/svg+xml;base64,PHN2Zy8+", True),
        ("data:image/jpeg;base64,/9j/", False),
        ("https://x/badge.png", True),
    ],
)
def test_image_data_uris_must_be_png_or_svg(image: str, ok: bool) -> None:
    achievement = AchievementInfo(
        id="https://x/a",
        ob2_badgeclass_url="https://x/b",
        name="n",
        description="d",
        criteria_narrative="c",
        image_url=image,
    )
    if ok:
        assert ob2.badge_class(achievement, ISSUER)["image"] == image
    else:
        with pytest.raises(ValueError, match="image/png or image/svg"):
            ob2.badge_class(achievement, ISSUER)


def test_a_minimal_badge_class_has_only_required_fields_and_criteria_narrative() -> None:
    achievement = AchievementInfo(
        id="https://x/a",
        ob2_badgeclass_url="https://x/b",
        name="n",
        description="d",
        criteria_narrative="c",
        image_url="https://x/i.svg",
    )
    badge = ob2.badge_class(achievement, ISSUER)
    assert set(badge) == {
        "@context",
        "type",
        "id",
        "name",
        "description",
        "image",
        "criteria",
        "issuer",
    }
    assert badge["criteria"] == {"narrative": "c"}


# ------------------------------------------------------------------ issuer Profile


def test_the_issuer_profile_matches_the_spec_example_shape() -> None:
    example = spec_example("issuer-profile.json")
    profile = ob2.issuer_profile(ISSUER)
    assert set(profile) == set(example)
    assert profile["type"] == "Issuer"
    assert profile["id"] == ISSUER.ob2_profile_url
    assert profile["publicKey"] == [KEY_URL, OLD_KEY_URL]
    assert profile["revocationList"] == ISSUER.ob2_revocation_list_url


def test_a_minimal_issuer_profile_omits_keys_and_revocation_list() -> None:
    issuer = IssuerInfo(
        id="https://x.example/i",
        ob2_profile_url="https://x.example/i",
        name="X",
        url="https://x.example",
        email="x@x.example",
    )
    assert ob2.issuer_profile(issuer) == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": "https://x.example/i",
        "name": "X",
        "url": "https://x.example",
        "email": "x@x.example",
    }


@pytest.mark.parametrize("missing", ["url", "email"])
def test_an_issuer_profile_without_url_or_email_is_refused(missing: str) -> None:
    values = {"url": "https://x.example", "email": "x@x.example", missing: None}
    issuer = IssuerInfo(
        id="https://x.example/i", ob2_profile_url="https://x.example/i", name="X", **values
    )
    with pytest.raises(ValueError, match=f"an issuer {missing}"):
        ob2.issuer_profile(issuer)


# ------------------------------------------------------------------ RevocationList


def test_the_revocation_list_names_revoked_assertions_and_reasons() -> None:
    example = spec_example("revocationlist.json")
    doc = ob2.revocation_list(
        ISSUER,
        [
            ("urn:uuid:3c574c87-b96f-4f06-8eb5-68a29335b60e", None),
            ("urn:uuid:e79a6c18-787e-4868-8e65-e6a4530fb418", "Honor code violation"),
        ],
    )
    assert set(doc) == set(example)
    assert doc["type"] == "RevocationList"
    assert doc["id"] == ISSUER.ob2_revocation_list_url
    assert doc["issuer"] == ISSUER.ob2_profile_url
    assert doc["revokedAssertions"] == [
        {"id": "urn:uuid:3c574c87-b96f-4f06-8eb5-68a29335b60e"},
        {
            "id": "urn:uuid:e79a6c18-787e-4868-8e65-e6a4530fb418",
            "revocationReason": "Honor code violation",
        },
    ]


def test_an_empty_revocation_list_keeps_its_required_array() -> None:
    assert ob2.revocation_list(ISSUER, [])["revokedAssertions"] == []


def test_a_revocation_list_needs_its_url_and_assertion_ids() -> None:
    issuer = IssuerInfo(id="https://x/i", ob2_profile_url="https://x/i", name="X")
    with pytest.raises(ValueError, match="revocationList URL"):
        ob2.revocation_list(issuer, [])
    with pytest.raises(ValueError, match="revoked assertion id"):
        ob2.revocation_list(ISSUER, [("", "oops")])
