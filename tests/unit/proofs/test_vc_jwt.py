"""VC-JWT (OB 3.0 §8.2): round trips per algorithm, claim mirroring, hostile tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badger.proofs.errors import AlgorithmNotAllowed, KeyNotFound, ProofError
from badger.proofs.jws import encode_compact
from badger.proofs.keystore import KeyAlgorithm, MemoryKeyStore
from badger.proofs.vc_jwt import (
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
    VcJwtCode,
    VcJwtResult,
    sign_vc_jwt,
    verify_vc_jwt,
)

ISSUER = "acme"
ISSUER_ID = "https://badges.example.org/issuers/acme"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KID_BASE = "https://badges.example.org/issuers/acme/keys/"
NONE_HEADER = b'{"alg":"none","kid":"x","typ":"JWT"}'
HS256_HEADER = b'{"alg":"HS256","kid":"x","typ":"JWT"}'

CREDENTIAL = {
    "@context": [VC_V2_CONTEXT, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "urn:uuid:5e0a9a57-5d5a-4d8b-9d9e-5f6d1f5a4b3c",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": ISSUER_ID, "type": ["Profile"], "name": "Acme Training"},
    "validFrom": "2025-01-01T00:00:00Z",
    "validUntil": "2026-01-01T00:00:00Z",
    "name": "Safety Basics",
    "credentialSubject": {
        "id": "did:example:learner-1",
        "type": ["AchievementSubject"],
        "achievement": {"id": "https://badges.example.org/a/1", "type": ["Achievement"]},
    },
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def store() -> MemoryKeyStore:
    """Keys generated once for the module: RSA generation is slow."""
    keys = MemoryKeyStore()
    keys.ensure_keys(ISSUER)
    keys.ensure_keys("mallory")
    return keys


@pytest.fixture(scope="module")
def resolver(store):
    """Resolves kid URLs of ISSUER's keys, like a JWKS lookup would."""
    keys = {KID_BASE + k.kid: k for k in store.public_keys(ISSUER)}

    def resolve(kid, jwk):
        if kid in keys:
            return keys[kid].public_jwk
        raise KeyNotFound(f"no key {kid!r}")

    return resolve


def _sign(store, alg=KeyAlgorithm.RS256, credential=None, issuer=ISSUER) -> str:
    signer = store.signer(issuer, alg)
    return sign_vc_jwt(credential or CREDENTIAL, signer, KID_BASE + signer.kid)


def _encode(store, payload: dict, alg=KeyAlgorithm.RS256, header=None) -> str:
    """A token with a hand-made payload, correctly signed by ISSUER's key."""
    signer = store.signer(ISSUER, alg)
    header = header or {"alg": signer.jose_alg, "kid": KID_BASE + signer.kid, "typ": "JWT"}
    return encode_compact(header, json.dumps(payload).encode(), signer)


def _claims(credential=CREDENTIAL) -> dict:
    return {
        "iss": ISSUER_ID,
        "jti": credential["id"],
        "nbf": int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()),
        "sub": "did:example:learner-1",
        "exp": int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
    }


def _payload(token: str) -> dict:
    return json.loads(unb64(token.split(".")[1]))


# ---------------------------------------------------------------- signing


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_round_trip_for_each_algorithm(store, resolver, alg: KeyAlgorithm) -> None:
    token = _sign(store, alg)
    result = verify_vc_jwt(token, resolver, NOW)
    assert result.verified, result.reason
    assert result.code is VcJwtCode.VERIFIED
    assert result.credential == CREDENTIAL
    assert not result.legacy
    assert all(check.passed for check in result.checks)
    assert [c.code for c in result.checks] == [
        "header",
        "key",
        "signature",
        "context",
        "iss",
        "jti",
        "sub",
        "nbf",
        "exp",
    ]


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_header_is_exactly_alg_kid_typ(store, alg: KeyAlgorithm) -> None:
    token = _sign(store, alg)
    header = json.loads(unb64(token.split(".")[0]))
    assert list(header) == ["alg", "kid", "typ"]
    assert header["alg"] == alg.jose_alg
    assert header["typ"] == "JWT"
    assert header["kid"].startswith(KID_BASE)


def test_es256_signatures_are_raw_r_s(store) -> None:
    token = _sign(store, KeyAlgorithm.ES256)
    assert len(unb64(token.split(".")[2])) == 64


def test_payload_is_the_credential_plus_mirrored_claims(store) -> None:
    payload = _payload(_sign(store))
    claims = {k: payload.pop(k) for k in ("iss", "jti", "nbf", "sub", "exp")}
    assert payload == CREDENTIAL
    assert claims == _claims()
    assert "vc" not in payload


def test_sub_is_omitted_when_the_subject_has_no_id(store, resolver) -> None:
    subject = {k: v for k, v in CREDENTIAL["credentialSubject"].items() if k != "id"}
    credential = {**CREDENTIAL, "credentialSubject": subject}
    token = _sign(store, credential=credential)
    assert "sub" not in _payload(token)
    assert verify_vc_jwt(token, resolver, NOW).verified


def test_exp_is_omitted_without_valid_until(store, resolver) -> None:
    credential = {k: v for k, v in CREDENTIAL.items() if k != "validUntil"}
    token = _sign(store, credential=credential)
    assert "exp" not in _payload(token)
    assert verify_vc_jwt(token, resolver, NOW + timedelta(days=3650)).verified


def test_issuer_given_as_a_string_is_used_for_iss(store) -> None:
    token = _sign(store, credential={**CREDENTIAL, "issuer": ISSUER_ID})
    assert _payload(token)["iss"] == ISSUER_ID


@pytest.mark.parametrize(
    "credential",
    [
        {k: v for k, v in CREDENTIAL.items() if k != "issuer"},
        {k: v for k, v in CREDENTIAL.items() if k != "id"},
        {k: v for k, v in CREDENTIAL.items() if k != "validFrom"},
        {**CREDENTIAL, "validFrom": "2025-01-01T00:00:00"},
        {**CREDENTIAL, "jti": "urn:uuid:something-else"},
    ],
    ids=["no-issuer", "no-id", "no-validFrom", "naive-validFrom", "clashing-jti"],
)
def test_signing_refuses_credentials_the_claims_cannot_mirror(store, credential) -> None:
    with pytest.raises(ProofError):
        _sign(store, credential=credential)


def test_signing_needs_a_kid(store) -> None:
    with pytest.raises(ProofError):
        sign_vc_jwt(CREDENTIAL, store.signer(ISSUER, KeyAlgorithm.RS256), "")


# ---------------------------------------------------------------- tampering


def _verify(token, resolver, now=NOW) -> VcJwtResult:
    result = verify_vc_jwt(token, resolver, now)
    assert result.credential is None or result.verified
    assert result.reason
    if not result.verified:
        assert result.checks[-1].passed is False
        assert result.checks[-1].code == result.code
    return result


def test_a_changed_payload_byte_is_rejected(store, resolver) -> None:
    header, payload, signature = _sign(store).split(".")
    raw = bytearray(unb64(payload))
    raw[-5] ^= 0x01
    result = _verify(f"{header}.{b64(bytes(raw))}.{signature}", resolver)
    assert result.code is VcJwtCode.SIGNATURE_INVALID


def test_a_changed_signature_is_rejected(store, resolver) -> None:
    header, payload, signature = _sign(store, KeyAlgorithm.ES256).split(".")
    raw = bytearray(unb64(signature))
    raw[0] ^= 0x80
    result = _verify(f"{header}.{payload}.{b64(bytes(raw))}", resolver)
    assert result.code is VcJwtCode.SIGNATURE_INVALID


def test_alg_none_is_rejected(store, resolver) -> None:
    payload = _sign(store).split(".")[1]
    for forged in (f"{b64(NONE_HEADER)}.{payload}.", f"{b64(NONE_HEADER)}.{payload}.AAAA"):
        result = _verify(forged, resolver)
        assert not result.verified
        assert result.code in {VcJwtCode.ALGORITHM_NOT_ALLOWED, VcJwtCode.MALFORMED}


def test_hs256_with_the_public_key_as_hmac_secret_is_rejected(store) -> None:
    key = store.active_key(ISSUER, KeyAlgorithm.RS256)
    payload = _sign(store).split(".")[1]
    signing_input = f"{b64(HS256_HEADER)}.{payload}"
    mac = hmac.new(key.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(mac)}"
    result = _verify(forged, lambda kid, jwk: key.public_pem)
    assert result.code is VcJwtCode.ALGORITHM_NOT_ALLOWED
    # a careless allow-list does not help the attacker: the key dictates RS256
    result = verify_vc_jwt(
        forged, lambda kid, jwk: key.public_pem, NOW, algorithms=["RS256", "HS256"]
    )
    assert result.code is VcJwtCode.ALGORITHM_NOT_ALLOWED


def test_eddsa_can_be_switched_off(store, resolver) -> None:
    token = _sign(store, KeyAlgorithm.ED25519)
    result = verify_vc_jwt(token, resolver, NOW, algorithms=["RS256", "ES256"])
    assert result.code is VcJwtCode.ALGORITHM_NOT_ALLOWED


def test_a_token_signed_by_another_key_is_rejected(store, resolver) -> None:
    signer = store.signer("mallory", KeyAlgorithm.RS256)
    honest_kid = KID_BASE + store.active_key(ISSUER, KeyAlgorithm.RS256).kid
    token = sign_vc_jwt(CREDENTIAL, signer, honest_kid)
    assert _verify(token, resolver).code is VcJwtCode.SIGNATURE_INVALID


def test_an_unknown_kid_is_reported_as_key_not_found(store, resolver) -> None:
    signer = store.signer("mallory", KeyAlgorithm.RS256)
    token = sign_vc_jwt(CREDENTIAL, signer, "https://evil.example/key")
    result = _verify(token, resolver)
    assert result.code is VcJwtCode.KEY_NOT_FOUND
    assert "evil.example" in result.reason


def test_an_inline_public_jwk_works_when_the_resolver_accepts_it(store) -> None:
    key = store.active_key(ISSUER, KeyAlgorithm.ES256)
    public = {k: v for k, v in key.public_jwk.items() if k in {"kty", "crv", "x", "y"}}
    token = _encode(
        store,
        {**CREDENTIAL, **_claims()},
        KeyAlgorithm.ES256,
        header={"alg": "ES256", "jwk": public, "typ": "JWT"},
    )
    result = verify_vc_jwt(token, lambda kid, jwk: jwk, NOW)
    assert result.verified, result.reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "RS256", "typ": "JWT"}, "names no key"),
        ({"alg": "RS256", "kid": 7}, "kid must be"),
        ({"alg": "RS256", "jwk": "x"}, "jwk must be"),
        ({"alg": "RS256", "kid": "k", "typ": "vc+jwt"}, "typ"),
        ({"alg": "RS256", "jwk": {"kty": "RSA", "d": "AQAB"}}, "private"),
    ],
)
def test_header_rules_are_enforced(store, resolver, header, reason) -> None:
    token = _encode(store, {**CREDENTIAL, **_claims()}, header=header)
    result = _verify(token, resolver)
    assert result.code is VcJwtCode.HEADER_INVALID
    assert reason in result.reason


# ---------------------------------------------------------------- claims


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"iss": "https://evil.example"}, VcJwtCode.ISS_MISMATCH),
        ({"iss": None}, VcJwtCode.ISS_MISMATCH),
        ({"jti": "urn:uuid:other"}, VcJwtCode.JTI_MISMATCH),
        ({"sub": "did:example:someone-else"}, VcJwtCode.SUB_MISMATCH),
        ({"sub": None}, VcJwtCode.SUB_MISMATCH),
        ({"nbf": 0}, VcJwtCode.NBF_MISMATCH),
        ({"nbf": "2025-01-01"}, VcJwtCode.NBF_MISMATCH),
        ({"nbf": True}, VcJwtCode.NBF_MISMATCH),
        ({"exp": 4102444800}, VcJwtCode.EXP_MISMATCH),
        ({"exp": None}, VcJwtCode.EXP_MISMATCH),
        ({"exp": "soon"}, VcJwtCode.EXP_MISMATCH),
    ],
)
def test_claims_must_mirror_the_credential(store, resolver, change, code) -> None:
    payload = {**CREDENTIAL, **_claims()}
    for name, value in change.items():
        if value is None:
            payload.pop(name)
        else:
            payload[name] = value
    result = _verify(_encode(store, payload), resolver)
    assert result.code is code
    assert result.checks[-1].reason == result.reason


def test_exp_without_valid_until_is_a_mismatch(store, resolver) -> None:
    credential = {k: v for k, v in CREDENTIAL.items() if k != "validUntil"}
    result = _verify(_encode(store, {**credential, **_claims(credential)}), resolver)
    assert result.code is VcJwtCode.EXP_MISMATCH


def test_sub_without_a_subject_id_is_a_mismatch(store, resolver) -> None:
    subject = {k: v for k, v in CREDENTIAL["credentialSubject"].items() if k != "id"}
    credential = {**CREDENTIAL, "credentialSubject": subject}
    result = _verify(_encode(store, {**credential, **_claims(credential)}), resolver)
    assert result.code is VcJwtCode.SUB_MISMATCH


def test_an_expired_credential_is_reported_expired(store, resolver) -> None:
    result = _verify(_sign(store), resolver, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert result.code is VcJwtCode.EXPIRED
    assert "2026-01-01" in result.reason


def test_a_future_valid_from_is_not_yet_valid(store, resolver) -> None:
    result = _verify(_sign(store), resolver, now=datetime(2024, 12, 31, 23, 59, tzinfo=UTC))
    assert result.code is VcJwtCode.NOT_YET_VALID


def test_leeway_tolerates_clock_skew(store, resolver) -> None:
    early = datetime(2024, 12, 31, 23, 59, 30, tzinfo=UTC)
    result = verify_vc_jwt(_sign(store), resolver, early, leeway=timedelta(minutes=1))
    assert result.verified


def test_now_must_be_aware(store, resolver) -> None:
    with pytest.raises(ValueError, match="aware"):
        verify_vc_jwt(_sign(store), resolver, datetime(2025, 6, 1))  # noqa: DTZ001


def test_a_vc_1_1_credential_at_the_root_is_a_context_mismatch(store, resolver) -> None:
    credential = {**CREDENTIAL, "@context": [VC_V1_CONTEXT]}
    result = _verify(_encode(store, {**credential, **_claims()}), resolver)
    assert result.code is VcJwtCode.CONTEXT_MISMATCH


# ---------------------------------------------------------------- legacy vc claim

LEGACY_VC = {
    "@context": [VC_V1_CONTEXT, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": ISSUER_ID, "type": ["Profile"]},
    "issuanceDate": "2025-01-01T00:00:00Z",
    "credentialSubject": {"type": ["AchievementSubject"]},
}


def test_legacy_vc_claim_is_accepted_and_claim_only_members_restored(store, resolver) -> None:
    payload = {"vc": LEGACY_VC, **_claims()}
    payload.pop("exp")
    result = _verify(_encode(store, payload), resolver)
    assert result.verified, result.reason
    assert result.legacy
    assert result.credential["id"] == CREDENTIAL["id"]
    assert result.credential["credentialSubject"]["id"] == "did:example:learner-1"
    assert "legacy" in result.reason


def test_legacy_vc_claim_restores_issuer_and_expiry(store, resolver) -> None:
    vc = {k: v for k, v in LEGACY_VC.items() if k not in {"issuer", "issuanceDate"}}
    result = _verify(_encode(store, {"vc": vc, **_claims()}), resolver)
    assert result.verified, result.reason
    assert result.credential["issuer"] == ISSUER_ID
    assert result.credential["issuanceDate"] == "2025-01-01T00:00:00Z"
    assert result.credential["expirationDate"] == "2026-01-01T00:00:00Z"


def test_legacy_vc_claim_members_must_still_match_the_claims(store, resolver) -> None:
    vc = {**LEGACY_VC, "id": "urn:uuid:not-the-jti"}
    result = _verify(_encode(store, {"vc": vc, **_claims()}), resolver)
    assert result.code is VcJwtCode.JTI_MISMATCH


def test_a_vc_2_0_credential_in_a_vc_claim_is_a_context_mismatch(store, resolver) -> None:
    result = _verify(_encode(store, {"vc": CREDENTIAL, **_claims()}), resolver)
    assert result.code is VcJwtCode.CONTEXT_MISMATCH


def test_a_vc_claim_that_is_not_an_object_is_invalid(store, resolver) -> None:
    result = _verify(_encode(store, {"vc": "nope", **_claims()}), resolver)
    assert result.code is VcJwtCode.PAYLOAD_INVALID


def test_huge_numeric_dates_are_mismatches_not_crashes(store, resolver) -> None:
    vc = {k: v for k, v in LEGACY_VC.items() if k != "issuanceDate"}
    result = _verify(_encode(store, {"vc": vc, **_claims(), "nbf": 1e300}), resolver)
    assert result.code is VcJwtCode.NBF_MISMATCH


def test_sign_refuses_algorithms_outside_vc_jwt() -> None:
    class FakeSigner:
        jose_alg = "HS256"

    with pytest.raises(AlgorithmNotAllowed):
        sign_vc_jwt(CREDENTIAL, FakeSigner(), "kid")  # type: ignore[arg-type]


# ---------------------------------------------------------------- hostile input, generated

_settings = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def good_token(store) -> str:
    return _sign(store)


@_settings
@given(st.text(max_size=120) | st.binary(max_size=120))
def test_random_input_never_raises_and_never_verifies(resolver, data) -> None:
    result = verify_vc_jwt(data, resolver, NOW)
    assert not result.verified
    assert result.reason


@_settings
@given(st.data())
def test_truncated_tokens_never_verify(good_token: str, resolver, data) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(good_token) - 1))
    result = verify_vc_jwt(good_token[:cut], resolver, NOW)
    assert not result.verified


@_settings
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "jwk", "crit", "b64", "x"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=8)
        | st.lists(st.text(max_size=3)),
    )
)
def test_arbitrary_headers_never_raise(good_token: str, resolver, header: dict) -> None:
    _, payload, signature = good_token.split(".")
    forged = f"{b64(json.dumps(header).encode())}.{payload}.{signature}"
    result = verify_vc_jwt(forged, resolver, NOW)
    assert not result.verified


@_settings
@given(
    claims=st.dictionaries(
        st.sampled_from(["iss", "jti", "nbf", "sub", "exp", "vc", "@context"]),
        st.none()
        | st.booleans()
        | st.floats()
        | st.integers()
        | st.text(max_size=8)
        | st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    )
)
def test_arbitrary_signed_claims_never_raise(store, resolver, claims: dict) -> None:
    payload = {**CREDENTIAL, **claims}
    try:
        token = _encode(store, payload)
    except ValueError:  # NaN cannot be serialised as JSON; not a token
        return
    result = verify_vc_jwt(token, resolver, NOW)
    assert isinstance(result, VcJwtResult)
