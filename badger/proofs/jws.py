"""Compact JWS (RFC 7515 §7.1) and OB 2.0 signed badges (OB 2.0 "Signed Badges", FACTS §1.10).

An OB 2.0 signed assertion is a compact JWS whose payload is the Assertion JSON;
the spec's example header is exactly ``{"alg": "RS256"}`` and RS256 with the
``publicKeyPem`` of the issuer's ``CryptographicKey`` is the only combination the
reference validator checks (FACTS §5 pitfall 21), so that is what badger emits.

Verification never trusts the ``alg`` header (RFC 8725 §3.1, STYLE habit 11): the
caller passes an allow-list, the algorithm is derived from the *key*, and the
header must agree with both before pyjwt checks the signature with exactly that
one algorithm. This closes the ``alg: none`` and RS256→HS256 key-confusion attacks.

Signing is done here rather than with ``jwt.encode`` so the header holds exactly
the members the formats require (pyjwt adds ``typ`` and sorts members) and so the
private key stays inside the :class:`~badger.proofs.keystore.Signer`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Collection, Mapping
from typing import Any, TypeAlias

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from badger.proofs.errors import AlgorithmNotAllowed, ProofInvalid
from badger.proofs.keystore import KeyRef, PublicKey, Signer, load_public_pem

__all__ = [
    "OB2_ALGORITHMS",
    "PRIVATE_JWK_MEMBERS",
    "PublicKeyInput",
    "encode_compact",
    "key_jose_algorithm",
    "load_public_key",
    "sign_ob2_assertion",
    "unsafe_decode_payload",
    "verify_compact_jws",
]

logger = logging.getLogger(__name__)

#: OB 2.0 signed badges: RS256 only (FACTS §1.10, §5 pitfall 21).
OB2_ALGORITHMS: tuple[str, ...] = ("RS256",)

#: JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1;
#: RFC 8037 §2). A public key document or header must never contain any of them.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

PublicKeyInput: TypeAlias = str | bytes | Mapping[str, Any] | KeyRef | PublicKey

_B64URL_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# Only these algorithms ever reach pyjwt; anything else is refused before it.
_SUPPORTED = frozenset({"RS256", "ES256", "EdDSA"})


# ---------------------------------------------------------------- encoding helpers


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(segment: str, what: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2, Appendix C)."""
    raw = segment.encode("ascii")
    if len(raw) % 4 == 1 or not set(raw) <= _B64URL_ALPHABET:
        raise ProofInvalid(f"the JWS {what} is not base64url")
    try:
        decoded = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ProofInvalid(f"the JWS {what} is not base64url") from exc
    if _b64url_encode(decoded) != segment:
        # Non-canonical trailing bits: two strings would decode to one signature.
        raise ProofInvalid(f"the JWS {what} is not canonical base64url")
    return decoded


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which duplicate wins; a signed document must not be ambiguous.
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (ValueError, RecursionError) as exc:
        raise ProofInvalid(f"the JWS {what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise ProofInvalid(f"the JWS {what} is not a JSON object")
    return value


def _clean(token: str | bytes) -> str:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ProofInvalid("a compact JWS is ASCII text") from exc
    if not isinstance(token, str):
        raise ProofInvalid("a compact JWS must be a string")
    # Files and baked images often end in a newline; nothing else is trimmed.
    token = token.strip(" \t\r\n")
    if not token.isascii():
        raise ProofInvalid("a compact JWS is ASCII text")
    return token


def _split(token: str | bytes) -> tuple[str, str, str]:
    parts = _clean(token).split(".")
    if len(parts) != 3:
        raise ProofInvalid("a compact JWS has exactly three dot-separated parts")
    header, payload, signature = parts
    if not header or not signature:
        raise ProofInvalid("the JWS header or signature is empty")
    return header, payload, signature


def _dump_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def encode_compact(header: Mapping[str, Any], payload: bytes, signer: Signer) -> str:
    """RFC 7515 §7.1 compact serialization, signed by ``signer``.

    The header is serialized as given (member order kept), so formats that fix
    the header exactly get exactly that header.
    """
    if header.get("alg") != signer.jose_alg:
        raise AlgorithmNotAllowed(
            f"header alg {header.get('alg')!r} does not match the {signer.jose_alg} signer"
        )
    signing_input = f"{_b64url_encode(_dump_json(header))}.{_b64url_encode(payload)}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64url_encode(signature)}"


# ---------------------------------------------------------------- keys


def load_public_key(key: PublicKeyInput) -> PublicKey:
    """Turn a PEM, a public JWK, a :class:`KeyRef` or a key object into a public key.

    JWKs with private members are refused (FACTS §5 pitfall 9), as are key types
    badger does not verify with (symmetric ``oct`` keys, curves other than P-256
    and Ed25519). Errors are :class:`ProofInvalid` or :class:`AlgorithmNotAllowed`.
    """
    if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise AlgorithmNotAllowed("only P-256 EC keys are accepted")
        return key
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise ProofInvalid("a private key was given where a public key is expected")
    if isinstance(key, KeyRef):
        key = key.public_pem
    if isinstance(key, str | bytes):
        try:
            return load_public_pem(key)
        except ValueError as exc:
            raise ProofInvalid("the public key is not a readable PEM public key") from exc
    if isinstance(key, Mapping):
        return _load_jwk(key)
    raise ProofInvalid(f"cannot use a {type(key).__name__} as a public key")


def _load_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    leaked = PRIVATE_JWK_MEMBERS & set(jwk)
    if leaked:
        raise ProofInvalid(
            f"the JWK carries private members ({', '.join(sorted(leaked))}); refusing it"
        )
    kty = jwk.get("kty")
    loaders = {"RSA": RSAAlgorithm, "EC": ECAlgorithm, "OKP": OKPAlgorithm}
    if kty not in loaders:
        raise AlgorithmNotAllowed(f"JWK key type {kty!r} is not accepted (RSA, EC, OKP only)")
    if kty == "OKP" and jwk.get("crv") != "Ed25519":
        raise AlgorithmNotAllowed(f"OKP curve {jwk.get('crv')!r} is not accepted (Ed25519 only)")
    if kty == "EC" and jwk.get("crv") != "P-256":
        raise AlgorithmNotAllowed(f"EC curve {jwk.get('crv')!r} is not accepted (P-256 only)")
    try:
        key = loaders[kty].from_jwk(dict(jwk))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise ProofInvalid("the JWK is not a valid public key") from exc
    public = load_public_key(key)
    declared = jwk.get("alg")
    if declared is not None and declared != key_jose_algorithm(public):
        raise AlgorithmNotAllowed(
            f"the JWK declares alg {declared!r} but is a {key_jose_algorithm(public)} key"
        )
    return public


def key_jose_algorithm(public_key: PublicKey) -> str:
    """The one JOSE algorithm badger verifies with for this key type."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ES256"
    return "EdDSA"


# ---------------------------------------------------------------- verification


def _unverified_header(token: str | bytes) -> dict[str, Any]:
    """Parse the protected header without checking anything else.

    Internal to ``badger.proofs``: VC-JWT needs ``kid``/``jwk`` to find the key
    before the signature can be checked. Nothing read here is trusted.
    """
    header_segment, _, _ = _split(token)
    return _json_object(_b64url_decode(header_segment, "header"), "header")


def _verify(
    token: str | bytes, key: PublicKeyInput, algorithms: Collection[str]
) -> tuple[dict[str, Any], bytes]:
    """Check a compact JWS; return its header and raw payload bytes."""
    allowed = set(algorithms) & _SUPPORTED
    if not allowed:
        raise AlgorithmNotAllowed(f"none of the algorithms {sorted(algorithms)} can be verified")
    token = _clean(token)
    header_segment, payload_segment, signature_segment = _split(token)
    header = _json_object(_b64url_decode(header_segment, "header"), "header")
    payload = _b64url_decode(payload_segment, "payload")
    _b64url_decode(signature_segment, "signature")

    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise AlgorithmNotAllowed(
            f"JWS algorithm {alg!r} is not allowed here (allowed: {', '.join(sorted(allowed))})"
        )
    if "crit" in header or header.get("b64") is not None:
        # RFC 7515 §4.1.11: badger understands no extensions, so any crit must fail.
        raise ProofInvalid("the JWS uses critical header extensions badger does not support")
    public_key = load_public_key(key)
    key_alg = key_jose_algorithm(public_key)
    if key_alg != alg:
        raise AlgorithmNotAllowed(f"the JWS says {alg} but the key is a {key_alg} key")

    verifier = jwt.PyJWS(algorithms=[key_alg], options={"enforce_minimum_key_length": True})
    try:
        verifier.decode_complete(token, key=public_key, algorithms=[key_alg])
    except jwt.InvalidSignatureError as exc:
        raise ProofInvalid("the JWS signature does not verify with this key") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise AlgorithmNotAllowed(f"the JWS algorithm {alg} is not allowed here") from exc
    except jwt.InvalidKeyError as exc:
        raise ProofInvalid(f"the key cannot verify {alg} signatures ({exc})") from exc
    except jwt.PyJWTError as exc:
        raise ProofInvalid(f"the JWS is malformed ({exc})") from exc
    return header, payload


def verify_compact_jws(
    token: str | bytes,
    public_key_pem_or_jwk: PublicKeyInput,
    algorithms: Collection[str] = OB2_ALGORITHMS,
) -> dict[str, Any]:
    """Verify a compact JWS (RFC 7515 §5.2) and return its JSON-object payload.

    ``algorithms`` is the allow-list for the format (RS256 for OB 2.0). The
    header ``alg`` must be on it *and* match the key's type. Raises
    :class:`ProofInvalid` or :class:`AlgorithmNotAllowed`, nothing else, for bad
    tokens or keys.
    """
    _, payload = _verify(token, public_key_pem_or_jwk, algorithms)
    return _json_object(payload, "payload")


def sign_ob2_assertion(assertion: Mapping[str, Any], signer: Signer) -> str:
    """Sign an OB 2.0 Assertion as a compact JWS with header exactly ``{"alg": "RS256"}``.

    OB 2.0 "Signed Badges": the payload is the Assertion JSON; FACTS §1.10. The
    assertion should already carry ``verification: {"type": "SignedBadge",
    "creator": <CryptographicKey id>}``; that is the document builder's job.
    """
    if signer.jose_alg not in OB2_ALGORITHMS:
        raise AlgorithmNotAllowed(
            f"OB 2.0 signed badges use RS256; a {signer.jose_alg} key was given"
        )
    return encode_compact({"alg": "RS256"}, _dump_json(assertion), signer)


_warned_unsafe_decode = False


def unsafe_decode_payload(token: str | bytes) -> dict[str, Any]:
    """Decode a JWS payload WITHOUT verifying the signature.

    Exists for format sniffing: a verifier must read an unverified OB 2.0
    assertion or VC-JWT to learn which issuer and key to fetch before it can
    verify anything (OB 2.0 verification step 2, FACTS §1.11). Never act on the
    result; verify with :func:`verify_compact_jws` once the key is known. Each
    call logs a warning so accidental use outside sniffing shows up.
    """
    global _warned_unsafe_decode
    if not _warned_unsafe_decode:
        # Once per process: the verifier sniffs every JWS it is given, and a
        # warning per badge would drown the logs without telling anyone more.
        logger.warning("unsafe_decode_payload: reading JWS payloads without verifying them")
        _warned_unsafe_decode = True
    _, payload_segment, _ = _split(token)
    return _json_object(_b64url_decode(payload_segment, "payload"), "payload")
