"""Key resolution and key ownership for OB 3.0 proofs (FACTS §2.10, §2.11, §5.7).

Two questions, answered apart so a report can show both:

1. *Which public key does the proof name?* — the signature is checked with it.
2. *Does that key belong to the credential's issuer?* — the verification
   method's ``controller`` must equal ``issuer.id`` (FACTS §5.7: "Key controller
   does not match issuer") and the controller must list the method under
   ``assertionMethod`` (VC-DI §4.4, Controlled Identifiers §2.3).

The answer to (2) is an :class:`Ownership`: ``owned``, ``unknown`` (could not be
established either way: the controller document cannot be fetched, or the
issuer id is a URN nothing can resolve) or ``not_owned`` (the documents say the
key is someone else's). The verifier reports ``unknown`` as a warning and
``not_owned`` as a failure.

Verification-method forms (FACTS §2.11):

* ``did:key:z6Mk…`` / ``did:key:z6Mk…#z6Mk…`` — the DID is the key; nothing fetched.
* ``did:web:…#frag`` — the DID document is fetched (``did_web_to_url``).
* ``https://…#z6Mk…`` — the controller (profile) document is fetched. When it
  cannot be reached the key is read from the multibase fragment, which is how
  the 1EdTech validator treats the ``example.edu`` fixtures, and ownership is
  ``unknown``. badger does not stop at the fragment when the document *can* be
  fetched: it confirms the key is published there (FACTS §2.11, last paragraph).

For VC-JWT (:func:`resolve_jwt_key`) the ``kid`` may be a DID URL or an HTTPS
URL returning a JWK (or a JWK Set / controller document holding it); an inline
``jwk`` is used as given and is owned only when the issuer's published key set
(``https://<authority>/.well-known/jwks.json``, or the did:web document) lists
the same key.
"""

from __future__ import annotations

import enum
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badger.proofs.di_eddsa_rdfc_2022 import resolve_did_key
from badger.proofs.errors import ProofError
from badger.proofs.jwks import did_web_to_url
from badger.proofs.jws import load_public_key
from badger.proofs.keystore import jwk_from_public_key
from badger.proofs.multikey import multibase_to_ed25519_public
from badger.verify.context import VerifyContext
from badger.verify.ports import FetchError

__all__ = [
    "KeyResolutionError",
    "Ownership",
    "ResolvedKey",
    "issuer_key_set_url",
    "resolve_jwt_key",
    "resolve_verification_method",
]

_ASSERTION = "assertionMethod"


class Ownership(enum.StrEnum):
    OWNED = "owned"
    UNKNOWN = "unknown"
    NOT_OWNED = "not_owned"


class KeyResolutionError(LookupError):
    """No usable key could be found for a verification method or ``kid``.

    A ``LookupError`` so that :func:`badger.proofs.di_eddsa_rdfc_2022.verify_proof`
    reports it as ``key_not_found``. ``code`` is stable, ``message`` human.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ResolvedKey:
    """A public key named by a proof, and whether it provably belongs to the issuer.

    ``public_key`` is a key object from :mod:`badger.proofs` (Ed25519 for Data
    Integrity) or, for VC-JWT, anything :func:`badger.proofs.jws.load_public_key`
    accepts. ``source`` says where the key came from (``did:key``,
    ``did:web``, ``controller document``, ``key document``, ``fragment``,
    ``jwk``, ``jwk set``).
    """

    method: str
    public_key: Any
    controller: str | None
    ownership: Ownership
    reason: str
    source: str

    @property
    def owned(self) -> bool:
        return self.ownership is Ownership.OWNED


# ---------------------------------------------------------------- small helpers


def _is_http(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def _is_resolvable_id(value: str) -> bool:
    """Whether an issuer id names something a verifier can dereference (DID or HTTP(S) URL)."""
    return value.startswith("did:") or _is_http(value)


def _ed25519_from_multibase(value: str) -> Any:
    """An Ed25519 public key object from a ``z6Mk…`` value (raises KeyResolutionError)."""
    try:
        multibase_to_ed25519_public(value)
        return resolve_did_key("did:key:" + value)
    except (ValueError, LookupError) as exc:
        raise KeyResolutionError("invalid_key", f"{value!r} is not an Ed25519 Multikey") from exc


def _multibase_fragment(method: str) -> str | None:
    _, sep, fragment = method.partition("#")
    if not sep:
        return None
    try:
        multibase_to_ed25519_public(fragment)
    except ValueError:
        return None
    return fragment


def _controller_verdict(controller: str | None, issuer_id: str | None) -> tuple[Ownership, str]:
    """Rule FACTS §5.7: the key's controller is the issuer."""
    if not isinstance(controller, str) or not controller:
        return Ownership.NOT_OWNED, "the verification method names no controller"
    if not isinstance(issuer_id, str) or not issuer_id:
        return Ownership.UNKNOWN, "the credential names no issuer id to compare the key with"
    if controller == issuer_id:
        return Ownership.OWNED, f"the key's controller is the issuer {issuer_id}"
    if not _is_resolvable_id(issuer_id):
        return (
            Ownership.UNKNOWN,
            f"the issuer id {issuer_id} is not a DID or URL, so nothing can link it to the "
            f"key controlled by {controller}; the issuer is unconfirmed",
        )
    return (
        Ownership.NOT_OWNED,
        f"the key's controller {controller} is not the issuer {issuer_id}",
    )


def _fetch_json(url: str, ctx: VerifyContext, what: str) -> dict[str, Any]:
    """A JSON object by URL; raises FetchError with a human message on any failure."""
    status, body = ctx.retrieve_json(url)
    if status >= 400:
        raise FetchError(f"http_{status}", f"{what} {url} answered HTTP {status}")
    if not isinstance(body, dict):
        raise FetchError("not_json_object", f"{what} {url} is not a JSON object")
    return body


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _absolute(ref: Any, base: str) -> str | None:
    """A method reference as an absolute id (``#key-1`` is relative to the document)."""
    if isinstance(ref, Mapping):
        ref = ref.get("id")
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith("#"):
        return base.split("#", 1)[0] + ref
    return ref


def _find_method(document: Mapping[str, Any], method: str, base: str) -> dict[str, Any] | None:
    """The verification method object with id ``method`` in a DID / controller document."""
    candidates = _as_list(document.get("verificationMethod")) + [
        m for m in _as_list(document.get(_ASSERTION)) if isinstance(m, Mapping)
    ]
    for candidate in candidates:
        if isinstance(candidate, dict) and _absolute(candidate, base) == method:
            return candidate
    return None


def _lists_for_assertion(document: Mapping[str, Any], method: str, base: str) -> bool:
    return any(_absolute(ref, base) == method for ref in _as_list(document.get(_ASSERTION)))


def _method_key(method_object: Mapping[str, Any], method: str, *, ed25519_only: bool) -> Any:
    """The public key held by a verification method object (Multikey or JsonWebKey)."""
    multibase = method_object.get("publicKeyMultibase")
    if isinstance(multibase, str):
        return _ed25519_from_multibase(multibase)
    jwk = method_object.get("publicKeyJwk")
    if isinstance(jwk, Mapping):
        try:
            key = load_public_key(jwk)
        except ProofError as exc:
            raise KeyResolutionError("invalid_key", f"{method}: {exc}") from exc
        if ed25519_only and jwk.get("kty") != "OKP":
            raise KeyResolutionError(
                "invalid_key", f"{method} is not an Ed25519 key (Data Integrity needs one)"
            )
        return key
    raise KeyResolutionError(
        "invalid_key", f"{method} carries neither publicKeyMultibase nor publicKeyJwk"
    )


def _method_ownership(
    document: Mapping[str, Any],
    method_object: Mapping[str, Any],
    method: str,
    document_id: str,
    issuer_id: str | None,
) -> tuple[str | None, Ownership, str]:
    """Ownership of a method found in a controller document whose id is ``document_id``."""
    controller = method_object.get("controller")
    controller = controller if isinstance(controller, str) else None
    if controller != document_id:
        return (
            controller,
            Ownership.NOT_OWNED,
            f"{method} is controlled by {controller!r}, not by {document_id}, "
            "the document that publishes it",
        )
    if not _lists_for_assertion(document, method, document_id):
        return (
            controller,
            Ownership.NOT_OWNED,
            f"{document_id} does not list {method} under assertionMethod, so it is not "
            "authorised to sign credentials",
        )
    ownership, reason = _controller_verdict(controller, issuer_id)
    if ownership is Ownership.OWNED:
        reason = f"{reason}, which lists it under assertionMethod"
    return controller, ownership, reason


# ---------------------------------------------------------------- Data Integrity


def resolve_verification_method(
    method: str, issuer_id: str | None, ctx: VerifyContext
) -> ResolvedKey:
    """Resolve a Data Integrity ``verificationMethod`` to an Ed25519 key and its ownership.

    :raises KeyResolutionError: when no key can be found at all.
    """
    if not isinstance(method, str) or not method:
        raise KeyResolutionError("malformed_method", "the verification method is not a string")
    if method.startswith("did:key:"):
        return _resolve_did_key(method, issuer_id)
    if method.startswith("did:web:"):
        return _resolve_did_web(method, issuer_id, ctx, ed25519_only=True)
    if _is_http(method):
        return _resolve_http_method(method, issuer_id, ctx)
    raise KeyResolutionError(
        "unsupported_method",
        f"verification method {method!r} is neither a did:key, a did:web nor an HTTPS URL",
    )


def _resolve_did_key(method: str, issuer_id: str | None) -> ResolvedKey:
    try:
        key = resolve_did_key(method)
    except LookupError as exc:
        raise KeyResolutionError("invalid_key", str(exc)) from exc
    did = method.split("#", 1)[0]
    ownership, reason = _controller_verdict(did, issuer_id)
    return ResolvedKey(method, key, did, ownership, reason, "did:key")


def _resolve_did_web(
    method: str, issuer_id: str | None, ctx: VerifyContext, *, ed25519_only: bool
) -> ResolvedKey:
    did, sep, _fragment = method.partition("#")
    if not sep:
        raise KeyResolutionError(
            "malformed_method", f"{method} names a DID but no key in it (no #fragment)"
        )
    try:
        url = did_web_to_url(did)
    except ProofError as exc:
        raise KeyResolutionError("malformed_method", str(exc)) from exc
    try:
        document = _fetch_json(url, ctx, "the DID document")
    except FetchError as exc:
        raise KeyResolutionError(
            "did_unresolvable", f"cannot resolve {did}: {exc.message}"
        ) from exc
    if document.get("id") != did:
        raise KeyResolutionError(
            "did_document_mismatch", f"the DID document at {url} is not the document of {did}"
        )
    method_object = _find_method(document, method, did)
    if method_object is None:
        raise KeyResolutionError("key_not_found", f"{did} does not publish the key {method}")
    key = _method_key(method_object, method, ed25519_only=ed25519_only)
    controller, ownership, reason = _method_ownership(
        document, method_object, method, did, issuer_id
    )
    return ResolvedKey(method, key, controller, ownership, reason, "did:web")


def _resolve_http_method(method: str, issuer_id: str | None, ctx: VerifyContext) -> ResolvedKey:
    document_url = method.split("#", 1)[0]
    fragment_key = _multibase_fragment(method)
    try:
        document = _fetch_json(document_url, ctx, "the key document")
    except FetchError as exc:
        if fragment_key is None:
            raise KeyResolutionError(
                "key_unreachable", f"cannot fetch the key {method}: {exc.message}"
            ) from exc
        # The 1EdTech validator's <controller>#<publicKeyMultibase> form: the
        # signature can still be checked, but who controls the key cannot.
        key = _ed25519_from_multibase(fragment_key)
        ownership, reason = _controller_verdict(document_url, issuer_id)
        if ownership is Ownership.OWNED:
            ownership = Ownership.UNKNOWN
            reason = (
                f"{document_url} could not be fetched ({exc.message}); the key was taken from "
                "the verification method's fragment, so it cannot be confirmed as the issuer's"
            )
        return ResolvedKey(method, key, document_url, ownership, reason, "fragment")

    # A key document: the method itself, with its controller and key material.
    if _absolute(document, document_url) == method or (
        "#" not in method and ("publicKeyMultibase" in document or "publicKeyJwk" in document)
    ):
        key = _method_key(document, method, ed25519_only=True)
        return _key_document_ownership(method, key, document, issuer_id, ctx)

    # A controller document (an issuer profile listing its keys).
    document_id = document.get("id") if isinstance(document.get("id"), str) else document_url
    method_object = _find_method(document, method, document_id)
    if method_object is None:
        if fragment_key is None:
            raise KeyResolutionError(
                "key_not_found", f"{document_url} does not publish the key {method}"
            )
        key = _ed25519_from_multibase(fragment_key)
        return ResolvedKey(
            method,
            key,
            document_url,
            Ownership.NOT_OWNED,
            f"{document_url} was fetched but does not publish the key {method}",
            "fragment",
        )
    key = _method_key(method_object, method, ed25519_only=True)
    controller, ownership, reason = _method_ownership(
        document, method_object, method, document_id, issuer_id
    )
    return ResolvedKey(method, key, controller, ownership, reason, "controller document")


def _key_document_ownership(
    method: str, key: Any, document: Mapping[str, Any], issuer_id: str | None, ctx: VerifyContext
) -> ResolvedKey:
    """A standalone key document: its controller must be the issuer and list it back."""
    controller = document.get("controller")
    controller = controller if isinstance(controller, str) else None
    ownership, reason = _controller_verdict(controller, issuer_id)
    if ownership is not Ownership.OWNED or controller is None:
        return ResolvedKey(method, key, controller, ownership, reason, "key document")
    try:
        if controller.startswith("did:web:"):
            controller_document = _fetch_json(did_web_to_url(controller), ctx, "the DID document")
        elif _is_http(controller):
            controller_document = _fetch_json(controller, ctx, "the controller document")
        else:
            return ResolvedKey(method, key, controller, ownership, reason, "key document")
    except (FetchError, ProofError) as exc:
        return ResolvedKey(
            method,
            key,
            controller,
            Ownership.UNKNOWN,
            f"the key names {controller} as its controller, but that document could not be "
            f"fetched to confirm it ({exc})",
            "key document",
        )
    if not _lists_for_assertion(controller_document, method, controller):
        return ResolvedKey(
            method,
            key,
            controller,
            Ownership.NOT_OWNED,
            f"{controller} does not list {method} under assertionMethod",
            "key document",
        )
    return ResolvedKey(
        method, key, controller, Ownership.OWNED, f"{reason}, which lists it", "key document"
    )


# ---------------------------------------------------------------- VC-JWT


def issuer_key_set_url(issuer_id: str) -> str | None:
    """Where an HTTPS issuer publishes its JWK Set (OB 3.0 impl. guide; FACTS §2.10)."""
    if not isinstance(issuer_id, str) or not issuer_id.startswith("https://"):
        return None
    authority = urllib.parse.urlsplit(issuer_id).netloc
    return f"https://{authority}/.well-known/jwks.json" if authority else None


def _jwk_fingerprint(key: Any) -> tuple[tuple[str, str], ...] | None:
    """The public members of a key, for comparing two keys (None when unreadable)."""
    try:
        public = load_public_key(key)
        return tuple(sorted(jwk_from_public_key(public).items()))
    except ProofError:
        return None


def _issuer_publishes(key: Any, issuer_id: str | None, ctx: VerifyContext) -> tuple[Ownership, str]:
    """Is ``key`` in the issuer's published key set (JWKS or did:web document)?"""
    if not isinstance(issuer_id, str):
        return Ownership.UNKNOWN, "the credential names no issuer id"
    wanted = _jwk_fingerprint(key)
    if wanted is None:
        return Ownership.NOT_OWNED, "the key is not a readable public key"
    entries: list[Any]
    try:
        if issuer_id.startswith("did:web:"):
            document = _fetch_json(did_web_to_url(issuer_id), ctx, "the DID document")
            entries = [
                m.get("publicKeyJwk")
                for m in _as_list(document.get("verificationMethod"))
                if isinstance(m, Mapping)
                and m.get("controller") == issuer_id
                and _lists_for_assertion(document, str(_absolute(m, issuer_id)), issuer_id)
            ]
            where = f"the DID document of {issuer_id}"
        else:
            url = issuer_key_set_url(issuer_id)
            if url is None:
                return (
                    Ownership.UNKNOWN,
                    f"the issuer {issuer_id} publishes no key set badger can look up",
                )
            entries = _as_list(_fetch_json(url, ctx, "the issuer's JWK Set").get("keys"))
            where = url
    except (FetchError, ProofError) as exc:
        return Ownership.UNKNOWN, f"the issuer's key set could not be fetched ({exc})"
    for entry in entries:
        if not isinstance(entry, Mapping) or _jwk_fingerprint(entry) != wanted:
            continue
        named = entry.get("iss")
        if named is not None and named != issuer_id:
            return Ownership.NOT_OWNED, f"{where} lists the key for another issuer ({named})"
        return Ownership.OWNED, f"{where} lists the key"
    return Ownership.UNKNOWN, f"{where} does not list the key"


def resolve_jwt_key(
    kid: str | None,
    jwk: Mapping[str, Any] | None,
    issuer_id: str | None,
    ctx: VerifyContext,
) -> ResolvedKey:
    """Resolve a VC-JWT header's key (FACTS §2.10) and decide whether it is the issuer's.

    ``kid`` wins over an inline ``jwk`` when both are present.

    :raises KeyResolutionError: when no key can be found at all.
    """
    if isinstance(kid, str) and kid:
        if kid.startswith("did:key:"):
            return _resolve_did_key(kid, issuer_id)
        if kid.startswith("did:web:"):
            return _resolve_did_web(kid, issuer_id, ctx, ed25519_only=False)
        if _is_http(kid):
            return _resolve_http_jwk(kid, issuer_id, ctx)
        if jwk is None:
            raise KeyResolutionError(
                "unsupported_kid",
                f"kid {kid!r} is neither a DID URL nor an HTTPS URL (bare key ids are not "
                "resolved for OB 3.0)",
            )
    if isinstance(jwk, Mapping):
        if _jwk_fingerprint(jwk) is None:
            raise KeyResolutionError("invalid_key", "the header jwk is not a usable public key")
        ownership, reason = _issuer_publishes(jwk, issuer_id, ctx)
        if ownership is Ownership.UNKNOWN:
            reason = f"the key is given inline in the header; {reason}"
        return ResolvedKey("jwk", dict(jwk), None, ownership, reason, "jwk")
    raise KeyResolutionError("key_not_found", "the JWT header names no key (kid or jwk)")


def _resolve_http_jwk(kid: str, issuer_id: str | None, ctx: VerifyContext) -> ResolvedKey:
    url, _, fragment = kid.partition("#")
    try:
        document = _fetch_json(url, ctx, "the key")
    except FetchError as exc:
        raise KeyResolutionError("key_unreachable", f"cannot fetch {kid}: {exc.message}") from exc
    source = "jwk"
    if "kty" in document:
        jwk: Any = document
    elif "keys" in document:
        source = "jwk set"
        matches = [
            k
            for k in _as_list(document.get("keys"))
            if isinstance(k, Mapping) and k.get("kid") == fragment
        ]
        if len(matches) != 1:
            raise KeyResolutionError(
                "key_not_found", f"{url} does not hold exactly one key {fragment!r}"
            )
        jwk = matches[0]
    else:
        document_id = document.get("id") if isinstance(document.get("id"), str) else url
        method_object = _find_method(document, kid, document_id)
        if method_object is None:
            raise KeyResolutionError("key_not_found", f"{url} does not publish the key {kid}")
        key = _method_key(method_object, kid, ed25519_only=False)
        controller, ownership, reason = _method_ownership(
            document, method_object, kid, document_id, issuer_id
        )
        return ResolvedKey(kid, key, controller, ownership, reason, "controller document")
    if _jwk_fingerprint(jwk) is None:
        raise KeyResolutionError("invalid_key", f"{kid} is not a usable public JWK")
    ownership, reason = _issuer_publishes(jwk, issuer_id, ctx)
    return ResolvedKey(kid, dict(jwk), None, ownership, reason, source)
