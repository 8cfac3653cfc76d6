"""VC-JWT: the external proof of OB 3.0 (OB 3.0 §8.2 "JSON Web Token Proof Format", integrity.md).

FACTS §2.10 summarises the rules this module implements:

* JOSE header ``{"alg", "kid", "typ": "JWT"}`` and nothing else; ``alg`` RS256
  (required by OB), ES256 (the other one the 1EdTech validator accepts) or EdDSA
  (valid JOSE, but 1EdTech rejects it; FACTS §5 pitfall 9).
* Payload = the credential JSON at the root plus ``iss`` = ``issuer.id``,
  ``jti`` = ``id``, ``nbf`` = ``validFrom`` as a NumericDate, ``sub`` =
  ``credentialSubject.id`` and ``exp`` = ``validUntil`` when present (RFC 7519 §4.1).
* Verifiers also accept the legacy VC 1.1 form with the credential inside a ``vc``
  claim (VC-JWT 1.1 §6.3.1), whose context must then be the v1 one.

Verification returns a :class:`VcJwtResult` with a stable code, a human reason and
the list of checks run (STYLE habits 7 and 9); it never raises for a bad token.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from badger.proofs.errors import AlgorithmNotAllowed, KeyNotFound, ProofError, ProofInvalid
from badger.proofs.jws import (
    PRIVATE_JWK_MEMBERS,
    PublicKeyInput,
    _dump_json,
    _json_object,
    _unverified_header,
    _verify,
    encode_compact,
)
from badger.proofs.keystore import Signer

__all__ = [
    "VC_JWT_ALGORITHMS",
    "VC_V1_CONTEXT",
    "VC_V2_CONTEXT",
    "Check",
    "KeyResolver",
    "VcJwtCode",
    "VcJwtResult",
    "sign_vc_jwt",
    "verify_vc_jwt",
]

#: Algorithms badger verifies for VC-JWT. RS256 is the OB minimum; EdDSA is
#: accepted on input but 1EdTech's validator would reject it (FACTS §5.9).
VC_JWT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"

#: Resolves the verification key from the header's ``kid`` (a URL or DID URL) or
#: inline ``jwk``. Raise :class:`KeyNotFound` when the key cannot be found or is
#: not provably the issuer's (FACTS §2.10, "Key provenance").
KeyResolver = Callable[[str | None, Mapping[str, Any] | None], PublicKeyInput]

_CLAIMS = ("iss", "jti", "nbf", "sub", "exp")


class VcJwtCode(enum.StrEnum):
    """Stable result codes; the UI, the API and the CLI key their messages on these."""

    VERIFIED = "verified"
    MALFORMED = "jwt_malformed"
    HEADER_INVALID = "header_invalid"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    KEY_NOT_FOUND = "key_not_found"
    SIGNATURE_INVALID = "signature_invalid"
    PAYLOAD_INVALID = "payload_invalid"
    CONTEXT_MISMATCH = "context_mismatch"
    ISS_MISMATCH = "iss_mismatch"
    JTI_MISMATCH = "jti_mismatch"
    SUB_MISMATCH = "sub_mismatch"
    NBF_MISMATCH = "nbf_mismatch"
    NOT_YET_VALID = "not_yet_valid"
    EXP_MISMATCH = "exp_mismatch"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step: what was checked, whether it passed, and why."""

    code: str
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class VcJwtResult:
    """The outcome of :func:`verify_vc_jwt`: a code, a reason and every check run.

    ``credential`` is the verified credential (for the legacy form, the ``vc``
    claim with claim-only members restored); it is ``None`` unless verified.
    """

    code: VcJwtCode
    reason: str
    checks: tuple[Check, ...]
    header: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None
    legacy: bool = False

    @property
    def verified(self) -> bool:
        return self.code is VcJwtCode.VERIFIED


# ---------------------------------------------------------------- credential helpers


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _subject(credential: Mapping[str, Any]) -> Mapping[str, Any] | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    return subject if isinstance(subject, Mapping) else None


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = _subject(credential)
    value = subject.get("id") if subject is not None else None
    return value if isinstance(value, str) else None


def _parse_datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no time zone")
    return parsed


def _numeric_date(moment: datetime) -> int:
    """RFC 7519 §2 NumericDate, whole seconds (sub-second parts are floored)."""
    return math.floor(moment.timestamp())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _from_numeric_date(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise ValueError(f"NumericDate {value} is out of range") from None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- signing


def sign_vc_jwt(credential: Mapping[str, Any], signer: Signer, kid: str) -> str:
    """Secure an OB 3.0 credential as a VC-JWT (OB 3.0 §8.2.3 "Create the Proof").

    ``kid`` is the URL or DID URL that dereferences to the public JWK (for a
    did:web issuer ``<did>#<key id>``; for an HTTPS issuer a key URL). Add any
    Data Integrity proof *before* calling this: it ends up inside the payload.
    """
    if signer.jose_alg not in VC_JWT_ALGORITHMS:
        raise AlgorithmNotAllowed(f"VC-JWT cannot be signed with {signer.jose_alg}")
    if not isinstance(kid, str) or not kid:
        raise ProofError("a VC-JWT needs a kid naming the public key")
    issuer_id = _issuer_id(credential)
    credential_id = credential.get("id")
    if issuer_id is None:
        raise ProofError("the credential has no issuer id for the iss claim")
    if not isinstance(credential_id, str):
        raise ProofError("the credential has no id for the jti claim")
    try:
        valid_from = _parse_datetime(credential.get("validFrom"), "validFrom")
        valid_until = (
            _parse_datetime(credential["validUntil"], "validUntil")
            if "validUntil" in credential
            else None
        )
    except ValueError as exc:
        raise ProofError(f"cannot derive JWT claims: {exc}") from exc

    claims: dict[str, Any] = {
        "iss": issuer_id,
        "jti": credential_id,
        "nbf": _numeric_date(valid_from),
    }
    subject_id = _subject_id(credential)
    if subject_id is not None:
        claims["sub"] = subject_id
    if valid_until is not None:
        claims["exp"] = _numeric_date(valid_until)
    clashing = [
        name for name in _CLAIMS if name in credential and credential[name] != claims.get(name)
    ]
    if clashing:
        raise ProofError(
            f"the credential already has members {clashing} that clash with JWT claims"
        )

    payload = {**credential, **claims}
    header = {"alg": signer.jose_alg, "kid": kid, "typ": "JWT"}
    return encode_compact(header, _dump_json(payload), signer)


# ---------------------------------------------------------------- verification


class _Steps:
    """Collects checks; ``fail`` builds the final result at the first fatal failure."""

    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.header: dict[str, Any] | None = None
        self.legacy = False

    def ok(self, code: VcJwtCode | str, reason: str) -> None:
        self.checks.append(Check(str(code), True, reason))

    def fail(self, code: VcJwtCode, reason: str) -> VcJwtResult:
        self.checks.append(Check(str(code), False, reason))
        return VcJwtResult(code, reason, tuple(self.checks), self.header, None, self.legacy)


def verify_vc_jwt(
    token: str | bytes,
    resolve_key: KeyResolver,
    now: datetime,
    *,
    algorithms: Collection[str] = VC_JWT_ALGORITHMS,
    leeway: timedelta = timedelta(0),
) -> VcJwtResult:
    """Verify a VC-JWT (OB 3.0 §8.2.4 "Verify a Credential"; FACTS §2.10).

    ``now`` is the verification time (aware). ``leeway`` tolerates clock skew on
    ``nbf`` and ``exp``. Returns a result; bad tokens never raise.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    steps = _Steps()

    # 1. Decode the JOSE header (untrusted until step 4).
    try:
        header = _unverified_header(token)
    except ProofError as exc:
        return steps.fail(VcJwtCode.MALFORMED, f"not a compact JWS: {exc}")
    steps.header = header

    # 2. Header rules: allowed alg, typ "JWT" if present, a kid or a public jwk.
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        return steps.fail(
            VcJwtCode.ALGORITHM_NOT_ALLOWED,
            f"algorithm {alg!r} is not allowed for VC-JWT (allowed: {', '.join(algorithms)})",
        )
    if "typ" in header and header["typ"] != "JWT":
        return steps.fail(VcJwtCode.HEADER_INVALID, f'typ must be "JWT", not {header["typ"]!r}')
    kid = header.get("kid")
    jwk = header.get("jwk")
    if kid is not None and not isinstance(kid, str):
        return steps.fail(VcJwtCode.HEADER_INVALID, "kid must be a string")
    if jwk is not None and not isinstance(jwk, Mapping):
        return steps.fail(VcJwtCode.HEADER_INVALID, "jwk must be a JSON object")
    if kid is None and jwk is None:
        return steps.fail(VcJwtCode.HEADER_INVALID, "the header names no key (kid or jwk)")
    if jwk is not None and PRIVATE_JWK_MEMBERS & set(jwk):
        return steps.fail(VcJwtCode.HEADER_INVALID, "the header jwk carries private key members")
    steps.ok("header", f"header uses {alg} and names its key")

    # 3. Find the issuer's public key.
    try:
        key = resolve_key(kid, jwk)
    except ProofError as exc:
        return steps.fail(VcJwtCode.KEY_NOT_FOUND, f"cannot resolve the signing key: {exc}")
    steps.ok("key", f"resolved key {kid!r}" if kid else "using the header jwk")

    # 4. Check the signature with the algorithm the key dictates.
    try:
        _, payload_bytes = _verify(token, key, algorithms)
    except AlgorithmNotAllowed as exc:
        return steps.fail(VcJwtCode.ALGORITHM_NOT_ALLOWED, str(exc))
    except (ProofInvalid, KeyNotFound) as exc:
        return steps.fail(VcJwtCode.SIGNATURE_INVALID, str(exc))
    steps.ok("signature", f"{alg} signature verifies")

    # 5. Decode the payload and find the credential (root, or a legacy vc claim).
    try:
        payload = _json_object(payload_bytes, "payload")
    except ProofInvalid as exc:
        return steps.fail(VcJwtCode.PAYLOAD_INVALID, str(exc))
    return _check_claims(steps, payload, now, leeway)


def _context_head(credential: Mapping[str, Any]) -> Any:
    context = credential.get("@context")
    if isinstance(context, list) and context:
        return context[0]
    return context


def _check_claims(
    steps: _Steps, payload: dict[str, Any], now: datetime, leeway: timedelta
) -> VcJwtResult:
    legacy = "vc" in payload
    steps.legacy = legacy
    if legacy:
        credential = payload["vc"]
        if not isinstance(credential, dict):
            return steps.fail(VcJwtCode.PAYLOAD_INVALID, "the vc claim is not a JSON object")
        credential = dict(credential)
        expected_context = VC_V1_CONTEXT
    else:
        credential = {k: v for k, v in payload.items() if k not in _CLAIMS}
        expected_context = VC_V2_CONTEXT
    head = _context_head(credential)
    if head != expected_context:
        where = "a vc claim (VC 1.1)" if legacy else "the payload root (VC 2.0)"
        return steps.fail(
            VcJwtCode.CONTEXT_MISMATCH,
            f"a credential in {where} must start its @context with {expected_context}, "
            f"not {head!r}",
        )
    steps.ok("context", f"credential context {head}")

    # 6. iss mirrors issuer.id. In the legacy form a member missing from vc is
    #    restored from its claim (VC-JWT 1.1 §6.3.1); in VC 2.0 both must be there.
    iss = payload.get("iss")
    issuer_id = _issuer_id(credential)
    if legacy and issuer_id is None and isinstance(iss, str) and "issuer" not in credential:
        credential["issuer"] = issuer_id = iss
    if not isinstance(iss, str) or iss != issuer_id:
        return steps.fail(
            VcJwtCode.ISS_MISMATCH, f"iss {iss!r} does not match issuer id {issuer_id!r}"
        )
    steps.ok("iss", "iss matches the issuer id")

    # 7. jti mirrors id.
    jti = payload.get("jti")
    if legacy and "id" not in credential and isinstance(jti, str):
        credential["id"] = jti
    if not isinstance(jti, str) or jti != credential.get("id"):
        return steps.fail(
            VcJwtCode.JTI_MISMATCH,
            f"jti {jti!r} does not match the credential id {credential.get('id')!r}",
        )
    steps.ok("jti", "jti matches the credential id")

    # 8. sub mirrors credentialSubject.id; both absent is fine (subject by identifier).
    sub = payload.get("sub")
    subject = _subject(credential)
    if legacy and isinstance(sub, str) and subject is not None and "id" not in subject:
        restored = {**subject, "id": sub}
        raw_subject = credential.get("credentialSubject")
        credential["credentialSubject"] = [restored] if isinstance(raw_subject, list) else restored
    subject_id = _subject_id(credential)
    if sub != subject_id:
        return steps.fail(
            VcJwtCode.SUB_MISMATCH,
            f"sub {sub!r} does not match credentialSubject.id {subject_id!r}",
        )
    steps.ok("sub", "sub matches credentialSubject.id" if sub else "no subject id, no sub")

    # 9. nbf mirrors validFrom (issuanceDate in VC 1.1) and is not in the future.
    start_name = "issuanceDate" if legacy else "validFrom"
    nbf = payload.get("nbf")
    if not _is_number(nbf):
        return steps.fail(VcJwtCode.NBF_MISMATCH, f"nbf {nbf!r} is not a NumericDate")
    try:
        if legacy and start_name not in credential:
            credential[start_name] = _iso(_from_numeric_date(nbf))
        start = _parse_datetime(credential.get(start_name), start_name)
    except ValueError as exc:
        return steps.fail(VcJwtCode.NBF_MISMATCH, str(exc))
    if math.floor(nbf) != _numeric_date(start):
        return steps.fail(
            VcJwtCode.NBF_MISMATCH, f"nbf {nbf} does not match {start_name} {_iso(start)}"
        )
    if start > now + leeway:
        return steps.fail(
            VcJwtCode.NOT_YET_VALID, f"the credential is not valid before {_iso(start)}"
        )
    steps.ok("nbf", f"nbf matches {start_name} and has passed")

    # 10. exp mirrors validUntil (expirationDate in VC 1.1) and has not passed.
    end_name = "expirationDate" if legacy else "validUntil"
    exp = payload.get("exp")
    if exp is not None and not _is_number(exp):
        return steps.fail(VcJwtCode.EXP_MISMATCH, f"exp {exp!r} is not a NumericDate")
    if legacy and exp is not None and end_name not in credential:
        try:
            credential[end_name] = _iso(_from_numeric_date(exp))
        except ValueError as exc:
            return steps.fail(VcJwtCode.EXP_MISMATCH, str(exc))
    if exp is None and end_name not in credential:
        steps.ok("exp", "no expiry")
    else:
        if exp is None:
            return steps.fail(
                VcJwtCode.EXP_MISMATCH, f"{end_name} is set but the exp claim is missing"
            )
        if end_name not in credential:
            return steps.fail(VcJwtCode.EXP_MISMATCH, f"exp is set but {end_name} is missing")
        try:
            end = _parse_datetime(credential[end_name], end_name)
        except ValueError as exc:
            return steps.fail(VcJwtCode.EXP_MISMATCH, str(exc))
        if math.floor(exp) != _numeric_date(end):
            return steps.fail(
                VcJwtCode.EXP_MISMATCH, f"exp {exp} does not match {end_name} {_iso(end)}"
            )
        if end <= now - leeway:
            return steps.fail(VcJwtCode.EXPIRED, f"the credential expired at {_iso(end)}")
        steps.ok("exp", f"exp matches {end_name} and has not passed")

    reason = "VC-JWT verified" + (" (legacy vc claim form)" if legacy else "")
    return VcJwtResult(
        VcJwtCode.VERIFIED, reason, tuple(steps.checks), steps.header, credential, legacy
    )
