"""OB 3.0 and CLR 2.0 verification (FACTS §2.12, §3.2): badger.verify.ob3.

Credentials are built and signed here with badger's own proof code (an
Ed25519 did:key issuer for Data Integrity, a MemoryKeyStore ES256 key for
VC-JWT), then tampered with one way at a time: each attack must fail the
step that catches it, and nothing may ever raise.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badger.credentials.status_list import (
    Bitstring,
    encode_list,
    status_entry,
    status_list_credential,
)
from badger.domain.recipients import identity_hash
from badger.proofs.di_eddsa_rdfc_2022 import create_proof
from badger.proofs.keystore import KeyAlgorithm, MemoryKeyStore
from badger.proofs.multikey import did_key_from_ed25519_public, did_key_verification_method
from badger.proofs.vc_jwt import sign_vc_jwt
from badger.verify.context import VerifyContext
from badger.verify.ob3 import verify_clr, verify_ob3_credential, verify_vc_jwt_token
from badger.verify.report import Report, Status, Step, Verdict
from tests.fakes import json_fetcher

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
VC2 = "https://www.w3.org/ns/credentials/v2"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR201 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
LEARNER = "did:example:learner-1"
LIST_URL = "https://badges.example.org/status/1"
HTTPS_ISSUER = "https://badges.example.org/issuers/1"
JWKS_URL = "https://badges.example.org/.well-known/jwks.json"


def ctx_with(documents: dict | None = None, recipient: str | None = None) -> VerifyContext:
    return VerifyContext(now=NOW, fetcher=json_fetcher(documents), recipient=recipient)


class Issuer:
    """An Ed25519 did:key issuer that signs with eddsa-rdfc-2022."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.id = did_key_from_ed25519_public(raw)
        self.method = did_key_verification_method(raw)

    def sign(self, document: dict, *, method: str | None = None) -> dict:
        signed = copy.deepcopy(document)
        signed.pop("proof", None)
        proof = create_proof(signed, self.key, method or self.method, "2025-01-01T00:00:00Z")
        signed["proof"] = [proof]
        return signed


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def mallory() -> Issuer:
    return Issuer()


def credential(issuer_id: str, **extra) -> dict:
    document = {
        "@context": [VC2, OB303],
        "id": "urn:uuid:2f5b8a3e-1c1d-4d8e-9a43-7f3f6f0e0a01",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Acme Training"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": "Safety Basics",
        "credentialSubject": {
            "id": LEARNER,
            "type": ["AchievementSubject"],
            "creditsEarned": 2,
            "achievement": {
                "id": "https://badges.example.org/achievements/1",
                "type": ["Achievement"],
                "name": "Safety Basics",
                "description": "Knows the basics of workshop safety.",
                "criteria": {"narrative": "Pass the safety test."},
                "creditsAvailable": 2,
                "image": {"id": "https://badges.example.org/a/1.png", "type": "Image"},
            },
        },
    }
    document.update(extra)
    return document


def signed_list(issuer: Issuer, purpose: str, set_bits=()) -> dict:
    encoded = encode_list(Bitstring.with_set(set(set_bits)))
    return issuer.sign(
        status_list_credential(LIST_URL, issuer.id, purpose, encoded, "2025-01-01T00:00:00Z")
    )


def check(report: Report, step: Step) -> list:
    return [c for c in report.checks if c.step is step]


def failed_steps(report: Report) -> list[Step]:
    return [c.step for c in report.checks if c.status is Status.FAILED]


# ---------------------------------------------------------------- Data Integrity: valid


def test_a_credential_signed_by_its_did_key_issuer_is_valid(issuer):
    report = verify_ob3_credential(issuer.sign(credential(issuer.id)), ctx_with())
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "ob3-ldp"
    assert [c.step for c in report.checks] == [
        Step.FORMAT,
        Step.CONTEXT,
        Step.SCHEMA,
        Step.SIGNATURE,
        Step.KEY_OWNERSHIP,
        Step.ISSUER,
        Step.VALIDITY,
        Step.STATUS,
        Step.RECIPIENT,
    ]
    assert check(report, Step.KEY_OWNERSHIP)[0].code == "key_owned"
    assert check(report, Step.STATUS)[0].status is Status.NOT_APPLICABLE
    assert check(report, Step.RECIPIENT)[0].status is Status.NOT_APPLICABLE
    json.dumps(report.as_json())


def test_the_summary_names_what_a_person_wants_to_see(issuer):
    report = verify_ob3_credential(issuer.sign(credential(issuer.id)), ctx_with())
    assert report.summary == {
        "name": "Safety Basics",
        "achievement": "Safety Basics",
        "description": "Knows the basics of workshop safety.",
        "issuer": {"id": issuer.id, "name": "Acme Training"},
        "validFrom": "2025-01-01T00:00:00Z",
        "image": "https://badges.example.org/a/1.png",
        "credits": {"earned": 2, "available": 2},
    }


def test_a_single_proof_object_is_accepted_like_an_array(issuer):
    signed = issuer.sign(credential(issuer.id))
    signed["proof"] = signed["proof"][0]
    assert verify_ob3_credential(signed, ctx_with()).verdict is Verdict.VALID


# ---------------------------------------------------------------- Data Integrity: attacks


def test_a_changed_byte_in_the_payload_fails_the_signature(issuer):
    signed = issuer.sign(credential(issuer.id))
    signed["name"] = "Safety Basicz"
    report = verify_ob3_credential(signed, ctx_with())
    assert report.verdict is Verdict.INVALID
    assert failed_steps(report) == [Step.SIGNATURE]
    assert check(report, Step.SIGNATURE)[0].code == "signature_invalid"
    # A fatal failure stops the run, and says so for every step not run.
    assert {c.code for c in report.checks if c.step is Step.VALIDITY} == {"not_checked"}


def test_a_changed_proof_value_fails_the_signature(issuer):
    signed = issuer.sign(credential(issuer.id))
    value = signed["proof"][0]["proofValue"]
    signed["proof"][0]["proofValue"] = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    report = verify_ob3_credential(signed, ctx_with())
    assert failed_steps(report) == [Step.SIGNATURE]


def test_signing_with_another_key_under_the_issuers_method_fails_the_signature(issuer, mallory):
    forged = mallory.sign(credential(issuer.id), method=issuer.method)
    report = verify_ob3_credential(forged, ctx_with())
    assert failed_steps(report) == [Step.SIGNATURE]


def test_claiming_another_issuer_with_ones_own_key_fails_key_ownership(issuer, mallory):
    forged = mallory.sign(credential(issuer.id))
    report = verify_ob3_credential(forged, ctx_with())
    assert report.verdict is Verdict.INVALID
    assert check(report, Step.SIGNATURE)[0].status is Status.PASSED
    assert failed_steps(report) == [Step.KEY_OWNERSHIP]
    assert "not the issuer" in check(report, Step.KEY_OWNERSHIP)[0].message


def test_swapping_the_issuer_after_signing_fails_the_signature(issuer, mallory):
    signed = issuer.sign(credential(issuer.id))
    signed["issuer"]["id"] = mallory.id
    assert failed_steps(verify_ob3_credential(signed, ctx_with())) == [Step.SIGNATURE]


def test_swapping_the_ob_context_version_after_signing_fails_the_signature(issuer):
    signed = issuer.sign(credential(issuer.id))
    signed["@context"] = [VC2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"]
    report = verify_ob3_credential(signed, ctx_with())
    assert failed_steps(report) == [Step.SIGNATURE]


def test_swapping_the_status_index_after_signing_fails_the_signature(issuer):
    signed = issuer.sign(
        credential(issuer.id, credentialStatus=status_entry(LIST_URL, 5, "revocation"))
    )
    signed["credentialStatus"]["statusListIndex"] = "6"
    report = verify_ob3_credential(signed, ctx_with({LIST_URL: signed_list(issuer, "revocation")}))
    assert failed_steps(report) == [Step.SIGNATURE]


def test_a_credential_without_proof_is_invalid(issuer):
    report = verify_ob3_credential(credential(issuer.id), ctx_with())
    assert report.verdict is Verdict.INVALID
    assert check(report, Step.SIGNATURE)[0].code == "no_proof"


def test_an_unsupported_cryptosuite_is_refused_clearly(issuer):
    signed = issuer.sign(credential(issuer.id))
    signed["proof"][0]["cryptosuite"] = "ecdsa-rdfc-2019"
    report = verify_ob3_credential(signed, ctx_with())
    assert check(report, Step.SIGNATURE)[0].code == "unsupported_cryptosuite"


def test_an_unsupported_proof_type_is_refused_clearly(issuer):
    signed = issuer.sign(credential(issuer.id))
    # Only the type: the other proof terms are scoped to DataIntegrityProof.
    signed["proof"] = [{"type": "https://example.org/suites#MyProof2030"}]
    report = verify_ob3_credential(signed, ctx_with())
    failure = check(report, Step.SIGNATURE)[0]
    assert failure.code == "unsupported_proof_type"
    assert "MyProof2030" in failure.message


# ---------------------------------------------------------------- contexts and schema


def test_an_unknown_context_url_fails_the_context_step_without_fetching(issuer):
    document = credential(issuer.id)
    document["@context"] = [VC2, OB303, "https://evil.example/context.json"]
    report = verify_ob3_credential(
        issuer.sign(credential(issuer.id)) | {"@context": document["@context"]}, ctx_with()
    )
    assert failed_steps(report) == [Step.CONTEXT]
    assert check(report, Step.CONTEXT)[0].code == "context_not_allowed"
    assert "https://evil.example/context.json" in check(report, Step.CONTEXT)[0].message


def test_an_undefined_term_fails_the_context_step_and_is_named(issuer):
    signed = issuer.sign(credential(issuer.id))
    signed["favouriteColour"] = "green"
    report = verify_ob3_credential(signed, ctx_with())
    assert failed_steps(report) == [Step.CONTEXT]
    failure = check(report, Step.CONTEXT)[0]
    assert failure.code == "undefined_terms"
    assert "favouriteColour" in failure.message


def test_the_vc_context_must_come_first(issuer):
    signed = issuer.sign(credential(issuer.id))
    signed["@context"] = [OB303, VC2]
    report = verify_ob3_credential(signed, ctx_with())
    assert check(report, Step.CONTEXT)[0].code == "vc_context_missing"


def test_the_ob_context_must_come_second(issuer):
    signed = issuer.sign(credential(issuer.id))
    signed["@context"] = [VC2, CLR201, OB303]
    report = verify_ob3_credential(signed, ctx_with())
    assert check(report, Step.CONTEXT)[0].code == "ob_context_missing"


def test_schema_violations_name_the_json_path(issuer):
    document = credential(issuer.id)
    del document["credentialSubject"]["achievement"]["criteria"]
    report = verify_ob3_credential(issuer.sign(document), ctx_with())
    assert failed_steps(report) == [Step.SCHEMA]
    failure = check(report, Step.SCHEMA)[0]
    assert failure.code == "schema_violation"
    assert "$.credentialSubject.achievement" in failure.message


def test_a_subject_without_id_or_identifier_is_refused(issuer):
    document = credential(issuer.id)
    del document["credentialSubject"]["id"]
    report = verify_ob3_credential(issuer.sign(document), ctx_with())
    assert failed_steps(report) == [Step.SCHEMA]


def test_an_unknown_credential_schema_is_a_warning(issuer):
    document = credential(
        issuer.id,
        credentialSchema=[
            {
                "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                "type": "1EdTechJsonSchemaValidator2019",
            },
            {"id": "https://example.org/my-schema.json", "type": "1EdTechJsonSchemaValidator2019"},
        ],
    )
    document["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    report = verify_ob3_credential(issuer.sign(document), ctx_with())
    assert report.verdict is Verdict.VALID
    assert [c.code for c in check(report, Step.SCHEMA)] == ["schema_valid", "schema_not_checked"]


# ---------------------------------------------------------------- format


@pytest.mark.parametrize("document", [[], "text", 42, None])
def test_non_objects_are_unusable(document):
    assert verify_ob3_credential(document, ctx_with()).verdict is Verdict.UNUSABLE


def test_a_document_that_is_no_credential_is_unusable():
    report = verify_ob3_credential({"type": "Assertion"}, ctx_with())
    assert report.verdict is Verdict.UNUSABLE
    assert all(c.code != "not_checked" for c in report.checks)


# ---------------------------------------------------------------- validity and status


def test_an_expired_credential_is_expired_not_invalid(issuer):
    signed = issuer.sign(credential(issuer.id, validUntil="2026-01-01T00:00:00Z"))
    report = verify_ob3_credential(signed, ctx_with())
    assert report.verdict is Verdict.EXPIRED
    assert check(report, Step.VALIDITY)[0].code == "expired"


def test_a_credential_from_the_future_is_not_yet_valid(issuer):
    signed = issuer.sign(credential(issuer.id, validFrom="2027-01-01T00:00:00Z"))
    report = verify_ob3_credential(signed, ctx_with())
    assert report.verdict is Verdict.NOT_YET_VALID


def test_a_revoked_credential_is_revoked(issuer):
    signed = issuer.sign(
        credential(issuer.id, credentialStatus=status_entry(LIST_URL, 5, "revocation"))
    )
    served = {LIST_URL: signed_list(issuer, "revocation", [5])}
    report = verify_ob3_credential(signed, ctx_with(served))
    assert report.verdict is Verdict.REVOKED
    clear = {LIST_URL: signed_list(issuer, "revocation", [4, 6])}
    assert verify_ob3_credential(signed, ctx_with(clear)).verdict is Verdict.VALID


def test_a_suspended_credential_is_suspended(issuer):
    signed = issuer.sign(
        credential(issuer.id, credentialStatus=status_entry(LIST_URL, 77, "suspension"))
    )
    served = {LIST_URL: signed_list(issuer, "suspension", [77])}
    assert verify_ob3_credential(signed, ctx_with(served)).verdict is Verdict.SUSPENDED


def test_an_unreachable_status_list_leaves_the_credential_valid_with_a_warning(issuer):
    signed = issuer.sign(
        credential(issuer.id, credentialStatus=status_entry(LIST_URL, 5, "revocation"))
    )
    report = verify_ob3_credential(signed, ctx_with())
    assert report.verdict is Verdict.VALID
    assert check(report, Step.STATUS)[0].code == "status_unavailable"


# ---------------------------------------------------------------- recipient


def test_the_recipient_did_matches(issuer):
    report = verify_ob3_credential(issuer.sign(credential(issuer.id)), ctx_with(recipient=LEARNER))
    assert check(report, Step.RECIPIENT)[0].code == "recipient_match"
    assert report.verdict is Verdict.VALID


def test_another_recipient_does_not_match(issuer):
    report = verify_ob3_credential(
        issuer.sign(credential(issuer.id)), ctx_with(recipient="did:example:someone-else")
    )
    assert report.verdict is Verdict.INVALID
    assert failed_steps(report) == [Step.RECIPIENT]


def test_a_hashed_email_identifier_matches_the_email_with_its_salt(issuer):
    document = credential(issuer.id)
    subject = document["credentialSubject"]
    del subject["id"]
    subject["identifier"] = [
        {
            "type": "IdentityObject",
            "identityHash": identity_hash("ada@example.org", "pepper"),
            "identityType": "emailAddress",
            "hashed": True,
            "salt": "pepper",
        }
    ]
    signed = issuer.sign(document)
    matched = verify_ob3_credential(signed, ctx_with(recipient=" Ada@Example.org "))
    assert check(matched, Step.RECIPIENT)[0].code == "recipient_match"
    other = verify_ob3_credential(signed, ctx_with(recipient="bob@example.org"))
    assert check(other, Step.RECIPIENT)[0].code == "recipient_mismatch"


# ---------------------------------------------------------------- VC-JWT


@pytest.fixture(scope="module")
def store() -> MemoryKeyStore:
    keys = MemoryKeyStore()
    keys.ensure_keys("acme")
    return keys


def jwt_world(store: MemoryKeyStore, *, publish: bool = True) -> tuple[str, dict]:
    key = store.active_key("acme", KeyAlgorithm.ES256)
    kid = f"{HTTPS_ISSUER}/keys/{key.kid}"
    documents: dict = {kid: key.public_jwk}
    if publish:
        documents[JWKS_URL] = {"keys": [key.public_jwk]}
    return kid, documents


def test_a_vc_jwt_with_a_published_key_is_valid(store):
    kid, documents = jwt_world(store)
    token = sign_vc_jwt(credential(HTTPS_ISSUER), store.signer("acme", "ES256"), kid)
    report = verify_vc_jwt_token(token, ctx_with(documents))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "ob3-jwt"
    assert check(report, Step.KEY_OWNERSHIP)[0].code == "key_owned"
    assert report.summary["name"] == "Safety Basics"


def test_a_vc_jwt_key_missing_from_the_jwks_is_a_warning(store):
    kid, documents = jwt_world(store, publish=False)
    token = sign_vc_jwt(credential(HTTPS_ISSUER), store.signer("acme", "ES256"), kid)
    report = verify_vc_jwt_token(token, ctx_with(documents))
    assert report.verdict is Verdict.VALID
    assert check(report, Step.KEY_OWNERSHIP)[0].status is Status.WARNING


def test_a_tampered_vc_jwt_payload_fails_the_signature(store):
    kid, documents = jwt_world(store)
    token = sign_vc_jwt(credential(HTTPS_ISSUER), store.signer("acme", "ES256"), kid)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = "Advanced Safety"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    report = verify_vc_jwt_token(f"{header}.{forged}.{signature}", ctx_with(documents))
    assert report.verdict is Verdict.INVALID
    assert check(report, Step.SIGNATURE)[0].code == "signature_invalid"


def test_a_vc_jwt_with_a_disallowed_algorithm_fails(store):
    kid, documents = jwt_world(store)
    token = sign_vc_jwt(credential(HTTPS_ISSUER), store.signer("acme", "ES256"), kid)
    _, payload, signature = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"x"}').rstrip(b"=").decode()
    report = verify_vc_jwt_token(f"{header}.{payload}.{signature}", ctx_with(documents))
    assert check(report, Step.SIGNATURE)[0].code == "algorithm_not_allowed"


def test_an_expired_vc_jwt_is_expired_and_still_summarised(store):
    kid, documents = jwt_world(store)
    document = credential(HTTPS_ISSUER, validUntil="2026-01-01T00:00:00Z")
    token = sign_vc_jwt(document, store.signer("acme", "ES256"), kid)
    report = verify_vc_jwt_token(token, ctx_with(documents))
    assert report.verdict is Verdict.EXPIRED
    assert check(report, Step.SIGNATURE)[0].status is Status.PASSED
    assert report.summary["validUntil"] == "2026-01-01T00:00:00Z"


def test_a_revoked_vc_jwt_is_revoked(store, issuer):
    kid, documents = jwt_world(store)
    # The list must come from the same issuer: sign it with a did:key issuer
    # standing in for the HTTPS issuer is not allowed, so use a 1EdTech list.
    revocations = "https://badges.example.org/revocations"
    document = credential(
        HTTPS_ISSUER, credentialStatus={"id": revocations, "type": "1EdTechRevocationList"}
    )
    document["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    documents[revocations] = {"revokedCredential": [{"id": document["id"]}]}
    token = sign_vc_jwt(document, store.signer("acme", "ES256"), kid)
    assert verify_vc_jwt_token(token, ctx_with(documents)).verdict is Verdict.REVOKED


@pytest.mark.parametrize("token", ["", "a.b", "not a token", 12, "a.b.c"])
def test_garbage_tokens_are_unusable(token):
    assert verify_vc_jwt_token(token, ctx_with()).verdict is Verdict.UNUSABLE


# ---------------------------------------------------------------- CLR


def clr(issuer: Issuer, embedded: list) -> dict:
    return {
        "@context": [VC2, CLR201, OB303],
        "id": "urn:uuid:9d1c1e8c-0000-4000-8000-00000000c1a5",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": issuer.id, "type": ["Profile"], "name": "Acme Registry"},
        "name": "Acme transcript",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": LEARNER,
            "type": ["ClrSubject"],
            "verifiableCredential": embedded,
        },
    }


def test_a_clr_and_its_credentials_verify(issuer, mallory):
    inner = mallory.sign(credential(mallory.id))
    report = verify_clr(issuer.sign(clr(issuer, [inner])), ctx_with())
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "clr"
    assert [r.verdict for r in report.embedded] == [Verdict.VALID]
    assert check(report, Step.EMBEDDED)[0].code == "embedded_valid"
    assert report.summary["credentials"] == 1


def test_verify_ob3_credential_hands_a_clr_to_verify_clr(issuer):
    inner = issuer.sign(credential(issuer.id))
    assert verify_ob3_credential(issuer.sign(clr(issuer, [inner])), ctx_with()).format == "clr"


def test_a_clr_holding_a_forged_credential_is_invalid(issuer, mallory):
    forged = mallory.sign(credential(issuer.id))
    report = verify_clr(issuer.sign(clr(issuer, [forged])), ctx_with())
    assert report.verdict is Verdict.INVALID
    assert failed_steps(report) == [Step.EMBEDDED]
    assert report.embedded[0].verdict is Verdict.INVALID


def test_a_clr_holding_an_expired_credential_warns(issuer):
    inner = issuer.sign(credential(issuer.id, validUntil="2026-01-01T00:00:00Z"))
    report = verify_clr(issuer.sign(clr(issuer, [inner])), ctx_with())
    assert report.verdict is Verdict.VALID
    assert check(report, Step.EMBEDDED)[0].code == "embedded_not_current"


def test_a_clr_holding_a_vc_jwt_string_fails_the_clr_schema(issuer, store):
    # CLR 2.0's ClrSubject.verifiableCredential holds credential objects only.
    kid, documents = jwt_world(store)
    token = sign_vc_jwt(credential(HTTPS_ISSUER), store.signer("acme", "ES256"), kid)
    report = verify_clr(issuer.sign(clr(issuer, [token])), ctx_with(documents))
    assert failed_steps(report) == [Step.SCHEMA]
    assert "$.credentialSubject.verifiableCredential" in check(report, Step.SCHEMA)[0].message


# ---------------------------------------------------------------- never raises

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json_always_gives_a_report(document):
    report = verify_ob3_credential(document, ctx_with())
    assert isinstance(report, Report)
    json.dumps(report.as_json())


_SIGNED = Issuer()
_BASE = _SIGNED.sign(
    credential(_SIGNED.id, credentialStatus=status_entry(LIST_URL, 5, "revocation"))
)
_PATHS = [
    ("@context",),
    ("@context", 1),
    ("type",),
    ("issuer",),
    ("issuer", "id"),
    ("validFrom",),
    ("validUntil",),
    ("credentialSubject",),
    ("credentialSubject", "identifier"),
    ("credentialSubject", "achievement"),
    ("credentialStatus",),
    ("credentialStatus", "statusListIndex"),
    ("proof",),
    ("proof", 0),
    ("proof", 0, "verificationMethod"),
    ("proof", 0, "proofValue"),
    ("unexpected",),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_PATHS), json_values)
def test_random_damage_to_a_signed_credential_always_gives_a_report(path, value):
    document = copy.deepcopy(_BASE)
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    report = verify_ob3_credential(document, ctx_with(recipient="ada@example.org"))
    assert isinstance(report, Report)
    json.dumps(report.as_json())
