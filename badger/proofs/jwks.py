"""Public-key documents an issuer publishes so its credentials can be verified.

* JWK Set (RFC 7517 §5), served at ``/.well-known/jwks.json`` as the OB 3.0
  implementation guide recommends for VC-JWT key provenance (FACTS §2.10).
* OB 2.0 ``CryptographicKey`` (OB 2.0 §CryptographicKey, FACTS §1.7), linked from
  the issuer Profile's ``publicKey`` and a signed assertion's ``verification.creator``.
* Multikey verification methods (W3C Controlled Identifiers §2.2.2, VC-DI-EdDSA §2.1.1)
  for Data Integrity proofs (FACTS §2.11).
* ``did:web`` DID documents and the DID ⇄ URL mapping of the did:web method
  specification (w3c-ccg/did-method-web, §3.2 "Create" and §3.3 "Read").

Retired keys are always included: a key is retired so it no longer signs, not so
that what it signed stops verifying (ARCHITECTURE.md, "Keys").
Every builder returns a fresh dict; none ever sees a private key, and the JWK
paths check that no private member slipped in.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from badger.proofs.errors import InvalidIdentifier, ProofError
from badger.proofs.jws import PRIVATE_JWK_MEMBERS
from badger.proofs.keystore import KeyAlgorithm, KeyRef

__all__ = [
    "DID_V1_CONTEXT",
    "JWK_V1_CONTEXT",
    "MULTIKEY_V1_CONTEXT",
    "OB2_CONTEXT",
    "assert_public_jwk",
    "cryptographic_key",
    "did_web_document",
    "did_web_from_url",
    "did_web_to_url",
    "json_web_key_verification_method",
    "jwks_document",
    "multikey_verification_method",
]

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1_CONTEXT = "https://w3id.org/security/multikey/v1"
JWK_V1_CONTEXT = "https://w3id.org/security/jwk/v1"

# Only the members of a public key survive into publicKeyJwk inside a DID document.
_JWK_PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "n", "e", "alg")


def assert_public_jwk(jwk: Mapping[str, Any]) -> None:
    """Raise :class:`ProofError` if ``jwk`` carries private or symmetric key material.

    A check that stays on in production (``assert`` statements do not), since
    publishing a private member would hand out the issuer's signing key.
    """
    leaked = PRIVATE_JWK_MEMBERS & set(jwk)
    if leaked or jwk.get("kty") == "oct":
        raise ProofError(
            f"refusing to publish a JWK with private members {sorted(leaked) or ['k']}",
            code="private_key_material",
        )


def jwks_document(keys: Iterable[KeyRef], *, issuer_id: str | None = None) -> dict[str, Any]:
    """A JWK Set ``{"keys": [...]}`` (RFC 7517 §5) with ``kid``, ``alg`` and ``use: "sig"``.

    ``issuer_id``, when given, is added to every key as ``iss`` so a multi-tenant
    host can prove which issuer a key belongs to (OB 3.0 implementation guide,
    FACTS §2.10).
    """
    entries = []
    for key in keys:
        jwk: dict[str, Any] = key.public_jwk
        if issuer_id is not None:
            jwk["iss"] = issuer_id
        assert_public_jwk(jwk)
        entries.append(jwk)
    return {"keys": entries}


def cryptographic_key(key_url: str, owner: str, public_key_pem: str) -> dict[str, Any]:
    """An OB 2.0 ``CryptographicKey`` document (FACTS §1.7).

    ``key_url`` is the HTTP(S) URL this document is served at and the value of
    ``verification.creator`` in assertions it signs; ``owner`` is the issuer
    Profile id, whose ``publicKey`` must list ``key_url`` back (FACTS §5.21).
    """
    if "PRIVATE KEY" in public_key_pem:
        raise ProofError(
            "refusing to publish private key material as publicKeyPem",
            code="private_key_material",
        )
    return {
        "@context": OB2_CONTEXT,
        "type": "CryptographicKey",
        "id": key_url,
        "owner": owner,
        "publicKeyPem": public_key_pem,
    }


def multikey_verification_method(controller: str, multibase: str) -> dict[str, Any]:
    """A ``Multikey`` verification method ``<controller>#<multibase>`` (FACTS §2.11, §5.7-8).

    ``controller`` must be exactly the credential's ``issuer.id`` (or the DID),
    otherwise verifiers reject the proof ("Key controller does not match issuer").
    """
    return {
        "id": f"{controller}#{multibase}",
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": multibase,
    }


def json_web_key_verification_method(controller: str, key: KeyRef) -> dict[str, Any]:
    """A ``JsonWebKey`` verification method (W3C Controlled Identifiers §2.2.3) for RSA/EC keys."""
    jwk = key.public_jwk
    public = {name: jwk[name] for name in _JWK_PUBLIC_MEMBERS if name in jwk}
    assert_public_jwk(public)
    return {
        "id": f"{controller}#{key.kid}",
        "type": "JsonWebKey",
        "controller": controller,
        "publicKeyJwk": public,
    }


def did_web_document(did: str, keys: Iterable[KeyRef]) -> dict[str, Any]:
    """A DID document for a ``did:web`` issuer (DID Core §5, did:web spec §3.2).

    Every key, active or retired, becomes a verification method whose
    ``controller`` is exactly ``did``. Ed25519 keys are ``Multikey`` methods listed
    under ``assertionMethod`` and ``authentication``; RSA and P-256 keys are
    ``JsonWebKey`` methods listed under ``assertionMethod`` only, because a
    VC-JWT whose ``kid`` is a DID URL is an assertion made with that key and
    verifiers check the proof purpose against this list.
    """
    did_web_to_url(did)  # validates the DID
    methods: list[dict[str, Any]] = []
    assertion: list[str] = []
    authentication: list[str] = []
    uses_jwk = False
    for key in keys:
        if key.alg is KeyAlgorithm.ED25519:
            if not key.multibase:
                raise ProofError(f"Ed25519 key {key.kid!r} has no multibase value")
            method = multikey_verification_method(did, key.multibase)
            authentication.append(method["id"])
        else:
            method = json_web_key_verification_method(did, key)
            uses_jwk = True
        assertion.append(method["id"])
        methods.append(method)
    context = [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT]
    if uses_jwk:
        context.append(JWK_V1_CONTEXT)
    return {
        "@context": context,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": assertion,
        "authentication": authentication,
    }


# ---------------------------------------------------------------- did:web ⇄ URL

# DID Core §3.1 idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded.
_SEGMENT_RE = re.compile(r"^(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_WELL_KNOWN = "/.well-known"
_DOCUMENT = "/did.json"


def _check_host(host: str, source: str) -> str:
    if not host or len(host) > 253 or not host.isascii():
        raise InvalidIdentifier(
            f"{source}: the host must be an ASCII domain name (use the xn-- form for IDNs)"
        )
    if not all(_LABEL_RE.fullmatch(label) for label in host.split(".")):
        raise InvalidIdentifier(f"{source}: {host!r} is not a domain name")
    return host.lower()


def _check_port(port: str, source: str) -> str:
    if not port.isdigit() or not port.isascii() or not 0 < int(port) < 65536:
        raise InvalidIdentifier(f"{source}: {port!r} is not a TCP port")
    return port


def did_web_from_url(base_url: str) -> str:
    """The ``did:web`` DID for an HTTPS location (did:web spec §3.2).

    ``https://example.org`` → ``did:web:example.org``;
    ``https://example.org:8443/path`` → ``did:web:example.org%3A8443:path``.
    The URL of the DID document itself (``…/.well-known/did.json`` or
    ``…/did.json``) maps to the same DID, so this inverts :func:`did_web_to_url`.
    Path characters outside the DID ``idchar`` set are percent-encoded.
    """
    if not isinstance(base_url, str):
        raise InvalidIdentifier("a did:web base URL must be a string")
    try:
        parts = urllib.parse.urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise InvalidIdentifier(f"{base_url!r} is not a valid URL") from exc
    if parts.scheme.lower() != "https":
        raise InvalidIdentifier(f"{base_url!r}: did:web requires an https URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidIdentifier(f"{base_url!r}: did:web URLs carry no user information")
    if parts.query or parts.fragment or base_url.endswith(("?", "#")):
        raise InvalidIdentifier(f"{base_url!r}: did:web URLs carry no query or fragment")
    netloc_host = parts.netloc.rsplit("@", 1)[-1]
    if netloc_host.startswith("["):
        raise InvalidIdentifier(f"{base_url!r}: did:web needs a domain name, not an IP literal")
    host = _check_host(parts.hostname or "", base_url)
    msid = host if port is None else f"{host}%3A{_check_port(str(port), base_url)}"

    path = parts.path
    if path.endswith(_DOCUMENT):
        path = path[: -len(_DOCUMENT)]
        if path == _WELL_KNOWN:
            path = ""
        elif not path:
            # https://host/did.json is not a did:web document location.
            raise InvalidIdentifier(f"{base_url!r}: a domain DID lives at /.well-known/did.json")
    path = path.removesuffix("/")
    if path:
        segments = path.removeprefix("/").split("/")
        for segment in segments:
            if not segment:
                raise InvalidIdentifier(f"{base_url!r}: empty path segment")
            if segment in {".", ".."}:
                raise InvalidIdentifier(f"{base_url!r}: dot segments are not allowed")
            # quote() never escapes "~", which is not a DID idchar.
            encoded = urllib.parse.quote(segment, safe="-._%").replace("~", "%7E")
            if not _SEGMENT_RE.fullmatch(encoded):
                raise InvalidIdentifier(f"{base_url!r}: bad percent-encoding in {segment!r}")
            msid += ":" + encoded
    return f"did:web:{msid}"


def did_web_to_url(did: str) -> str:
    """The HTTPS URL of the DID document for a ``did:web`` DID (did:web spec §3.3).

    ``did:web:example.org`` → ``https://example.org/.well-known/did.json``;
    ``did:web:example.org%3A8443:path`` → ``https://example.org:8443/path/did.json``.
    A fragment (a DID URL naming a key) is ignored: the document is the same.
    Raises :class:`InvalidIdentifier` for anything that is not a did:web DID.
    """
    if not isinstance(did, str):
        raise InvalidIdentifier("a DID must be a string")
    did = did.split("#", 1)[0]
    if not did.startswith("did:web:"):
        raise InvalidIdentifier(f"{did!r} is not a did:web DID")
    if "?" in did or "/" in did:
        raise InvalidIdentifier(f"{did!r}: did:web DIDs carry no path, query or slash")
    domain, *segments = did[len("did:web:") :].split(":")
    host, sep, port = domain.partition("%3A")
    if not sep:
        host, sep, port = domain.partition("%3a")
    host = _check_host(host, did)
    authority = f"{host}:{_check_port(port, did)}" if sep else host
    for segment in segments:
        if not _SEGMENT_RE.fullmatch(segment) or segment in {".", ".."}:
            raise InvalidIdentifier(f"{did!r}: {segment!r} is not a valid path segment")
    path = "/" + "/".join(segments) if segments else _WELL_KNOWN
    return f"https://{authority}{path}{_DOCUMENT}"
