"""Public-key documents: JWKS, OB 2.0 CryptographicKey, Multikey, did:web."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badger.proofs.errors import InvalidIdentifier, ProofError
from badger.proofs.jwks import (
    DID_V1_CONTEXT,
    JWK_V1_CONTEXT,
    MULTIKEY_V1_CONTEXT,
    assert_public_jwk,
    cryptographic_key,
    did_web_document,
    did_web_from_url,
    did_web_to_url,
    jwks_document,
    multikey_verification_method,
)
from badger.proofs.jws import PRIVATE_JWK_MEMBERS
from badger.proofs.keystore import KeyAlgorithm, KeyStatus, MemoryKeyStore

ISSUER = "acme"
DID = "did:web:badges.example.org:issuers:acme"


@pytest.fixture(scope="module")
def store() -> MemoryKeyStore:
    """Keys made once per module (RSA generation is slow); each family rotated once."""
    keys = MemoryKeyStore()
    keys.ensure_keys(ISSUER)
    for alg in KeyAlgorithm:
        keys.rotate(ISSUER, alg)
    return keys


def _walk(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_jwks_lists_every_key_with_kid_alg_and_use_but_no_private_member(store) -> None:
    document = jwks_document(store.public_keys(ISSUER))
    assert set(document) == {"keys"}
    assert len(document["keys"]) == 2 * len(KeyAlgorithm)
    for jwk in document["keys"]:
        assert jwk["use"] == "sig"
        assert jwk["kid"]
        assert jwk["alg"] in {"RS256", "ES256", "EdDSA"}
        assert not PRIVATE_JWK_MEMBERS & set(jwk)
    retired = {k.kid for k in store.public_keys(ISSUER) if k.status is KeyStatus.RETIRED}
    assert retired <= {jwk["kid"] for jwk in document["keys"]}
    assert "PRIVATE" not in json.dumps(document)


def test_jwks_can_name_the_issuer_on_every_key(store) -> None:
    document = jwks_document(store.public_keys(ISSUER), issuer_id="https://example.org/i/1")
    assert {jwk["iss"] for jwk in document["keys"]} == {"https://example.org/i/1"}


@pytest.mark.parametrize("member", sorted(PRIVATE_JWK_MEMBERS))
def test_private_members_are_never_published(member: str) -> None:
    with pytest.raises(ProofError) as caught:
        assert_public_jwk({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", member: "secret"})
    assert caught.value.code == "private_key_material"


def test_symmetric_keys_are_never_published() -> None:
    with pytest.raises(ProofError):
        assert_public_jwk({"kty": "oct"})


def test_cryptographic_key_has_the_ob2_shape(store) -> None:
    key = store.active_key(ISSUER, KeyAlgorithm.RS256)
    document = cryptographic_key(
        "https://example.org/keys/1.json", "https://example.org/issuer", key.public_pem
    )
    assert document == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "CryptographicKey",
        "id": "https://example.org/keys/1.json",
        "owner": "https://example.org/issuer",
        "publicKeyPem": key.public_pem,
    }
    assert document["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_cryptographic_key_refuses_a_private_pem() -> None:
    with pytest.raises(ProofError):
        cryptographic_key("https://k", "https://o", "-----BEGIN PRIVATE KEY-----\n...")


def test_multikey_method_uses_the_controller_and_multibase(store) -> None:
    key = store.active_key(ISSUER, KeyAlgorithm.ED25519)
    method = multikey_verification_method("https://example.org/issuers/1", key.multibase)
    assert method == {
        "id": f"https://example.org/issuers/1#{key.multibase}",
        "type": "Multikey",
        "controller": "https://example.org/issuers/1",
        "publicKeyMultibase": key.multibase,
    }
    assert method["id"] == key.verification_method("https://example.org/issuers/1")


def test_did_document_publishes_every_key_under_the_did(store) -> None:
    keys = store.public_keys(ISSUER)
    document = did_web_document(DID, keys)
    assert document["@context"] == [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT, JWK_V1_CONTEXT]
    assert document["id"] == DID
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert len(methods) == len(keys)
    assert all(m["controller"] == DID for m in methods.values())

    ed_keys = [k for k in keys if k.alg is KeyAlgorithm.ED25519]
    ed_ids = [f"{DID}#{k.multibase}" for k in ed_keys]
    assert any(k.status is KeyStatus.RETIRED for k in ed_keys)
    assert document["authentication"] == ed_ids
    assert set(ed_ids) <= set(document["assertionMethod"])
    for method_id in ed_ids:
        assert methods[method_id]["type"] == "Multikey"
        assert methods[method_id]["publicKeyMultibase"].startswith("z6Mk")

    jwk_methods = [m for m in methods.values() if m["type"] == "JsonWebKey"]
    assert len(jwk_methods) == 4
    for method in jwk_methods:
        assert method["id"] in document["assertionMethod"]
        assert method["publicKeyJwk"]["kty"] in {"RSA", "EC"}
    for node in _walk(document):
        assert not PRIVATE_JWK_MEMBERS & set(node) or "publicKeyJwk" not in str(node)
    for method in jwk_methods:
        assert not PRIVATE_JWK_MEMBERS & set(method["publicKeyJwk"])


def test_did_document_without_jwk_keys_omits_the_jwk_context(store) -> None:
    ed_only = [k for k in store.public_keys(ISSUER) if k.alg is KeyAlgorithm.ED25519]
    document = did_web_document("did:web:example.org", ed_only)
    assert document["@context"] == [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT]


def test_did_document_refuses_a_non_did_web_id(store) -> None:
    with pytest.raises(InvalidIdentifier):
        did_web_document("https://example.org", store.public_keys(ISSUER))


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # the examples of the did:web method specification
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:example.org%3A8443:path", "https://example.org:8443/path/did.json"),
    ],
)
def test_did_web_maps_to_its_document_url_and_back(did: str, url: str) -> None:
    assert did_web_to_url(did) == url
    assert did_web_from_url(url) == did


@pytest.mark.parametrize(
    ("base_url", "did"),
    [
        ("https://example.org:8443/path", "did:web:example.org%3A8443:path"),
        ("https://example.org", "did:web:example.org"),
        ("https://example.org/", "did:web:example.org"),
        ("https://Example.ORG/issuers/acme/", "did:web:example.org:issuers:acme"),
        ("https://example.org/a:b/~c", "did:web:example.org:a%3Ab:%7Ec"),
    ],
)
def test_did_web_from_base_url(base_url: str, did: str) -> None:
    assert did_web_from_url(base_url) == did


def test_a_did_url_fragment_does_not_change_the_document_url() -> None:
    assert did_web_to_url("did:web:example.org#z6Mkabc") == (
        "https://example.org/.well-known/did.json"
    )


@pytest.mark.parametrize(
    "base_url",
    [
        "http://example.org",
        "https://user@example.org",
        "https://example.org/?q=1",
        "https://example.org/#top",
        "https://[::1]/x",
        "https://example.org:0",
        "https://example.org:99999",
        "https://exa_mple.org",
        "https://example.org//x",
        "https://example.org/a/../b",
        "https://example.org/did.json",
        "https://bücher.example",
        "https://example.org/%zz",
        "not a url",
    ],
)
def test_did_web_from_url_rejects_what_did_web_cannot_express(base_url: str) -> None:
    with pytest.raises(InvalidIdentifier):
        did_web_from_url(base_url)


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mkabc",
        "did:web:",
        "did:web:example.org%3Aport",
        "did:web:example.org::x",
        "did:web:example.org:a/b",
        "did:web:exa mple.org",
        "did:web:-bad.example",
        "did:web:example.org:%zz",
        "did:web:example.org?service=x",
    ],
)
def test_did_web_to_url_rejects_malformed_dids(did: str) -> None:
    with pytest.raises(InvalidIdentifier):
        did_web_to_url(did)


# ---------------------------------------------------------------- property tests

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_port = st.none() | st.integers(min_value=1, max_value=65535)
_segment = st.from_regex(r"([A-Za-z0-9._-]|%[0-9A-F]{2}){1,12}", fullmatch=True).filter(
    lambda s: s not in {".", ".."}
)
_segments = st.lists(_segment, max_size=4)


@settings(max_examples=300, deadline=None)
@given(host=_host, port=_port, segments=_segments)
def test_did_web_round_trips_through_its_url(host, port, segments) -> None:
    domain = host if port is None else f"{host}%3A{port}"
    did = ":".join(["did:web", domain, *segments])
    url = did_web_to_url(did)
    assert url.startswith("https://")
    assert url.endswith("/did.json")
    if not segments:
        assert url.endswith("/.well-known/did.json")
    assert did_web_from_url(url) == did


@settings(max_examples=300, deadline=None)
@given(host=_host, port=_port, segments=_segments, slash=st.booleans())
def test_base_urls_round_trip_through_their_did(host, port, segments, slash) -> None:
    authority = host if port is None else f"{host}:{port}"
    path = "".join(f"/{s}" for s in segments) + ("/" if slash else "")
    base_url = f"https://{authority}{path}"
    did = did_web_from_url(base_url)
    expected = (
        f"https://{authority}{path.rstrip('/')}/did.json"
        if segments
        else f"https://{authority}/.well-known/did.json"
    )
    assert did_web_to_url(did) == expected
    assert did_web_from_url(did_web_to_url(did)) == did


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_did_web_functions_raise_only_invalid_identifier(text: str) -> None:
    for function in (did_web_to_url, did_web_from_url):
        try:
            result = function(text)
        except InvalidIdentifier:
            continue
        assert isinstance(result, str)
