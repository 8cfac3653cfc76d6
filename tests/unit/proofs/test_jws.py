"""Compact JWS and OB 2.0 signed assertions: round trips and hostile tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import badger.proofs.jws as jws_module
from badger.proofs.errors import AlgorithmNotAllowed, ProofError, ProofInvalid
from badger.proofs.jws import (
    encode_compact,
    load_public_key,
    sign_ob2_assertion,
    unsafe_decode_payload,
    verify_compact_jws,
)
from badger.proofs.keystore import KeyAlgorithm, MemoryKeyStore

ISSUER = "acme"
ASSERTION = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Assertion",
    "id": "urn:uuid:2f9c8f64-93c3-4a10-9d1c-0d1f3c9f3c55",
    "recipient": {"type": "email", "hashed": False, "identity": "ada@example.org"},
    "badge": "https://example.org/badges/1",
    "verification": {"type": "SignedBadge", "creator": "https://example.org/keys/1"},
    "issuedOn": "2025-03-01T12:00:00Z",
    "narrative": "Zoë passed — «über» ✓",
}


NONE_HEADER = b'{"alg":"none"}'
HS256_HEADER = b'{"alg":"HS256"}'
ES256_HEADER = b'{"alg":"ES256"}'


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def store() -> MemoryKeyStore:
    """One key per algorithm for the whole module: RSA generation is slow."""
    keys = MemoryKeyStore()
    keys.ensure_keys(ISSUER)
    keys.ensure_keys("other")
    return keys


@pytest.fixture(scope="module")
def token(store) -> str:
    return sign_ob2_assertion(ASSERTION, store.signer(ISSUER, KeyAlgorithm.RS256))


@pytest.fixture(scope="module")
def rsa_pem(store) -> str:
    return store.active_key(ISSUER, KeyAlgorithm.RS256).public_pem


def test_ob2_header_is_exactly_alg_rs256(token: str) -> None:
    header = unb64(token.split(".")[0])
    assert header == b'{"alg":"RS256"}'


def test_ob2_payload_is_the_assertion_json(token: str) -> None:
    assert json.loads(unb64(token.split(".")[1])) == ASSERTION


def test_ob2_round_trip_with_pem(token: str, rsa_pem: str) -> None:
    assert verify_compact_jws(token, rsa_pem) == ASSERTION


def test_ob2_round_trip_with_jwk_and_key_ref(store, token: str) -> None:
    key = store.active_key(ISSUER, KeyAlgorithm.RS256)
    assert verify_compact_jws(token, key.public_jwk) == ASSERTION
    assert verify_compact_jws(token, key) == ASSERTION
    assert verify_compact_jws(token.encode() + b"\n", key.public_pem.encode()) == ASSERTION


def test_ob2_refuses_non_rsa_signers(store) -> None:
    for alg in (KeyAlgorithm.ES256, KeyAlgorithm.ED25519):
        with pytest.raises(AlgorithmNotAllowed):
            sign_ob2_assertion(ASSERTION, store.signer(ISSUER, alg))


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_compact_jws_round_trip_for_each_algorithm(store, alg: KeyAlgorithm) -> None:
    signer = store.signer(ISSUER, alg)
    payload = json.dumps({"hello": "world"}).encode()
    compact = encode_compact({"alg": signer.jose_alg}, payload, signer)
    key = store.active_key(ISSUER, alg)
    allowed = ["RS256", "ES256", "EdDSA"]
    assert verify_compact_jws(compact, key.public_pem, algorithms=allowed) == {"hello": "world"}
    assert verify_compact_jws(compact, key.public_jwk, algorithms=allowed) == {"hello": "world"}


def test_encode_refuses_a_header_alg_that_differs_from_the_signer(store) -> None:
    with pytest.raises(AlgorithmNotAllowed):
        encode_compact({"alg": "ES256"}, b"{}", store.signer(ISSUER, KeyAlgorithm.RS256))


def test_es256_verification_is_refused_when_only_rs256_is_allowed(store) -> None:
    signer = store.signer(ISSUER, KeyAlgorithm.ES256)
    compact = encode_compact({"alg": "ES256"}, b"{}", signer)
    with pytest.raises(AlgorithmNotAllowed):
        verify_compact_jws(compact, signer.key_ref.public_pem)


def test_a_changed_payload_byte_is_rejected(token: str, rsa_pem: str) -> None:
    header, payload, signature = token.split(".")
    raw = bytearray(unb64(payload))
    raw[10] ^= 0x01
    with pytest.raises(ProofInvalid):
        verify_compact_jws(f"{header}.{b64(bytes(raw))}.{signature}", rsa_pem)


def test_a_changed_signature_is_rejected(token: str, rsa_pem: str) -> None:
    header, payload, signature = token.split(".")
    raw = bytearray(unb64(signature))
    raw[-1] ^= 0x01
    with pytest.raises(ProofInvalid, match="does not verify"):
        verify_compact_jws(f"{header}.{payload}.{b64(bytes(raw))}", rsa_pem)


def test_alg_none_is_rejected(token: str, rsa_pem: str) -> None:
    payload = token.split(".")[1]
    forged = f"{b64(NONE_HEADER)}.{payload}."
    with pytest.raises(ProofError):
        verify_compact_jws(forged, rsa_pem)
    forged = f"{b64(NONE_HEADER)}.{payload}.{b64(b'x')}"
    with pytest.raises(AlgorithmNotAllowed):
        verify_compact_jws(forged, rsa_pem, algorithms=["RS256", "none"])


def test_hs256_with_the_public_key_as_hmac_secret_is_rejected(token: str, rsa_pem: str) -> None:
    payload = token.split(".")[1]
    signing_input = f"{b64(HS256_HEADER)}.{payload}"
    mac = hmac.new(rsa_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(mac)}"
    with pytest.raises(AlgorithmNotAllowed):
        verify_compact_jws(forged, rsa_pem)
    # even a caller who wrongly allows HS256 is protected: the key decides the algorithm
    with pytest.raises(AlgorithmNotAllowed):
        verify_compact_jws(forged, rsa_pem, algorithms=["RS256", "HS256"])


def test_header_alg_must_match_the_key_type(store, token: str) -> None:
    header_es = b64(ES256_HEADER)
    _, payload, signature = token.split(".")
    ec_pem = store.active_key(ISSUER, KeyAlgorithm.ES256).public_pem
    # header and key agree, so the RSA signature is simply checked as ES256 and fails
    with pytest.raises(ProofInvalid, match="does not verify"):
        verify_compact_jws(f"{header_es}.{payload}.{signature}", ec_pem, ["RS256", "ES256"])
    rsa_pem = store.active_key(ISSUER, KeyAlgorithm.RS256).public_pem
    with pytest.raises(AlgorithmNotAllowed, match="RS256 key"):
        verify_compact_jws(f"{header_es}.{payload}.{signature}", rsa_pem, ["RS256", "ES256"])


def test_the_wrong_key_is_rejected(store, token: str) -> None:
    other = store.active_key("other", KeyAlgorithm.RS256)
    with pytest.raises(ProofInvalid):
        verify_compact_jws(token, other.public_pem)


def test_private_jwks_and_symmetric_jwks_are_refused_as_keys(store, token: str) -> None:
    jwk = store.active_key(ISSUER, KeyAlgorithm.RS256).public_jwk
    with pytest.raises(ProofInvalid, match="private"):
        verify_compact_jws(token, {**jwk, "d": "AQAB"})
    with pytest.raises(ProofInvalid, match="private"):
        verify_compact_jws(token, {"kty": "oct", "k": "c2VjcmV0"})
    with pytest.raises(AlgorithmNotAllowed, match="oct"):
        verify_compact_jws(token, {"kty": "oct"})
    with pytest.raises(AlgorithmNotAllowed):
        verify_compact_jws(token, {**jwk, "alg": "RS512"})


def test_a_private_key_object_is_refused_as_a_public_key(store) -> None:
    with pytest.raises(ProofInvalid):
        load_public_key(store._private_key(ISSUER, KeyAlgorithm.ED25519))


@pytest.mark.parametrize(
    "key",
    ["not a pem", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 42, {}],
)
def test_unusable_keys_raise_badger_errors(token: str, key) -> None:
    with pytest.raises(ProofError):
        verify_compact_jws(token, key)


def test_rsa_keys_shorter_than_2048_bits_are_refused(token: str) -> None:
    # deliberately weak: the point is that verification refuses it
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505
    with pytest.raises(ProofInvalid, match="cannot verify"):
        verify_compact_jws(token, weak)


def test_critical_header_extensions_are_refused(store) -> None:
    signer = store.signer(ISSUER, KeyAlgorithm.RS256)
    compact = encode_compact({"alg": "RS256", "crit": ["exp"], "exp": 1}, b"{}", signer)
    with pytest.raises(ProofInvalid, match="critical"):
        verify_compact_jws(compact, signer.key_ref)


def test_duplicate_json_members_are_refused(store) -> None:
    signer = store.signer(ISSUER, KeyAlgorithm.RS256)
    compact = encode_compact({"alg": "RS256"}, b'{"id":"a","id":"b"}', signer)
    with pytest.raises(ProofInvalid, match="JSON"):
        verify_compact_jws(compact, signer.key_ref)


def test_a_payload_that_is_not_an_object_is_refused(store) -> None:
    signer = store.signer(ISSUER, KeyAlgorithm.RS256)
    compact = encode_compact({"alg": "RS256"}, b"[1, 2]", signer)
    with pytest.raises(ProofInvalid, match="object"):
        verify_compact_jws(compact, signer.key_ref)


def test_unsafe_decode_payload_reads_without_verifying_and_warns(
    token: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    header, payload, _ = token.split(".")
    monkeypatch.setattr(jws_module, "_warned_unsafe_decode", False)
    with caplog.at_level(logging.WARNING, logger="badger.proofs.jws"):
        assert unsafe_decode_payload(f"{header}.{payload}.AAAA") == ASSERTION
        assert unsafe_decode_payload(f"{header}.{payload}.AAAA") == ASSERTION
    # Warned once per process, not once per badge.
    assert sum("without verifying" in r.getMessage() for r in caplog.records) == 1


def test_unsafe_decode_payload_still_rejects_garbage() -> None:
    with pytest.raises(ProofInvalid):
        unsafe_decode_payload("a.b")
    with pytest.raises(ProofInvalid):
        unsafe_decode_payload("e30.!!!.e30")


@pytest.mark.parametrize(
    "bad",
    ["", "...", "a.b", "a.b.c.d", "e30..", "e30.e30.AA=", "é.e30.AA", "e30.e30.A", b"\xff.a.b"],
)
def test_malformed_tokens_raise_proof_invalid(bad, rsa_pem: str) -> None:
    with pytest.raises(ProofError):
        verify_compact_jws(bad, rsa_pem)


# ---------------------------------------------------------------- hostile input, generated

_TOKEN_CHARS = st.sampled_from('ABCxyz019-_.=+/ \n{}"é')
_settings = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(st.text(_TOKEN_CHARS, max_size=120) | st.text(max_size=60))
def test_random_text_raises_only_badger_errors(rsa_pem: str, text: str) -> None:
    with pytest.raises(ProofError):
        verify_compact_jws(text, rsa_pem)


@_settings
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_badger_errors(rsa_pem: str, data: bytes) -> None:
    with pytest.raises(ProofError):
        verify_compact_jws(data, rsa_pem)


@_settings
@given(st.data())
def test_truncated_tokens_never_verify(token: str, rsa_pem: str, data) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    with pytest.raises(ProofError):
        verify_compact_jws(token[:cut], rsa_pem)


@_settings
@given(st.data())
def test_one_changed_character_never_verifies(token: str, rsa_pem: str, data) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from("AQgw_-.0=").filter(lambda c: c != token[index]))
    with pytest.raises(ProofError):
        verify_compact_jws(token[:index] + replacement + token[index + 1 :], rsa_pem)


@_settings
@given(header=st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers()))
def test_arbitrary_headers_with_a_real_signature_raise_only_badger_errors(
    token: str, rsa_pem: str, header: dict
) -> None:
    _, payload, signature = token.split(".")
    forged = f"{b64(json.dumps(header).encode())}.{payload}.{signature}"
    with pytest.raises(ProofError):
        verify_compact_jws(forged, rsa_pem)
