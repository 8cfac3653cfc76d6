"""Key resolution and key ownership (FACTS §2.10, §2.11, §5.7): badger.verify.resolve."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badger.proofs.jwks import did_web_document, multikey_verification_method
from badger.proofs.keystore import KeyAlgorithm, MemoryKeyStore
from badger.proofs.multikey import did_key_from_ed25519_public, ed25519_public_to_multibase
from badger.verify.context import VerifyContext
from badger.verify.resolve import (
    KeyResolutionError,
    Ownership,
    issuer_key_set_url,
    resolve_jwt_key,
    resolve_verification_method,
)
from tests.fakes import json_fetcher

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
ISSUER = "https://badges.example.org/issuers/1"
DID_WEB = "did:web:badges.example.org"
DID_WEB_URL = "https://badges.example.org/.well-known/did.json"
JWKS_URL = "https://badges.example.org/.well-known/jwks.json"


def ctx_with(documents: dict[str, object] | None = None) -> VerifyContext:
    return VerifyContext(now=NOW, fetcher=json_fetcher(documents))


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


@pytest.fixture(scope="module")
def ed_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def multibase(ed_key) -> str:
    return ed25519_public_to_multibase(raw_public(ed_key))


@pytest.fixture(scope="module")
def store() -> MemoryKeyStore:
    keys = MemoryKeyStore()
    keys.ensure_keys("acme")
    keys.ensure_keys("mallory")
    return keys


def same_key(resolved_key, private: Ed25519PrivateKey) -> bool:
    return resolved_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == raw_public(private)


def profile_document(issuer: str, multibase: str, *, assertion: bool = True) -> dict:
    method = multikey_verification_method(issuer, multibase)
    document = {"id": issuer, "type": ["Profile"], "verificationMethod": [method]}
    if assertion:
        document["assertionMethod"] = [method["id"]]
    return document


# ---------------------------------------------------------------- did:key


def test_did_key_controlled_by_the_issuer_is_owned(ed_key, multibase):
    did = did_key_from_ed25519_public(raw_public(ed_key))
    resolved = resolve_verification_method(f"{did}#{multibase}", did, ctx_with())
    assert resolved.ownership is Ownership.OWNED
    assert resolved.source == "did:key"
    assert same_key(resolved.public_key, ed_key)


def test_did_key_of_another_controller_than_an_https_issuer_is_not_owned(ed_key, multibase):
    did = did_key_from_ed25519_public(raw_public(ed_key))
    resolved = resolve_verification_method(did, ISSUER, ctx_with())
    assert resolved.ownership is Ownership.NOT_OWNED
    assert "is not the issuer" in resolved.reason


def test_did_key_with_a_urn_issuer_is_unknown_not_forged(ed_key):
    did = did_key_from_ed25519_public(raw_public(ed_key))
    resolved = resolve_verification_method(did, "urn:uuid:1234", ctx_with())
    assert resolved.ownership is Ownership.UNKNOWN
    assert "not a DID or URL" in resolved.reason


def test_a_did_key_that_is_not_ed25519_cannot_be_resolved():
    with pytest.raises(KeyResolutionError) as caught:
        resolve_verification_method(
            "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ISSUER, ctx_with()
        )
    assert caught.value.code == "invalid_key"


# ---------------------------------------------------------------- did:web


def did_web_doc(multibase: str, *, controller: str = DID_WEB, assertion: bool = True) -> dict:
    method = multikey_verification_method(DID_WEB, multibase)
    method["controller"] = controller
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": DID_WEB,
        "verificationMethod": [method],
        "assertionMethod": [method["id"]] if assertion else [],
    }


def test_did_web_key_listed_for_assertion_is_owned(ed_key, multibase):
    ctx = ctx_with({DID_WEB_URL: did_web_doc(multibase)})
    resolved = resolve_verification_method(f"{DID_WEB}#{multibase}", DID_WEB, ctx)
    assert resolved.ownership is Ownership.OWNED
    assert resolved.source == "did:web"
    assert same_key(resolved.public_key, ed_key)


def test_did_web_key_relative_ids_are_understood(ed_key, multibase):
    document = did_web_doc(multibase)
    document["verificationMethod"][0]["id"] = f"#{multibase}"
    document["assertionMethod"] = [f"#{multibase}"]
    resolved = resolve_verification_method(
        f"{DID_WEB}#{multibase}", DID_WEB, ctx_with({DID_WEB_URL: document})
    )
    assert resolved.ownership is Ownership.OWNED


def test_did_web_key_not_listed_under_assertion_method_is_not_owned(multibase):
    ctx = ctx_with({DID_WEB_URL: did_web_doc(multibase, assertion=False)})
    resolved = resolve_verification_method(f"{DID_WEB}#{multibase}", DID_WEB, ctx)
    assert resolved.ownership is Ownership.NOT_OWNED
    assert "assertionMethod" in resolved.reason


def test_did_web_key_controlled_by_someone_else_is_not_owned(multibase):
    ctx = ctx_with({DID_WEB_URL: did_web_doc(multibase, controller="did:web:evil.example")})
    resolved = resolve_verification_method(f"{DID_WEB}#{multibase}", DID_WEB, ctx)
    assert resolved.ownership is Ownership.NOT_OWNED


def test_did_web_key_of_another_issuer_is_not_owned(multibase):
    ctx = ctx_with({DID_WEB_URL: did_web_doc(multibase)})
    resolved = resolve_verification_method(f"{DID_WEB}#{multibase}", ISSUER, ctx)
    assert resolved.ownership is Ownership.NOT_OWNED


def test_unreachable_did_web_cannot_be_resolved(multibase):
    with pytest.raises(KeyResolutionError) as caught:
        resolve_verification_method(f"{DID_WEB}#{multibase}", DID_WEB, ctx_with())
    assert caught.value.code == "did_unresolvable"


def test_did_web_without_the_method_cannot_be_resolved(multibase):
    ctx = ctx_with({DID_WEB_URL: did_web_doc(multibase)})
    with pytest.raises(KeyResolutionError) as caught:
        resolve_verification_method(f"{DID_WEB}#other", DID_WEB, ctx)
    assert caught.value.code == "key_not_found"


def test_a_document_for_another_did_is_refused(multibase):
    document = did_web_doc(multibase) | {"id": "did:web:other.example"}
    with pytest.raises(KeyResolutionError) as caught:
        resolve_verification_method(
            f"{DID_WEB}#{multibase}", DID_WEB, ctx_with({DID_WEB_URL: document})
        )
    assert caught.value.code == "did_document_mismatch"


# ---------------------------------------------------------------- https controller documents


def test_unreachable_profile_falls_back_to_the_fragment_key_with_unknown_ownership(
    ed_key, multibase
):
    resolved = resolve_verification_method(f"{ISSUER}#{multibase}", ISSUER, ctx_with())
    assert resolved.ownership is Ownership.UNKNOWN
    assert resolved.source == "fragment"
    assert same_key(resolved.public_key, ed_key)
    assert "could not be fetched" in resolved.reason


def test_fragment_key_naming_another_controller_is_not_owned(multibase):
    method = f"https://elsewhere.example/issuers/9#{multibase}"
    resolved = resolve_verification_method(method, ISSUER, ctx_with())
    assert resolved.ownership is Ownership.NOT_OWNED


def test_profile_that_publishes_the_key_for_assertion_owns_it(ed_key, multibase):
    ctx = ctx_with({ISSUER: profile_document(ISSUER, multibase)})
    resolved = resolve_verification_method(f"{ISSUER}#{multibase}", ISSUER, ctx)
    assert resolved.ownership is Ownership.OWNED
    assert resolved.source == "controller document"


def test_reachable_profile_that_does_not_publish_the_key_disowns_it(multibase):
    other = ed25519_public_to_multibase(raw_public(Ed25519PrivateKey.generate()))
    ctx = ctx_with({ISSUER: profile_document(ISSUER, other)})
    resolved = resolve_verification_method(f"{ISSUER}#{multibase}", ISSUER, ctx)
    assert resolved.ownership is Ownership.NOT_OWNED
    assert "does not publish" in resolved.reason


def test_profile_listing_the_key_without_assertion_method_does_not_own_it(multibase):
    ctx = ctx_with({ISSUER: profile_document(ISSUER, multibase, assertion=False)})
    resolved = resolve_verification_method(f"{ISSUER}#{multibase}", ISSUER, ctx)
    assert resolved.ownership is Ownership.NOT_OWNED


def test_https_method_without_a_multibase_fragment_needs_its_document():
    with pytest.raises(KeyResolutionError) as caught:
        resolve_verification_method(f"{ISSUER}#key-1", ISSUER, ctx_with())
    assert caught.value.code == "key_unreachable"


def test_standalone_key_document_is_owned_when_its_controller_lists_it(ed_key, multibase):
    key_url = "https://badges.example.org/keys/1"
    key_document = {
        "id": key_url,
        "type": "Multikey",
        "controller": ISSUER,
        "publicKeyMultibase": multibase,
    }
    controller = {"id": ISSUER, "assertionMethod": [key_url]}
    resolved = resolve_verification_method(
        key_url, ISSUER, ctx_with({key_url: key_document, ISSUER: controller})
    )
    assert resolved.ownership is Ownership.OWNED
    assert resolved.source == "key document"
    unreachable = resolve_verification_method(key_url, ISSUER, ctx_with({key_url: key_document}))
    assert unreachable.ownership is Ownership.UNKNOWN
    unlisted = resolve_verification_method(
        key_url, ISSUER, ctx_with({key_url: key_document, ISSUER: {"id": ISSUER}})
    )
    assert unlisted.ownership is Ownership.NOT_OWNED


def test_unsupported_method_schemes_are_refused():
    with pytest.raises(KeyResolutionError) as caught:
        resolve_verification_method("urn:key:1", ISSUER, ctx_with())
    assert caught.value.code == "unsupported_method"


# ---------------------------------------------------------------- VC-JWT keys


def test_issuer_key_set_url_is_the_well_known_jwks_of_the_authority():
    assert issuer_key_set_url(ISSUER) == JWKS_URL
    assert issuer_key_set_url("did:web:x") is None


def test_kid_url_returning_a_jwk_listed_in_the_issuer_jwks_is_owned(store):
    key = store.active_key("acme", KeyAlgorithm.ES256)
    kid = f"{ISSUER}/keys/{key.kid}"
    ctx = ctx_with({kid: key.public_jwk, JWKS_URL: {"keys": [key.public_jwk]}})
    resolved = resolve_jwt_key(kid, None, ISSUER, ctx)
    assert resolved.ownership is Ownership.OWNED
    assert resolved.public_key["kty"] == "EC"


def test_kid_url_whose_key_is_missing_from_the_jwks_is_only_unknown(store):
    key = store.active_key("acme", KeyAlgorithm.ES256)
    other = store.active_key("mallory", KeyAlgorithm.ES256)
    kid = f"{ISSUER}/keys/{key.kid}"
    ctx = ctx_with({kid: key.public_jwk, JWKS_URL: {"keys": [other.public_jwk]}})
    assert resolve_jwt_key(kid, None, ISSUER, ctx).ownership is Ownership.UNKNOWN


def test_jwks_entry_naming_another_issuer_disowns_the_key(store):
    key = store.active_key("acme", KeyAlgorithm.ES256)
    listed = key.public_jwk | {"iss": "https://badges.example.org/issuers/2"}
    ctx = ctx_with({JWKS_URL: {"keys": [listed]}})
    resolved = resolve_jwt_key(None, key.public_jwk, ISSUER, ctx)
    assert resolved.ownership is Ownership.NOT_OWNED


def test_inline_jwk_is_a_warning_unless_the_jwks_lists_it(store):
    key = store.active_key("acme", KeyAlgorithm.ES256)
    unknown = resolve_jwt_key(None, key.public_jwk, ISSUER, ctx_with())
    assert unknown.ownership is Ownership.UNKNOWN
    assert "inline" in unknown.reason
    owned = resolve_jwt_key(
        None, key.public_jwk, ISSUER, ctx_with({JWKS_URL: {"keys": [key.public_jwk]}})
    )
    assert owned.ownership is Ownership.OWNED


def test_kid_in_a_jwk_set_is_picked_by_its_fragment(store):
    key = store.active_key("acme", KeyAlgorithm.ES256)
    ctx = ctx_with({JWKS_URL: {"keys": [key.public_jwk]}})
    resolved = resolve_jwt_key(f"{JWKS_URL}#{key.kid}", None, ISSUER, ctx)
    assert resolved.source == "jwk set"
    assert resolved.ownership is Ownership.OWNED


def test_did_web_kid_with_a_json_web_key_method_is_owned(store):
    key = store.active_key("acme", KeyAlgorithm.ES256)
    document = did_web_document(DID_WEB, [key])
    resolved = resolve_jwt_key(
        f"{DID_WEB}#{key.kid}", None, DID_WEB, ctx_with({DID_WEB_URL: document})
    )
    assert resolved.ownership is Ownership.OWNED


def test_bare_kid_without_jwk_is_not_resolved():
    with pytest.raises(KeyResolutionError) as caught:
        resolve_jwt_key("key-1", None, ISSUER, ctx_with())
    assert caught.value.code == "unsupported_kid"


def test_unreachable_kid_url_cannot_be_resolved():
    with pytest.raises(KeyResolutionError) as caught:
        resolve_jwt_key(f"{ISSUER}/keys/1", None, ISSUER, ctx_with())
    assert caught.value.code == "key_unreachable"
