"""Creating and verifying eddsa-rdfc-2022 Data Integrity proofs (VC-DI-EdDSA §3.3)."""

import copy
import string
from datetime import UTC, datetime, timedelta, timezone

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from badger.proofs import jsonld
from badger.proofs.di_eddsa_rdfc_2022 import (
    CRYPTOSUITE,
    create_proof,
    format_created,
    hash_data,
    proof_configuration,
    resolve_did_key,
    verify_proof,
)
from badger.proofs.multikey import did_key_verification_method

VC2 = "https://www.w3.org/ns/credentials/v2"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB302 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
CREATED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture(scope="module")
def other_key():
    return Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def make_credential(key):
    issuer = did_key_verification_method(raw_public(key)).split("#")[0]
    return {
        "@context": [VC2, OB303],
        "id": "urn:uuid:7b0e4f4c-9a6c-4bb8-8a56-7c1c2f2a4b10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example Issuer"},
        "validFrom": "2024-05-01T12:00:00Z",
        "name": "Safety Training",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "creditsEarned": 1.5,
            "achievement": {
                "id": "https://issuer.example/achievements/safety",
                "type": ["Achievement"],
                "name": "Safety Training",
                "criteria": {"narrative": "Completed the course."},
            },
        },
    }


@pytest.fixture
def credential(key):
    return make_credential(key)


def sign(document, key, **kwargs):
    method = kwargs.pop("verification_method", did_key_verification_method(raw_public(key)))
    proof = create_proof(document, key, method, kwargs.pop("created", CREATED), **kwargs)
    return {**document, "proof": [proof]}


# ---------------------------------------------------------------- create


def test_a_created_proof_verifies_with_the_did_key_it_names(credential, key):
    signed = sign(credential, key)
    result = verify_proof(signed, resolve_did_key)
    assert result.verified
    assert result.code == "verified"
    assert "verified" in result.reason
    assert [check.code for check in result.checks] == ["verified"]


def test_the_proof_has_the_fields_and_order_the_specs_print(credential, key):
    proof = sign(credential, key)["proof"][0]
    assert list(proof) == [
        "type",
        "created",
        "verificationMethod",
        "cryptosuite",
        "proofPurpose",
        "proofValue",
    ]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == CRYPTOSUITE
    assert proof["created"] == "2024-05-01T12:00:00Z"
    assert proof["proofValue"].startswith("z")
    assert len(base58.b58decode(proof["proofValue"][1:])) == 64


def test_a_single_proof_object_verifies_as_well_as_an_array(credential, key):
    signed = sign(credential, key)
    single = {**signed, "proof": signed["proof"][0]}
    assert verify_proof(single, resolve_did_key).verified


def test_fast_and_reference_engines_produce_the_same_proof_value(credential, key):
    method = did_key_verification_method(raw_public(key))
    fast = create_proof(credential, key, method, CREATED, engine="fast")
    reference = create_proof(credential, key, method, CREATED, engine="reference")
    assert fast == reference


def test_signing_refuses_a_credential_with_undefined_terms(credential, key):
    credential["credentialStatus"] = {
        "id": "https://issuer.example/status#1",
        "type": "1EdTechRevocationList",
    }
    with pytest.raises(jsonld.UndefinedTermsError, match="1EdTechRevocationList"):
        sign(credential, key)
    # Opting out of the check is possible, and then the proof still verifies.
    signed = sign(credential, key, strict=False)
    assert verify_proof(signed, resolve_did_key).verified


def test_existing_proofs_are_left_out_of_a_new_proof(credential, key, other_key):
    signed = sign(credential, key)
    second = create_proof(
        signed, other_key, did_key_verification_method(raw_public(other_key)), CREATED
    )
    both = {**signed, "proof": [*signed["proof"], second]}
    result = verify_proof(both, resolve_did_key)
    assert result.verified
    assert result.reason == "all 2 proofs verified (eddsa-rdfc-2022)"


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        (
            datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T03:04:05Z",
        ),
        (datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC), "2024-01-02T03:04:05.25Z"),
        ("2010-01-01T19:23:24Z", "2010-01-01T19:23:24Z"),
        ("2010-01-01T19:23:24.5+01:00", "2010-01-01T19:23:24.5+01:00"),
    ],
)
def test_created_is_an_xml_schema_date_time_stamp(created, expected):
    assert format_created(created) == expected


@pytest.mark.parametrize(
    "created",
    [
        datetime(2024, 1, 2, 3, 4, 5),  # noqa: DTZ001 - the naive datetime under test
        "2024-01-02T03:04:05",
        "2024-01-02",
        "yesterday",
        1704164645,
    ],
)
def test_created_without_a_time_zone_is_refused(created):
    with pytest.raises(ValueError, match="created"):
        format_created(created)


def test_create_proof_checks_its_arguments(credential, key):
    method = did_key_verification_method(raw_public(key))
    with pytest.raises(TypeError, match="Ed25519PrivateKey"):
        create_proof(credential, generate_private_key(SECP256R1()), method, CREATED)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="@context"):
        create_proof({"name": "no context"}, key, method, CREATED)
    with pytest.raises(ValueError, match="verification_method"):
        proof_configuration(verification_method="", created=CREATED)
    with pytest.raises(ValueError, match="proof_purpose"):
        proof_configuration(verification_method=method, created=CREATED, proof_purpose="")


def test_hash_data_refuses_mixed_up_arguments(credential):
    options = proof_configuration(verification_method="did:key:z6Mk", created=CREATED)
    with pytest.raises(ValueError, match="without 'proof'"):
        hash_data({**credential, "proof": []}, options)
    with pytest.raises(ValueError, match="without 'proofValue'"):
        hash_data(credential, {**options, "proofValue": "z1"})
    with pytest.raises(ValueError, match="DataIntegrityProof"):
        hash_data(credential, {**options, "cryptosuite": "eddsa-2022"})


def test_hash_data_is_proof_hash_then_document_hash(credential):
    options = proof_configuration(verification_method="did:key:z6Mk", created=CREATED)
    hashed = hash_data(credential, options)
    assert hashed.data == hashed.proof_hash + hashed.document_hash
    assert len(hashed.data) == 64
    assert "<https://w3id.org/security#cryptosuite>" in hashed.canonical_proof_config


# ---------------------------------------------------------------- tampering


def test_changing_one_character_of_a_field_breaks_the_signature(credential, key):
    signed = sign(credential, key)
    signed["credentialSubject"]["achievement"]["name"] = "Safety Trainink"
    result = verify_proof(signed, resolve_did_key)
    assert not result.verified
    assert result.code == "signature_invalid"
    assert "changed since signing" in result.reason


@settings(max_examples=25, deadline=None)
@given(
    path=st.sampled_from(
        [("name",), ("validFrom",), ("credentialSubject", "id"), ("issuer", "name")]
    ),
    suffix=st.text(string.printable, min_size=1, max_size=3),
)
def test_any_appended_text_in_a_signed_field_is_detected(key, path, suffix):
    tampered = sign(make_credential(key), key)
    target = tampered
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = target[path[-1]] + suffix
    assert verify_proof(tampered, resolve_did_key).code in {"signature_invalid", "jsonld_error"}


def test_a_proof_value_from_another_credential_does_not_verify(credential, key):
    signed = sign(credential, key)
    other = copy.deepcopy(credential)
    other["name"] = "Another badge"
    signed["proof"][0]["proofValue"] = sign(other, key)["proof"][0]["proofValue"]
    assert verify_proof(signed, resolve_did_key).code == "signature_invalid"


def test_a_signature_checked_against_the_wrong_key_fails(credential, key, other_key):
    signed = sign(credential, key)
    result = verify_proof(signed, lambda _method: other_key.public_key())
    assert result.code == "signature_invalid"


def test_switching_to_another_context_version_breaks_the_signature(credential, key):
    signed = sign(credential, key)
    signed["@context"] = [VC2, OB302]
    assert verify_proof(signed, resolve_did_key).code == "signature_invalid"


def test_an_unknown_context_is_refused_not_fetched(credential, key):
    signed = sign(credential, key)
    signed["@context"] = [VC2, "https://attacker.example/context.json"]
    result = verify_proof(signed, resolve_did_key)
    assert result.code == "context_not_allowed"
    assert "attacker.example" in result.reason


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "Ed25519Signature2020"}, "unsupported_proof_type"),
        ({"cryptosuite": "eddsa-2022"}, "unsupported_cryptosuite"),
        ({"cryptosuite": "ecdsa-rdfc-2019"}, "unsupported_cryptosuite"),
        ({"proofPurpose": "authentication"}, "wrong_proof_purpose"),
        ({"proofValue": "u" + "A" * 86}, "malformed_proof_value"),
        ({"proofValue": "z" + base58.b58encode(b"\x01" * 63).decode()}, "malformed_proof_value"),
        ({"proofValue": "z0OIl"}, "malformed_proof_value"),
        ({"proofValue": None}, "malformed_proof_value"),
        ({"verificationMethod": None}, "malformed_proof"),
        ({"created": "last tuesday"}, "malformed_proof"),
        ({"@context": [OB303]}, "context_mismatch"),
    ],
)
def test_proofs_outside_the_allow_list_fail_with_a_stable_code(credential, key, change, code):
    signed = sign(credential, key)
    signed["proof"][0].update(change)
    result = verify_proof(signed, resolve_did_key)
    assert result.code == code
    assert result.reason


def test_a_proof_context_that_starts_the_document_context_is_accepted(credential, key):
    signed = sign(credential, key)
    signed["proof"][0]["@context"] = [VC2, OB303]
    assert verify_proof(signed, resolve_did_key).verified


def test_another_proof_purpose_can_be_required(credential, key):
    signed = sign(credential, key, proof_purpose="authentication")
    assert verify_proof(signed, resolve_did_key).code == "wrong_proof_purpose"
    assert verify_proof(signed, resolve_did_key, expected_proof_purpose="authentication").verified


def test_missing_or_unusable_keys_are_reported(credential, key):
    signed = sign(credential, key)

    def unknown(method):
        raise KeyError(method)

    def rsa_like(_method):
        return generate_private_key(SECP256R1()).public_key()

    def invalid(_method):
        raise ValueError("corrupt key document")

    assert verify_proof(signed, unknown).code == "key_not_found"
    assert verify_proof(signed, lambda _method: None).code == "key_not_found"
    assert verify_proof(signed, rsa_like).code == "invalid_key"
    assert verify_proof(signed, invalid).code == "invalid_key"


def test_documents_without_a_proof_or_with_a_broken_one_are_explained(credential, key):
    assert verify_proof(credential, resolve_did_key).code == "no_proof"
    assert verify_proof({**credential, "proof": []}, resolve_did_key).code == "no_proof"
    assert (
        verify_proof({**credential, "proof": ["z123"]}, resolve_did_key).code == "malformed_proof"
    )
    assert verify_proof(["not", "a", "document"], resolve_did_key).code == "malformed_proof"  # type: ignore[arg-type]


def test_one_bad_proof_in_a_set_fails_the_document_and_says_which(credential, key):
    good = sign(credential, key)["proof"][0]
    bad = {**good, "proofValue": "z" + base58.b58encode(b"\x00" * 64).decode()}
    result = verify_proof({**credential, "proof": [good, bad]}, resolve_did_key)
    assert result.code == "signature_invalid"
    assert result.reason.startswith("proof 2 of 2")
    assert [check.passed for check in result.checks] == [True, False]


def test_a_result_refuses_to_be_used_as_a_bool(credential, key):
    result = verify_proof(sign(credential, key), resolve_did_key)
    with pytest.raises(TypeError, match=r"\.verified"):
        bool(result)


def test_invalid_json_ld_in_a_signed_document_is_a_jsonld_error(credential, key):
    signed = sign(credential, key)
    signed["@context"] = [VC2, OB303, {"@version": 2}]
    assert verify_proof(signed, resolve_did_key).code == "jsonld_error"


# ---------------------------------------------------------------- did:key


def test_did_key_resolution_accepts_the_bare_and_the_fragment_form(key):
    method = did_key_verification_method(raw_public(key))
    bare = method.split("#")[0]
    for value in (method, bare):
        resolved = resolve_did_key(value).public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert resolved == raw_public(key)


@pytest.mark.parametrize(
    "method",
    [
        "https://issuer.example/issuers/1#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
        "did:web:issuer.example",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi#key-1",
    ],
)
def test_did_key_resolution_refuses_anything_else(method):
    with pytest.raises(LookupError):
        resolve_did_key(method)
