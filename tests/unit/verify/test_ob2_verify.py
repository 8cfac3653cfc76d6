"""OB 2.0 verification: hosted and signed badges served by an in-memory fetcher.

Each test builds a small issuer world (Profile, BadgeClass, CryptographicKey,
RevocationList) as plain dicts, signs with a real RS256 key from the in-memory
key store, and asks the verifier for a report. No network: documents come from
:class:`badger.verify.fetch.MemoryFetcher`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badger.proofs.jws import sign_ob2_assertion
from badger.proofs.keystore import MemoryKeyStore, Signer
from badger.verify.context import VerifyContext
from badger.verify.fetch import MemoryFetcher
from badger.verify.ob2 import verify_ob2_assertion, verify_ob2_jws
from badger.verify.ports import FetchError
from badger.verify.report import Report, Status, Step, Verdict

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
CONTEXT = "https://w3id.org/openbadges/v2"
ORIGIN = "https://issuer.example.org"
ISSUER = f"{ORIGIN}/issuer"
BADGE = f"{ORIGIN}/badges/robotics"
KEY = f"{ORIGIN}/keys/1"
REVOCATIONS = f"{ORIGIN}/revocations"
HOSTED_ID = f"{ORIGIN}/assertions/1"
SIGNED_ID = "urn:uuid:a953081a-4bbd-4927-9653-7219bca00e3b"
EMAIL = "ada@example.org"
SALT = "deadsea"


def identity_hash(value: str, salt: str = SALT) -> str:
    return "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()


# ---------------------------------------------------------------- keys and world


@pytest.fixture(scope="module")
def keys() -> MemoryKeyStore:
    """RSA generation is slow: one store (two issuers' keys) for the module."""
    store = MemoryKeyStore()
    store.ensure_keys("acme")
    store.ensure_keys("mallory")
    return store


@pytest.fixture(scope="module")
def signer(keys: MemoryKeyStore) -> Signer:
    return keys.signer("acme", "RS256")


@pytest.fixture(scope="module")
def public_pem(keys: MemoryKeyStore) -> str:
    return keys.active_key("acme", "RS256").public_pem


def issuer_profile(**changes: Any) -> dict[str, Any]:
    doc = {
        "@context": CONTEXT,
        "type": "Issuer",
        "id": ISSUER,
        "name": "Example Institute",
        "url": ORIGIN,
        "email": "office@issuer.example.org",
        "publicKey": KEY,
        "revocationList": REVOCATIONS,
    }
    doc.update(changes)
    return doc


def badge_class(**changes: Any) -> dict[str, Any]:
    doc = {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": BADGE,
        "name": "Robotics",
        "description": "Built a robot that walks.",
        "image": f"{ORIGIN}/badges/robotics.png",
        "criteria": {"narrative": "Build a robot."},
        "issuer": ISSUER,
    }
    doc.update(changes)
    return doc


def crypto_key(pem: str, **changes: Any) -> dict[str, Any]:
    doc = {
        "@context": CONTEXT,
        "type": "CryptographicKey",
        "id": KEY,
        "owner": ISSUER,
        "publicKeyPem": pem,
    }
    doc.update(changes)
    return doc


def revocation_list(*entries: Any) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "RevocationList",
        "id": REVOCATIONS,
        "issuer": ISSUER,
        "revokedAssertions": list(entries),
    }


def assertion(*, signed: bool = False, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": SIGNED_ID if signed else HOSTED_ID,
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": SALT,
            "identity": identity_hash(EMAIL),
        },
        "badge": BADGE,
        "verification": (
            {"type": "SignedBadge", "creator": KEY} if signed else {"type": "HostedBadge"}
        ),
        "issuedOn": "2026-01-10T09:00:00Z",
    }
    doc.update(changes)
    return doc


@pytest.fixture
def world(public_pem: str) -> MemoryFetcher:
    """The issuer's documents, as its server would answer them."""
    fetcher = MemoryFetcher()
    fetcher.add(ISSUER, issuer_profile())
    fetcher.add(BADGE, badge_class())
    fetcher.add(KEY, crypto_key(public_pem))
    fetcher.add(REVOCATIONS, revocation_list("urn:uuid:00000000-0000-4000-8000-000000000000"))
    return fetcher


def context(fetcher: MemoryFetcher, recipient: str | None = None) -> VerifyContext:
    return VerifyContext(now=NOW, fetcher=fetcher, recipient=recipient)


def hosted(world: MemoryFetcher, doc: dict[str, Any] | None = None, **kw: Any) -> Report:
    doc = doc if doc is not None else assertion()
    world.add(doc["id"], doc)
    return verify_ob2_assertion(copy.deepcopy(doc), context(world, **kw))


def codes(report: Report) -> dict[str, Status]:
    return {c.code: c.status for c in report.checks}


def check(report: Report, code: str) -> Any:
    return next(c for c in report.checks if c.code == code)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# ---------------------------------------------------------------- hosted


def test_hosted_assertion_served_on_the_issuer_host_is_valid(world: MemoryFetcher) -> None:
    report = hosted(world)

    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "ob2-hosted"
    assert codes(report) == {
        "ob2_assertion": Status.PASSED,
        "ob2_context": Status.PASSED,
        "not_revoked": Status.PASSED,
        "assertion_schema": Status.PASSED,
        "badgeclass_schema": Status.PASSED,
        "issuer_profile": Status.PASSED,
        "hosted_origin": Status.PASSED,
        "issued_on": Status.PASSED,
        "expires": Status.NOT_APPLICABLE,
        "recipient": Status.NOT_APPLICABLE,
    }
    assert report.summary == {
        "id": HOSTED_ID,
        "issued_on": "2026-01-10T09:00:00Z",
        "expires": None,
        "recipient_type": "email",
        "badge_id": BADGE,
        "name": "Robotics",
        "description": "Built a robot that walks.",
        "image": f"{ORIGIN}/badges/robotics.png",
        "issuer": "Example Institute",
        "issuer_id": ISSUER,
    }


def test_hosted_assertion_is_refetched_from_its_own_id(world: MemoryFetcher) -> None:
    served = assertion(expires="2026-02-01T00:00:00Z")
    world.add(HOSTED_ID, served)
    given_copy = assertion()  # the holder's copy leaves out the expiry

    report = verify_ob2_assertion(given_copy, context(world), source_url="https://mirror.test/a")

    assert HOSTED_ID in world.requests
    assert report.verdict is Verdict.EXPIRED
    assert codes(report)["input_differs"] is Status.WARNING
    assert check(report, "not_revoked").details["source_url"] == "https://mirror.test/a"


def test_hosted_assertion_answering_410_is_revoked_with_the_reason(
    world: MemoryFetcher,
) -> None:
    world.add(
        HOSTED_ID,
        {"@context": CONTEXT, "id": HOSTED_ID, "revoked": True, "revocationReason": "Cheating"},
        status=410,
    )

    report = verify_ob2_assertion(assertion(), context(world))

    assert report.verdict is Verdict.REVOKED
    revoked = check(report, "revoked")
    assert revoked.step is Step.STATUS
    assert "Cheating" in revoked.message


def test_hosted_410_without_a_body_is_still_revoked(world: MemoryFetcher) -> None:
    world.add(HOSTED_ID, b"Gone", status=410, content_type="text/plain")

    report = verify_ob2_assertion(assertion(), context(world))

    assert report.verdict is Verdict.REVOKED
    assert "no reason" in check(report, "revoked").message


def test_hosted_assertion_marked_revoked_true_is_revoked(world: MemoryFetcher) -> None:
    world.add(HOSTED_ID, {"@context": CONTEXT, "id": HOSTED_ID, "revoked": True})

    report = verify_ob2_assertion(assertion(), context(world))

    assert report.verdict is Verdict.REVOKED


def test_hosted_assertion_on_a_host_the_issuer_does_not_allow_is_invalid(
    world: MemoryFetcher,
) -> None:
    forged = assertion(id="https://evil.example.com/assertions/1")

    report = hosted(world, forged)

    assert report.verdict is Verdict.INVALID
    failure = check(report, "hosted_origin_mismatch")
    assert failure.step is Step.SIGNATURE
    assert "evil.example.com" in failure.message


def test_allowed_origins_policy_lets_the_issuer_host_assertions_elsewhere(
    world: MemoryFetcher,
) -> None:
    world.add(ISSUER, issuer_profile(verification={"allowedOrigins": ["badges.example.net"]}))

    ok = hosted(world, assertion(id="https://badges.example.net/a/1"))
    not_listed = hosted(world, assertion(id=f"{ORIGIN}/a/2"))

    assert ok.verdict is Verdict.VALID, ok.as_json()
    assert not_listed.verdict is Verdict.INVALID


def test_starts_with_policy_rejects_assertions_outside_the_prefix(world: MemoryFetcher) -> None:
    world.add(ISSUER, issuer_profile(verification={"startsWith": f"{ORIGIN}/assertions/"}))

    inside = hosted(world, assertion())
    outside = hosted(world, assertion(id=f"{ORIGIN}/uploads/1"))

    assert inside.verdict is Verdict.VALID
    assert outside.verdict is Verdict.INVALID
    assert "does not start with" in check(outside, "hosted_origin_mismatch").message


def test_unsupported_verification_property_is_refused(world: MemoryFetcher) -> None:
    world.add(ISSUER, issuer_profile(verification={"verificationProperty": "badge"}))

    report = hosted(world)

    assert codes(report)["verification_policy_unsupported"] is Status.FAILED


def test_unreachable_hosted_assertion_is_invalid_with_the_fetch_error(
    world: MemoryFetcher,
) -> None:
    world.documents[HOSTED_ID] = FetchError("timeout", "took too long")

    report = verify_ob2_assertion(assertion(), context(world))

    assert report.verdict is Verdict.INVALID
    failure = check(report, "assertion_unreachable")
    assert failure.details["fetch_error"] == "timeout"
    assert "took too long" in failure.message


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (404, "text/html", b"<h1>Not found</h1>"),
        (500, "application/json", b"{}"),
        (200, "text/html", b"<html>login</html>"),
        (200, "application/json", b"[1, 2]"),
        (200, "application/json", b"[" * 5000 + b"]" * 5000),
    ],
)
def test_bad_answers_at_the_assertion_url_fail_cleanly(
    world: MemoryFetcher, status: int, content_type: str, body: bytes
) -> None:
    world.add(HOSTED_ID, body, status=status, content_type=content_type)

    report = verify_ob2_assertion(assertion(), context(world))

    assert report.verdict is Verdict.INVALID
    assert codes(report)["assertion_unreachable"] is Status.FAILED


def test_document_served_with_another_id_is_not_the_assertion(world: MemoryFetcher) -> None:
    world.add(HOSTED_ID, assertion(id=f"{ORIGIN}/assertions/other"))

    report = verify_ob2_assertion(assertion(), context(world))

    assert codes(report)["assertion_id_mismatch"] is Status.FAILED


def test_hosted_assertion_whose_id_is_not_a_url_cannot_be_verified(
    world: MemoryFetcher,
) -> None:
    report = verify_ob2_assertion(assertion(id="urn:uuid:1234"), context(world))

    assert report.verdict is Verdict.INVALID
    assert codes(report)["assertion_id_not_url"] is Status.FAILED
    assert world.requests == []


def test_json_of_a_signed_assertion_alone_proves_nothing(world: MemoryFetcher) -> None:
    report = verify_ob2_assertion(assertion(signed=True), context(world))

    assert report.verdict is Verdict.INVALID
    assert codes(report)["signature_missing"] is Status.FAILED


@pytest.mark.parametrize("doc", [None, [], "text", 3, {"type": "BadgeClass", "id": BADGE}])
def test_input_that_is_not_an_assertion_is_unusable(world: MemoryFetcher, doc: Any) -> None:
    report = verify_ob2_assertion(doc, context(world))

    assert report.verdict is Verdict.UNUSABLE
    assert codes(report) == {"not_an_assertion": Status.FAILED}


def test_missing_or_foreign_context_warns_but_does_not_fail(world: MemoryFetcher) -> None:
    bare = assertion()
    del bare["@context"]
    foreign = assertion(**{"@context": ["https://w3id.org/openbadges/v1"]})

    assert codes(hosted(world, bare))["context_missing"] is Status.WARNING
    report = hosted(world, foreign)
    assert codes(report)["context_unexpected"] is Status.WARNING
    assert report.verdict is Verdict.VALID


def test_verify_alias_and_hosted_alias_are_understood(world: MemoryFetcher) -> None:
    doc = assertion()
    del doc["verification"]
    doc["verify"] = {"type": "hosted"}

    assert hosted(world, doc).verdict is Verdict.VALID


# ---------------------------------------------------------------- required fields


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("type", None, "type must be 'Assertion'"),
        ("recipient", None, "recipient must be an IdentityObject"),
        ("badge", None, "badge must be"),
        ("verification", None, "verification is missing"),
        ("issuedOn", None, "issuedOn is missing"),
        ("issuedOn", 1483228799, "Unix timestamps"),
        ("issuedOn", "2026-01-10T09:00:00", "no time zone"),
        ("issuedOn", "last tuesday", "not an ISO 8601"),
        ("expires", ["2027"], "expires must be an ISO 8601"),
        ("recipient", {"type": "email", "identity": EMAIL}, "recipient.hashed"),
        ("recipient", {"type": "shoe", "identity": EMAIL, "hashed": False}, "recipient.type"),
        ("recipient", {"type": "email", "identity": "sha256$xyz", "hashed": True}, "64 hex"),
        ("recipient", {"type": "email", "identity": 7, "hashed": False}, "recipient.identity"),
        ("revoked", "no", "revoked must be"),
        ("image", 12, "image must be"),
    ],
)
def test_assertion_with_a_missing_or_mistyped_property_is_invalid(
    world: MemoryFetcher, field: str, value: Any, words: str
) -> None:
    doc = assertion()
    if value is None:
        doc.pop(field, None)
    else:
        doc[field] = value

    report = hosted(world, doc)

    assert report.verdict is Verdict.INVALID
    failure = check(report, "assertion_invalid")
    assert failure.step is Step.SCHEMA
    assert words in failure.message


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("name", None, "name is missing"),
        ("description", "  ", "description is missing"),
        ("image", None, "image is missing"),
        ("image", "data:image/gif;base64,R0lGOD", "image/png or image/svg+xml"),
        ("criteria", None, "criteria must be"),
        ("type", "Badge", "type must be 'BadgeClass'"),
    ],
)
def test_badge_class_without_required_properties_is_invalid(
    world: MemoryFetcher, field: str, value: Any, words: str
) -> None:
    badge = badge_class()
    if value is None:
        del badge[field]
    else:
        badge[field] = value
    world.add(BADGE, badge)

    report = hosted(world)

    assert report.verdict is Verdict.INVALID
    assert words in check(report, "badgeclass_invalid").message


def test_badge_class_without_an_issuer_stops_the_run(world: MemoryFetcher) -> None:
    badge = badge_class()
    del badge["issuer"]
    world.add(BADGE, badge)

    report = hosted(world)

    assert report.checks[-1].code == "badgeclass_invalid"
    assert ISSUER not in world.requests


def test_embedded_badge_class_is_read_without_fetching(world: MemoryFetcher) -> None:
    del world.documents[BADGE]

    report = hosted(world, assertion(badge=badge_class()))

    assert report.verdict is Verdict.VALID, report.as_json()
    assert BADGE not in world.requests


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (FetchError("dns_failed", "could not resolve"), "badgeclass_unreachable"),
        ((404, "text/html", b"nope"), "badgeclass_unreachable"),
        ((200, "application/json", b'"a string"'), "badgeclass_unreachable"),
        (
            (200, "application/json", json.dumps(badge_class(id=f"{ORIGIN}/x"))),
            "badgeclass_id_mismatch",
        ),
    ],
)
def test_badge_class_fetch_problems_fail_cleanly(
    world: MemoryFetcher, answer: Any, code: str
) -> None:
    world.documents[BADGE] = answer

    report = hosted(world)

    assert report.verdict is Verdict.INVALID
    assert codes(report)[code] is Status.FAILED


def test_badge_class_iri_that_is_not_http_cannot_be_read(world: MemoryFetcher) -> None:
    report = hosted(world, assertion(badge="urn:uuid:badge"))

    assert codes(report)["badgeclass_unreachable"] is Status.FAILED


@pytest.mark.parametrize(
    ("issuer_ref", "answer", "code"),
    [
        (ISSUER, FetchError("connection_failed", "refused"), "issuer_unreachable"),
        (ISSUER, (200, "text/html", b"<html/>"), "issuer_unreachable"),
        (
            ISSUER,
            (200, "application/json", json.dumps(issuer_profile(id=f"{ORIGIN}/x"))),
            "issuer_id_mismatch",
        ),
        (ISSUER, (200, "application/json", json.dumps(badge_class(id=ISSUER))), "issuer_invalid"),
        ("urn:uuid:issuer", None, "issuer_unresolvable"),
    ],
)
def test_issuer_profile_problems_fail_cleanly(
    world: MemoryFetcher, issuer_ref: str, answer: Any, code: str
) -> None:
    world.add(BADGE, badge_class(issuer=issuer_ref))
    if answer is not None:
        world.documents[ISSUER] = answer

    report = hosted(world)

    assert report.verdict is Verdict.INVALID
    assert codes(report)[code] is Status.FAILED


def test_embedded_issuer_policy_is_never_trusted(world: MemoryFetcher) -> None:
    """An assertion on a foreign host cannot vouch for itself with an embedded issuer."""
    evil = "https://evil.example.com/a/1"
    badge = badge_class(issuer=issuer_profile(verification={"allowedOrigins": "evil.example.com"}))

    report = hosted(world, assertion(id=evil, badge=badge))

    assert report.verdict is Verdict.INVALID
    assert codes(report)["hosted_origin_mismatch"] is Status.FAILED


def test_incomplete_issuer_profile_only_warns(world: MemoryFetcher) -> None:
    profile = issuer_profile()
    del profile["email"], profile["url"]
    world.add(ISSUER, profile)

    report = hosted(world)

    assert report.verdict is Verdict.VALID
    warning = check(report, "issuer_incomplete")
    assert warning.status is Status.WARNING
    assert warning.details["missing"] == ["url", "email"]


# ---------------------------------------------------------------- dates


def test_expired_badge_is_expired_not_invalid(world: MemoryFetcher) -> None:
    report = hosted(world, assertion(expires="2026-03-01T00:00:00Z"))

    assert report.verdict is Verdict.EXPIRED
    assert check(report, "expired").step is Step.VALIDITY


def test_badge_expiring_later_is_valid(world: MemoryFetcher) -> None:
    report = hosted(world, assertion(expires="2027-03-01T00:00:00+02:00"))

    assert report.verdict is Verdict.VALID
    assert codes(report)["not_expired"] is Status.PASSED


def test_badge_issued_in_the_future_is_not_yet_valid(world: MemoryFetcher) -> None:
    report = hosted(world, assertion(issuedOn="2026-04-01T00:00:00Z"))

    assert report.verdict is Verdict.NOT_YET_VALID
    assert "in the future" in check(report, "not_yet_valid").message


def test_small_clock_skew_is_tolerated(world: MemoryFetcher) -> None:
    report = hosted(world, assertion(issuedOn="2026-03-14T15:12:00Z"))

    assert report.verdict is Verdict.VALID


def test_expiry_before_issue_date_is_reported(world: MemoryFetcher) -> None:
    report = hosted(world, assertion(expires="2025-01-01T00:00:00Z"))

    assert report.verdict is Verdict.EXPIRED
    assert codes(report)["expires_before_issued"] is Status.FAILED


def test_naive_verification_time_is_read_as_utc(world: MemoryFetcher) -> None:
    doc = assertion()
    world.add(HOSTED_ID, doc)
    ctx = VerifyContext(now=NOW.replace(tzinfo=None), fetcher=world)

    assert verify_ob2_assertion(doc, ctx).verdict is Verdict.VALID


# ---------------------------------------------------------------- recipient


@pytest.mark.parametrize(
    "typed", [EMAIL, "Ada@Example.ORG", "  ada@example.org ", "mailto:ada@example.org"]
)
def test_hashed_email_matches_however_the_verifier_types_it(
    world: MemoryFetcher, typed: str
) -> None:
    report = hosted(world, recipient=typed)

    assert report.verdict is Verdict.VALID
    assert codes(report)["recipient_match"] is Status.PASSED


def test_hash_hex_case_does_not_matter(world: MemoryFetcher) -> None:
    upper = identity_hash(EMAIL).upper().replace("SHA256$", "sha256$")
    doc = assertion(recipient={"type": "email", "hashed": True, "salt": SALT, "identity": upper})

    assert hosted(world, doc, recipient=EMAIL).verdict is Verdict.VALID


def test_another_recipient_is_a_mismatch(world: MemoryFetcher) -> None:
    report = hosted(world, recipient="eve@example.org")

    assert report.verdict is Verdict.INVALID
    failure = check(report, "recipient_mismatch")
    assert failure.step is Step.RECIPIENT
    assert "eve@example.org" in failure.message


def test_unsalted_and_md5_and_plain_identities_match(world: MemoryFetcher) -> None:
    unsalted = {"type": "email", "hashed": True, "identity": identity_hash(EMAIL, "")}
    md5 = {
        "type": "email",
        "hashed": True,
        "salt": "s",
        "identity": "md5$" + hashlib.md5(b"ada@example.orgs", usedforsecurity=False).hexdigest(),
    }
    plain = {"type": "url", "hashed": False, "identity": "https://ada.example.org/"}

    assert hosted(world, assertion(recipient=unsalted), recipient=EMAIL).is_valid
    assert hosted(world, assertion(recipient=md5), recipient=EMAIL).is_valid
    assert hosted(world, assertion(recipient=plain), recipient="https://ada.example.org/").is_valid
    assert not hosted(world, assertion(recipient=plain), recipient="https://eve.example/").is_valid


def test_non_ascii_identities_are_compared_without_crashing(world: MemoryFetcher) -> None:
    plain = {"type": "email", "hashed": False, "identity": "zoë@example.org"}

    assert hosted(world, assertion(recipient=plain), recipient="zoë@example.org").is_valid
    assert not hosted(world, assertion(recipient=plain), recipient="zoe@example.org").is_valid


def test_no_recipient_given_is_not_applicable(world: MemoryFetcher) -> None:
    report = hosted(world)

    assert check(report, "recipient").status is Status.NOT_APPLICABLE


# ---------------------------------------------------------------- signed


def sign(signer: Signer, doc: dict[str, Any] | None = None) -> str:
    return sign_ob2_assertion(doc if doc is not None else assertion(signed=True), signer)


def signed(world: MemoryFetcher, token: str, **kw: Any) -> Report:
    return verify_ob2_jws(token, context(world, **kw))


def test_signed_assertion_with_the_issuers_key_is_valid(
    world: MemoryFetcher, signer: Signer
) -> None:
    report = signed(world, sign(signer), recipient=EMAIL)

    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "ob2-signed"
    assert [c.code for c in report.checks] == [
        "ob2_signed",
        "ob2_context",
        "assertion_schema",
        "badgeclass_schema",
        "issuer_profile",
        "key_owned",
        "signature_valid",
        "issued_on",
        "expires",
        "not_revoked",
        "recipient_match",
    ]
    assert report.summary["name"] == "Robotics"
    assert report.summary["issuer"] == "Example Institute"
    assert check(report, "signature_valid").details["key"] == KEY


def test_tampered_payload_fails_the_signature(world: MemoryFetcher, signer: Signer) -> None:
    header, _, signature = sign(signer).split(".")
    forged = assertion(signed=True, issuedOn="2020-01-01T00:00:00Z")
    token = f"{header}.{b64(json.dumps(forged).encode())}.{signature}"

    report = signed(world, token)

    assert report.verdict is Verdict.INVALID
    failure = check(report, "signature_invalid")
    assert failure.step is Step.SIGNATURE
    assert "altered" in failure.message


def test_token_signed_with_another_key_fails_the_signature(
    world: MemoryFetcher, keys: MemoryKeyStore
) -> None:
    report = signed(world, sign(keys.signer("mallory", "RS256")))

    assert report.verdict is Verdict.INVALID
    assert codes(report)["signature_invalid"] is Status.FAILED


def test_key_not_listed_by_the_issuer_is_refused(
    world: MemoryFetcher, signer: Signer, public_pem: str
) -> None:
    rogue = f"{ORIGIN}/keys/rogue"
    world.add(rogue, crypto_key(public_pem, id=rogue))
    doc = assertion(signed=True, verification={"type": "SignedBadge", "creator": rogue})

    report = signed(world, sign(signer, doc))

    assert report.verdict is Verdict.INVALID
    failure = check(report, "key_not_listed")
    assert failure.step is Step.KEY_OWNERSHIP
    assert rogue not in world.requests


def test_key_owned_by_someone_else_is_refused(
    world: MemoryFetcher, signer: Signer, public_pem: str
) -> None:
    world.add(KEY, crypto_key(public_pem, owner="https://evil.example.com/issuer"))

    report = signed(world, sign(signer))

    assert report.verdict is Verdict.INVALID
    failure = check(report, "key_not_owned")
    assert failure.step is Step.KEY_OWNERSHIP
    assert "evil.example.com" in failure.message


@pytest.mark.parametrize(
    ("key_doc", "words"),
    [
        (lambda pem: crypto_key(pem, publicKeyPem=None), "no publicKeyPem"),
        (lambda pem: crypto_key(pem, id=f"{ORIGIN}/keys/2"), "says its id is"),
        (lambda pem: crypto_key(pem, type="Issuer"), "not a CryptographicKey"),
        (lambda pem: FetchError("timeout", "slow"), "could not be fetched"),
    ],
)
def test_unusable_keys_fail_key_ownership(
    world: MemoryFetcher,
    signer: Signer,
    public_pem: str,
    key_doc: Callable[[str], Any],
    words: str,
) -> None:
    made = key_doc(public_pem)
    world.documents[KEY] = made if isinstance(made, FetchError) else (200, "application/json", made)

    report = signed(world, sign(signer))

    assert report.verdict is Verdict.INVALID
    failure = next(c for c in report.checks if c.step is Step.KEY_OWNERSHIP)
    assert failure.status is Status.FAILED
    assert words in failure.message


def test_without_a_creator_the_issuers_listed_keys_are_tried(
    world: MemoryFetcher, signer: Signer, public_pem: str
) -> None:
    other = f"{ORIGIN}/keys/0"
    world.add(other, crypto_key(public_pem, id=other, owner="https://someone.else/"))
    world.add(ISSUER, issuer_profile(publicKey=[other, {"id": KEY}]))
    doc = assertion(signed=True, verification={"type": "SignedBadge"})

    report = signed(world, sign(signer, doc))

    assert report.verdict is Verdict.VALID, report.as_json()
    assert check(report, "key_owned").details["keys"] == [KEY]


def test_key_embedded_in_the_issuer_profile_is_used(
    world: MemoryFetcher, signer: Signer, public_pem: str
) -> None:
    del world.documents[KEY]
    world.add(ISSUER, issuer_profile(publicKey=[crypto_key(public_pem)]))

    report = signed(world, sign(signer))

    assert report.verdict is Verdict.VALID, report.as_json()
    assert KEY not in world.requests


def test_issuer_without_keys_cannot_vouch_for_a_signature(
    world: MemoryFetcher, signer: Signer
) -> None:
    profile = issuer_profile()
    del profile["publicKey"]
    world.add(ISSUER, profile)

    report = signed(world, sign(signer, assertion(signed=True, verification={"type": "signed"})))

    assert codes(report)["no_issuer_keys"] is Status.FAILED


@pytest.mark.parametrize("header", [{"alg": "none"}, {"alg": "HS256"}, {"alg": "RS512"}])
def test_algorithms_other_than_rs256_are_refused(
    world: MemoryFetcher, signer: Signer, header: dict[str, str]
) -> None:
    _, payload, signature = sign(signer).split(".")
    token = f"{b64(json.dumps(header).encode())}.{payload}.{signature}"

    report = signed(world, token)

    assert report.verdict is Verdict.INVALID
    assert codes(report)["algorithm_not_allowed"] is Status.FAILED


def test_assertion_on_the_revocation_list_is_revoked(world: MemoryFetcher, signer: Signer) -> None:
    world.add(REVOCATIONS, revocation_list(SIGNED_ID))

    report = signed(world, sign(signer))

    assert report.verdict is Verdict.REVOKED
    assert check(report, "revoked").step is Step.STATUS


def test_revocation_entry_object_gives_the_reason(world: MemoryFetcher, signer: Signer) -> None:
    world.add(
        REVOCATIONS,
        revocation_list({"id": SIGNED_ID, "revocationReason": "Honor code violation"}),
    )

    report = signed(world, sign(signer))

    assert report.verdict is Verdict.REVOKED
    assert "Honor code violation" in check(report, "revoked").message


def test_legacy_uid_on_the_revocation_list_is_revoked(world: MemoryFetcher, signer: Signer) -> None:
    world.add(REVOCATIONS, revocation_list({"uid": "abc123"}))

    report = signed(world, sign(signer, assertion(signed=True, uid="abc123")))

    assert report.verdict is Verdict.REVOKED


def test_entry_marked_not_revoked_does_not_revoke(world: MemoryFetcher, signer: Signer) -> None:
    world.add(REVOCATIONS, revocation_list({"id": SIGNED_ID, "revoked": False}))

    assert signed(world, sign(signer)).verdict is Verdict.VALID


@pytest.mark.parametrize(
    "answer",
    [
        FetchError("timeout", "slow"),
        (503, "text/plain", b"down"),
        (200, "application/json", json.dumps({"type": "Thing"})),
        (200, "application/json", b"not json"),
    ],
)
def test_unreadable_revocation_list_only_warns(
    world: MemoryFetcher, signer: Signer, answer: Any
) -> None:
    world.documents[REVOCATIONS] = answer

    report = signed(world, sign(signer))

    assert report.verdict is Verdict.VALID
    status = next(c for c in report.checks if c.step is Step.STATUS)
    assert status.status is Status.WARNING


def test_issuer_without_a_revocation_list_is_not_applicable(
    world: MemoryFetcher, signer: Signer
) -> None:
    profile = issuer_profile()
    del profile["revocationList"]
    world.add(ISSUER, profile)

    report = signed(world, sign(signer))

    assert report.verdict is Verdict.VALID
    assert check(report, "revocation_list").status is Status.NOT_APPLICABLE


def test_signed_badge_dates_and_recipient_are_checked(world: MemoryFetcher, signer: Signer) -> None:
    expired = signed(world, sign(signer, assertion(signed=True, expires="2026-02-01T00:00:00Z")))
    mismatch = signed(world, sign(signer), recipient="eve@example.org")

    assert expired.verdict is Verdict.EXPIRED
    assert mismatch.verdict is Verdict.INVALID


def test_signed_badge_with_embedded_badge_class_verifies(
    world: MemoryFetcher, signer: Signer
) -> None:
    del world.documents[BADGE]
    doc = assertion(signed=True, badge=badge_class(id="urn:uuid:badge"))

    assert signed(world, sign(signer, doc)).verdict is Verdict.VALID


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "a.b",
        "a.b.c",
        b"\xff\xfe",
        12,
        None,
        f"{b64(b'{}')}.{b64(b'[1]')}.{b64(b'x')}",
        f"{b64(b'{}')}.{b64(json.dumps({'type': 'VerifiableCredential'}).encode())}.{b64(b'x')}",
    ],
)
def test_garbage_tokens_are_unusable(world: MemoryFetcher, token: Any) -> None:
    report = verify_ob2_jws(token, context(world))

    assert report.verdict is Verdict.UNUSABLE
    assert report.checks[0].step is Step.FORMAT


# ---------------------------------------------------------------- hostile shapes

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
ASSERTION_KEYS = st.sampled_from(
    ["id", "type", "recipient", "badge", "verification", "issuedOn", "expires", "revoked", "image"]
)
PROFILE_KEYS = st.sampled_from(
    ["id", "type", "name", "url", "email", "publicKey", "revocationList", "verification"]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=JSON)
def test_any_json_value_gives_a_report_never_an_exception(world: MemoryFetcher, doc: Any) -> None:
    assert isinstance(verify_ob2_assertion(doc, context(world)), Report)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    assertion_changes=st.dictionaries(ASSERTION_KEYS, JSON, max_size=3),
    badge_changes=st.dictionaries(
        st.sampled_from(["issuer", "image", "criteria", "name"]), JSON, max_size=2
    ),
    profile_changes=st.dictionaries(PROFILE_KEYS, JSON, max_size=3),
    list_entries=st.lists(JSON, max_size=3),
)
def test_wrong_types_anywhere_give_a_report_never_an_exception(
    world: MemoryFetcher,
    signer: Signer,
    assertion_changes: dict[str, Any],
    badge_changes: dict[str, Any],
    profile_changes: dict[str, Any],
    list_entries: list[Any],
) -> None:
    world.add(BADGE, badge_class(**badge_changes))
    world.add(ISSUER, issuer_profile(**profile_changes))
    world.add(REVOCATIONS, revocation_list(*list_entries))
    hosted_doc = assertion(**assertion_changes)
    if isinstance(hosted_doc.get("id"), str):
        world.add(hosted_doc["id"], hosted_doc)

    hosted_report = verify_ob2_assertion(hosted_doc, context(world, recipient=EMAIL))
    signed_report = verify_ob2_jws(
        sign(signer, assertion(signed=True, **assertion_changes)), context(world, recipient=EMAIL)
    )

    for report in (hosted_report, signed_report):
        assert report.verdict in set(Verdict)
        assert all(c.message for c in report.checks)


# ---------------------------------------------------------------- 1EdTech examples


def load_example(spec_dir: Path, name: str) -> dict[str, Any]:
    path = spec_dir / "ob_v2p0" / "examples" / name
    if not path.is_file():
        pytest.skip(f"{path} is not in the standards data")
    return json.loads(path.read_text(encoding="utf-8"))


def test_spec_hosted_example_verifies_until_it_expires(spec_dir: Path) -> None:
    fetcher = MemoryFetcher()
    doc = load_example(spec_dir, "assertion-hosted.json")
    for name in ("assertion-hosted.json", "badgeclass.json", "issuer-profile.json"):
        example = load_example(spec_dir, name)
        fetcher.add(example["id"], example)

    before = verify_ob2_assertion(
        doc, VerifyContext(now=datetime(2017, 3, 1, tzinfo=UTC), fetcher=fetcher)
    )
    after = verify_ob2_assertion(doc, VerifyContext(now=NOW, fetcher=fetcher))

    assert before.verdict is Verdict.VALID, before.as_json()
    assert before.summary["name"] == "Awesome Robotics Badge"
    assert after.verdict is Verdict.EXPIRED


def test_spec_revoked_hosted_example_is_revoked(spec_dir: Path) -> None:
    doc = load_example(spec_dir, "assertion-hosted.json")
    gone = load_example(spec_dir, "revoked-hosted-assertion.json")
    fetcher = MemoryFetcher({gone["id"]: (410, "application/ld+json", gone)})

    report = verify_ob2_assertion(doc, VerifyContext(now=NOW, fetcher=fetcher))

    assert report.verdict is Verdict.REVOKED
    assert "trenchcoat" in check(report, "revoked").message


def test_spec_signed_example_shape_verifies_with_our_key(
    spec_dir: Path, signer: Signer, public_pem: str
) -> None:
    payload = load_example(spec_dir, "signed-assertion-jws-payload.json")
    key = load_example(spec_dir, "cryptographickey.json") | {"publicKeyPem": public_pem}
    fetcher = MemoryFetcher()
    for name in ("badgeclass.json", "issuer-profile.json", "revocationlist.json"):
        example = load_example(spec_dir, name)
        fetcher.add(example["id"], example)
    fetcher.add(key["id"], key)

    report = verify_ob2_jws(sign(signer, payload), VerifyContext(now=NOW, fetcher=fetcher))

    assert report.verdict is Verdict.VALID, report.as_json()
    assert codes(report)["not_revoked"] is Status.PASSED
