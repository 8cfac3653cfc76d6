"""The ``eddsa-rdfc-2022`` Data Integrity cryptosuite (W3C VC-DI-EdDSA v1.0 §3.3).

Section numbers refer to W3C "Data Integrity EdDSA Cryptosuites v1.0"
(VC-DI-EdDSA) and W3C "Verifiable Credential Data Integrity 1.0" (VC-DI).
FACTS §2.11 summarises the algorithm and the 1EdTech test vectors this module
reproduces byte for byte:

1. the unsecured document is the document without ``proof``;
2. the proof configuration is the proof without ``proofValue``, given the
   document's ``@context`` (§3.3.5);
3. both are canonicalized with RDFC-1.0 (§3.3.3, :mod:`badger.proofs.jsonld`);
4. hashData = SHA-256(canonical proof config) ‖ SHA-256(canonical document) (§3.3.4);
5. the Ed25519 signature of hashData, multibase base58-btc encoded, is the
   ``proofValue`` (§3.3.6).

Keys are ``cryptography`` Ed25519 key objects; where they come from is the key
store's business. Verification returns a :class:`VerificationResult` that
carries a stable code and a human reason for each proof (STYLE habit 7).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NoReturn

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from badger.proofs import jsonld
from badger.proofs.multikey import multibase_to_ed25519_public

__all__ = [
    "ALLOWED_CRYPTOSUITES",
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "HashData",
    "ProofCheck",
    "VerificationResult",
    "create_proof",
    "format_created",
    "hash_data",
    "proof_configuration",
    "resolve_did_key",
    "verify_proof",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
#: The only suites this module verifies; everything else is refused, never guessed at.
ALLOWED_CRYPTOSUITES = frozenset({CRYPTOSUITE})

# XML Schema 1.1 dateTimeStamp (a dateTime that carries a time zone), as VC-DI
# §2.1 requires for ``created``.
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$"
)
_SIGNATURE_LENGTH = 64

#: Resolves a ``verificationMethod`` to the Ed25519 public key it names.
#: Raise ``LookupError`` (or return ``None``) when the key is unknown.
KeyResolver = Callable[[str], Ed25519PublicKey | None]


# ---------------------------------------------------------------- shared pieces


def format_created(created: datetime | str) -> str:
    """``created`` as an XML Schema dateTimeStamp (VC-DI §2.1), UTC with ``Z`` for datetimes.

    :raises ValueError: for a naive datetime or a string that is not a dateTimeStamp.
    """
    if isinstance(created, datetime):
        if created.tzinfo is None or created.utcoffset() is None:
            raise ValueError("created must be timezone-aware")
        created = created.astimezone(UTC)
        text = created.strftime("%Y-%m-%dT%H:%M:%S")
        if created.microsecond:
            text += f".{created.microsecond:06d}".rstrip("0")
        return text + "Z"
    if isinstance(created, str) and _DATE_TIME_STAMP.match(created):
        return created
    raise ValueError(f"created {created!r} is not an XML Schema dateTimeStamp")


def proof_configuration(
    *,
    verification_method: str,
    created: datetime | str,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """The proof options of a new proof, in the order the specs print them (VC-DI §2.1)."""
    if not isinstance(verification_method, str) or not verification_method:
        raise ValueError("verification_method must be a non-empty string")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise ValueError("proof_purpose must be a non-empty string")
    return {
        "type": PROOF_TYPE,
        "created": format_created(created),
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": proof_purpose,
    }


@dataclass(frozen=True)
class HashData:
    """The intermediate values of VC-DI-EdDSA §3.3.3 to §3.3.5, for tests and diagnostics."""

    canonical_document: str
    canonical_proof_config: str
    document_hash: bytes
    proof_hash: bytes

    @property
    def data(self) -> bytes:
        """hashData: the proof configuration hash followed by the document hash (§3.3.4)."""
        return self.proof_hash + self.document_hash


def hash_data(
    unsecured_document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    *,
    engine: jsonld.Engine = "auto",
    strict: bool = False,
) -> HashData:
    """Run transformation (§3.3.3), proof configuration (§3.3.5) and hashing (§3.3.4).

    ``unsecured_document`` must not contain ``proof``; ``proof_options`` is the
    proof without ``proofValue``. The proof configuration takes the document's
    ``@context`` (§3.3.5 step 4). ``strict`` refuses a document with undefined
    terms (see :func:`badger.proofs.jsonld.undefined_terms`).

    :raises ValueError: if the options are not a ``DataIntegrityProof`` of this suite.
    :raises badger.proofs.jsonld.JsonLdError: if either part cannot be canonicalized.
    """
    if "proof" in unsecured_document:
        raise ValueError("hash_data takes the unsecured document (without 'proof')")
    if "proofValue" in proof_options:
        raise ValueError("hash_data takes the proof options (without 'proofValue')")
    if proof_options.get("type") != PROOF_TYPE or proof_options.get("cryptosuite") != CRYPTOSUITE:
        # §3.3.3 step 1 and §3.3.5 step 2: PROOF_TRANSFORMATION_ERROR
        raise ValueError(f"proof options are not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if "created" in proof_options:
        format_created(proof_options["created"])  # §3.3.5 step 3
    canonical_document = jsonld.canonicalize(unsecured_document, engine=engine, strict=strict)
    canonical_proof_config = _canonical_proof_config(
        proof_options, unsecured_document.get("@context"), engine
    )
    return HashData(
        canonical_document=canonical_document,
        canonical_proof_config=canonical_proof_config,
        document_hash=hashlib.sha256(canonical_document.encode("utf-8")).digest(),
        proof_hash=hashlib.sha256(canonical_proof_config.encode("utf-8")).digest(),
    )


def _canonical_proof_config(
    proof_options: Mapping[str, Any], context: Any, engine: jsonld.Engine
) -> str:
    """Canonical proof configuration (§3.3.5 steps 4 and 5), cached for issuance.

    A batch signs many documents with one key, one context list and the same
    ``created`` second, so the same few configurations recur.
    """
    contexts = context if isinstance(context, list) else [context]
    items = tuple(proof_options.items())
    if all(isinstance(c, str) for c in contexts) and all(isinstance(v, str) for _k, v in items):
        return _cached_proof_config(items, tuple(contexts), isinstance(context, list), engine)
    return jsonld.canonicalize({**proof_options, "@context": context}, engine=engine)


@lru_cache(maxsize=512)
def _cached_proof_config(
    items: tuple[tuple[str, str], ...],
    contexts: tuple[str, ...],
    as_list: bool,
    engine: jsonld.Engine,
) -> str:
    context: Any = list(contexts) if as_list else contexts[0]
    return jsonld.canonicalize({**dict(items), "@context": context}, engine=engine)


# ---------------------------------------------------------------- create


def create_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime | str,
    proof_purpose: str = "assertionMethod",
    *,
    engine: jsonld.Engine = "auto",
    strict: bool = True,
) -> dict[str, Any]:
    """Create an ``eddsa-rdfc-2022`` proof for ``document`` (VC-DI-EdDSA §3.3.1).

    Returns the proof object; the caller appends it to the document's
    ``proof`` array (emit an array: the strict OB 3.0 schema requires one,
    FACTS §5.3). Any ``proof`` already on the document is left out of what
    is signed, as VC-DI §4.2 does for proof sets.

    With ``strict`` (the default) a document with terms its contexts do not
    define is refused with :class:`badger.proofs.jsonld.UndefinedTermsError`
    before anything is signed (FACTS §2.11, §5.2).
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("private_key must be a cryptography Ed25519PrivateKey")
    if "@context" not in document:
        raise ValueError("a Data Integrity proof needs a JSON-LD document with @context")
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    proof = proof_configuration(
        verification_method=verification_method, created=created, proof_purpose=proof_purpose
    )
    hashed = hash_data(unsecured, proof, engine=engine, strict=strict)
    signature = private_key.sign(hashed.data)  # §3.3.6: pure Ed25519 over hashData
    proof["proofValue"] = "z" + base58.b58encode(signature).decode("ascii")
    return proof


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class ProofCheck:
    """The outcome for one proof: a stable ``code`` and a human ``reason``.

    Codes: ``verified``, ``malformed_proof``, ``unsupported_proof_type``,
    ``unsupported_cryptosuite``, ``wrong_proof_purpose``, ``context_mismatch``,
    ``malformed_proof_value``, ``key_not_found``, ``invalid_key``,
    ``context_not_allowed``, ``jsonld_error``, ``signature_invalid``.
    """

    index: int
    code: str
    reason: str
    verification_method: str | None = None

    @property
    def passed(self) -> bool:
        """Whether this proof verified."""
        return self.code == "verified"


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of :func:`verify_proof`: every proof's check, and one summary.

    ``code`` is ``"verified"`` when every proof verified, ``"no_proof"`` when
    there was none, else the code of the first failing proof. Deliberately
    not usable as a bool: read ``verified`` (or ``code``) so that a result can
    never be mistaken for success by an ``if``.
    """

    code: str
    reason: str
    checks: tuple[ProofCheck, ...] = ()

    @property
    def verified(self) -> bool:
        """True only if there was at least one proof and every proof verified."""
        return self.code == "verified"

    def __bool__(self) -> NoReturn:
        raise TypeError("VerificationResult is not a bool; use .verified and .reason")


def verify_proof(
    document_with_proof: Mapping[str, Any],
    resolve_public_key: KeyResolver,
    *,
    expected_proof_purpose: str = "assertionMethod",
    engine: jsonld.Engine = "auto",
) -> VerificationResult:
    """Verify every ``eddsa-rdfc-2022`` proof on a document (VC-DI-EdDSA §3.3.2, VC-DI §4.4).

    ``proof`` may be one object or an array (a proof set); every proof must
    verify. Only ``DataIntegrityProof`` with an allow-listed cryptosuite is
    accepted, and each proof's ``proofPurpose`` must equal
    ``expected_proof_purpose``. ``resolve_public_key`` maps the proof's
    ``verificationMethod`` to an Ed25519 public key; deciding whether that key
    belongs to the issuer is the caller's job (FACTS §5.7).
    """
    if not isinstance(document_with_proof, Mapping):
        return VerificationResult("malformed_proof", "the document is not a JSON object")
    proofs = document_with_proof.get("proof")
    if proofs is None or proofs == []:
        return VerificationResult("no_proof", "the document carries no proof")
    proof_list = proofs if isinstance(proofs, list) else [proofs]
    # VC-DI-EdDSA §3.3.2 step 1: the unsecured document has no proof at all.
    unsecured = {key: value for key, value in document_with_proof.items() if key != "proof"}
    checks = tuple(
        _verify_one(index, proof, unsecured, resolve_public_key, expected_proof_purpose, engine)
        for index, proof in enumerate(proof_list)
    )
    for check in checks:
        if not check.passed:
            where = f"proof {check.index + 1} of {len(checks)}" if len(checks) > 1 else "the proof"
            return VerificationResult(check.code, f"{where}: {check.reason}", checks)
    count = "the proof" if len(checks) == 1 else f"all {len(checks)} proofs"
    return VerificationResult("verified", f"{count} verified ({CRYPTOSUITE})", checks)


class _Fail(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _verify_one(
    index: int,
    proof: Any,
    unsecured: dict[str, Any],
    resolve_public_key: KeyResolver,
    expected_proof_purpose: str,
    engine: jsonld.Engine,
) -> ProofCheck:
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    method = method if isinstance(method, str) else None
    try:
        _check_proof(proof, unsecured, resolve_public_key, expected_proof_purpose, engine)
    except _Fail as failure:
        return ProofCheck(index, failure.code, failure.reason, method)
    return ProofCheck(index, "verified", f"Ed25519 signature by {method} verified", method)


def _check_proof(
    proof: Any,
    unsecured: dict[str, Any],
    resolve_public_key: KeyResolver,
    expected_proof_purpose: str,
    engine: jsonld.Engine,
) -> None:
    # 1. The proof is an object of the one type and suite we allow (VC-DI §4.4).
    if not isinstance(proof, Mapping):
        raise _Fail("malformed_proof", "the proof is not a JSON object")
    if proof.get("type") != PROOF_TYPE:
        raise _Fail(
            "unsupported_proof_type",
            f"proof type {proof.get('type')!r} is not {PROOF_TYPE!r}",
        )
    if proof.get("cryptosuite") not in ALLOWED_CRYPTOSUITES:
        raise _Fail(
            "unsupported_cryptosuite",
            f"cryptosuite {proof.get('cryptosuite')!r} is not accepted "
            f"(allowed: {', '.join(sorted(ALLOWED_CRYPTOSUITES))})",
        )
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise _Fail("malformed_proof", "the proof has no verificationMethod")
    if "created" in proof:
        try:
            format_created(proof["created"])
        except ValueError as exc:
            raise _Fail("malformed_proof", str(exc)) from exc

    # 2. The proof purpose is the one the caller expects (VC-DI §4.4 step 7).
    if proof.get("proofPurpose") != expected_proof_purpose:
        raise _Fail(
            "wrong_proof_purpose",
            f"proofPurpose {proof.get('proofPurpose')!r} is not {expected_proof_purpose!r}",
        )

    # 3. proofValue decodes to a 64-byte Ed25519 signature (§3.3.2 step 3).
    signature = _decode_proof_value(proof.get("proofValue"))

    # 4. A proof that carries its own @context must match the document's (§3.3.2 step 4).
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    document = unsecured
    if "@context" in options:
        proof_context = _as_list(options.pop("@context"))
        document_context = _as_list(unsecured.get("@context"))
        if document_context[: len(proof_context)] != proof_context:
            raise _Fail(
                "context_mismatch", "the proof's @context does not start the document's @context"
            )
        document = {**unsecured, "@context": proof_context}

    # 5. The key named by verificationMethod.
    try:
        public_key = resolve_public_key(method)
    except LookupError as exc:
        raise _Fail("key_not_found", f"no key found for {method}: {exc}") from exc
    except ValueError as exc:
        raise _Fail("invalid_key", f"the key for {method} is not usable: {exc}") from exc
    if public_key is None:
        raise _Fail("key_not_found", f"no key found for {method}")
    if not isinstance(public_key, Ed25519PublicKey):
        raise _Fail("invalid_key", f"the key for {method} is not an Ed25519 public key")

    # 6. Transform, configure and hash (§3.3.3 to §3.3.5).
    try:
        hashed = hash_data(document, options, engine=engine)
    except jsonld.ContextNotAllowed as exc:
        raise _Fail("context_not_allowed", str(exc)) from exc
    except jsonld.JsonLdError as exc:
        raise _Fail("jsonld_error", f"the document is not valid JSON-LD: {exc}") from exc
    except ValueError as exc:
        raise _Fail("malformed_proof", str(exc)) from exc

    # 7. Verify the signature over hashData (§3.3.2 step 8).
    try:
        public_key.verify(signature, hashed.data)
    except InvalidSignature as exc:
        raise _Fail(
            "signature_invalid",
            "the signature does not match the document (changed since signing, or another key)",
        ) from exc


def _decode_proof_value(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise _Fail("malformed_proof_value", "proofValue is not a base58-btc multibase string")
    try:
        signature = base58.b58decode(value[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise _Fail("malformed_proof_value", "proofValue is not valid base58-btc") from exc
    if len(signature) != _SIGNATURE_LENGTH:
        raise _Fail(
            "malformed_proof_value",
            f"proofValue decodes to {len(signature)} bytes, not a 64-byte Ed25519 signature",
        )
    return signature


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


# ---------------------------------------------------------------- key resolution


def resolve_did_key(verification_method: str) -> Ed25519PublicKey:
    """The Ed25519 key of a ``did:key`` verification method (did:key Method v0.7 §3.1).

    Accepts a bare ``did:key:z6Mk…`` or ``did:key:z6Mk…#z6Mk…`` (the fragment
    must repeat the identifier). A did:key is its own key document, so
    nothing is fetched. Raises ``LookupError`` for anything that is not an
    Ed25519 did:key.
    """
    if not isinstance(verification_method, str) or not verification_method.startswith("did:key:"):
        raise LookupError(f"{verification_method!r} is not a did:key")
    identifier, _, fragment = verification_method.removeprefix("did:key:").partition("#")
    if fragment and fragment != identifier:
        raise LookupError("a did:key verification method fragment must repeat the key")
    try:
        raw = multibase_to_ed25519_public(identifier)
    except ValueError as exc:
        raise LookupError(f"{verification_method!r} is not an Ed25519 did:key: {exc}") from exc
    return Ed25519PublicKey.from_public_bytes(raw)
