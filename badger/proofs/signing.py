"""One door for services to sign with an issuer's keys.

Services name the issuer and the algorithm; the private key is fetched from the
key store and used here, inside ``badger.proofs``, and never returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from badger.proofs import di_eddsa_rdfc_2022, jws, vc_jwt
from badger.proofs.keystore import KeyAlgorithm, KeyStore


def add_data_integrity_proof(
    document: Mapping[str, Any],
    keystore: KeyStore,
    issuer: str,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """A copy of ``document`` with an ``eddsa-rdfc-2022`` proof appended to a ``proof`` array."""
    private_key = keystore._private_key(issuer, KeyAlgorithm.ED25519)
    proof = di_eddsa_rdfc_2022.create_proof(document, private_key, verification_method, created)  # type: ignore[arg-type]
    signed = dict(document)
    existing = signed.get("proof")
    proofs = [] if existing is None else (existing if isinstance(existing, list) else [existing])
    signed["proof"] = [*proofs, proof]
    return signed


def sign_ob2_jws(assertion: Mapping[str, Any], keystore: KeyStore, issuer: str) -> str:
    """OB 2.0 signed assertion: compact JWS, RS256 (the only interoperable choice)."""
    return jws.sign_ob2_assertion(assertion, keystore.signer(issuer, KeyAlgorithm.RS256))


def sign_vc_jwt(
    credential: Mapping[str, Any], keystore: KeyStore, issuer: str, alg: str, kid: str
) -> str:
    """OB 3.0 VC-JWT with the issuer's active key for ``alg`` (RS256, ES256 or EdDSA)."""
    return vc_jwt.sign_vc_jwt(credential, keystore.signer(issuer, KeyAlgorithm.coerce(alg)), kid)
