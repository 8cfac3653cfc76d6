"""Verify Open Badges 3.0 credentials and CLR 2.0 records (FACTS §2.12, §3.2).

Each public function writes the algorithm as a numbered comment and runs one
step per block; every step adds at least one check to the :class:`Report`
(STYLE habit 9). A *fatal* failure — the document is not what it claims to be
(format, contexts, schema, signature, key ownership) — stops the run, and
every step not run is still listed, as ``not_applicable`` with code
``not_checked``, so nothing is skipped silently. Expiry, revocation and a
recipient mismatch are not fatal: the rest still runs, so a person sees the
whole picture.

Entry points:

* :func:`verify_ob3_credential` — an OB 3.0 credential with embedded proofs
  (``ob3-ldp``; legacy VC 1.1 form ``ob3-ldp-vc1.1``). A ``ClrCredential`` is
  handed to :func:`verify_clr`.
* :func:`verify_vc_jwt_token` — a VC-JWT (``ob3-jwt``).
* :func:`verify_clr` — a ClrCredential: its own checks, then every embedded
  credential verified on its own into ``report.embedded``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

import base58
from jsonschema import Draft201909Validator

from badger.domain.errors import ValidationError
from badger.domain.recipients import identity_matches, normalize_email
from badger.proofs import jsonld
from badger.proofs.di_eddsa_rdfc_2022 import verify_proof
from badger.proofs.errors import KeyNotFound
from badger.proofs.vc_jwt import VcJwtCode, verify_vc_jwt
from badger.verify.context import VerifyContext
from badger.verify.ports import FetchError
from badger.verify.report import Report, Status, Step, unusable
from badger.verify.resolve import (
    KeyResolutionError,
    Ownership,
    ResolvedKey,
    resolve_jwt_key,
    resolve_verification_method,
)
from badger.verify.schemas import VERIFIER_SCHEMAS, load_schema, verifier_schema_url
from badger.verify.status import check_status, issuer_id_of

__all__ = [
    "JWT_ALGORITHMS",
    "verify_clr",
    "verify_ob3_credential",
    "verify_vc_jwt_token",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$")
CLR_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/clr/v2p0/context(-2\.\d\.\d)*\.json$")
OB_TYPES = ("OpenBadgeCredential", "AchievementCredential", "EndorsementCredential")
SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"

#: VC-JWT algorithms badger verifies (STYLE habit 11: allow-listed per format,
#: never taken from the header). RS256 is the OB minimum; ES256 the other one
#: 1EdTech accepts; EdDSA is sound JOSE that 1EdTech's validator rejects.
JWT_ALGORITHMS = ("RS256", "ES256", "EdDSA")

_MAX_SCHEMA_ERRORS = 10
_MAX_MESSAGE = 300


class _Fatal(Exception):
    """A step failed in a way that makes the remaining steps meaningless."""


# ---------------------------------------------------------------- small helpers


def _types(value: Any) -> list[str]:
    raw = value if isinstance(value, list) else [value]
    return [t for t in raw if isinstance(t, str)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _subject(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    return subject if isinstance(subject, Mapping) else None


def _parse_datetime(value: Any) -> datetime | None:
    """An aware datetime from an XML Schema dateTime with a time zone, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None and parsed.utcoffset() is not None else None


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _not_checked(report: Report, done: set[Step], steps: tuple[Step, ...]) -> None:
    """List every step a fatal failure prevented, so none is skipped silently."""
    for step in steps:
        if step not in done:
            report.not_applicable(
                step, "not_checked", "Not checked: an earlier step failed, so this one cannot."
            )


class _Run:
    """One verification run: the document, the context, the report and what steps learnt."""

    def __init__(self, document: dict[str, Any], ctx: VerifyContext, report: Report) -> None:
        self.doc = document
        self.ctx = ctx
        self.report = report
        self.legacy = False
        self.keys: list[ResolvedKey] = []
        self.done: set[Step] = set()

    @property
    def issuer_id(self) -> str | None:
        return issuer_id_of(self.doc)

    def run(self, steps: list[tuple[Step, Callable[[], None]]]) -> None:
        try:
            for step, block in steps:
                self.done.add(step)
                block()
        except _Fatal:
            _not_checked(self.report, self.done, tuple(step for step, _ in steps))

    def fail(self, step: Step, code: str, message: str, **details: Any) -> _Fatal:
        self.report.failed(step, code, message, **details)
        return _Fatal(code)

    # -------------------------------------------------------- format

    def check_format(self, allowed: tuple[str, ...], what: str) -> None:
        types = _types(self.doc.get("type"))
        if "VerifiableCredential" not in types or not any(t in types for t in allowed):
            raise self.fail(
                Step.FORMAT,
                "not_a_credential",
                f"This is not {what}: its type must include VerifiableCredential and one of "
                f"{', '.join(allowed)} (it has {types or 'no type'}).",
            )
        contexts = _as_list(self.doc.get("@context"))
        self.legacy = bool(contexts) and contexts[0] == VC_V1_CONTEXT
        model = "VC 1.1 (legacy)" if self.legacy else "VC 2.0"
        kind = next(t for t in allowed if t in types)
        self.report.passed(
            Step.FORMAT,
            "credential",
            f"A{'n' if kind[0] in 'AEIOU' else ''} {kind} in the {model} data model.",
            type=types,
        )

    # -------------------------------------------------------- contexts

    def check_contexts(self, *, clr: bool) -> None:
        raw = self.doc.get("@context")
        contexts = _as_list(raw)
        first = VC_V1_CONTEXT if self.legacy else VC_V2_CONTEXT
        if not contexts or contexts[0] != first:
            raise self.fail(
                Step.CONTEXT,
                "vc_context_missing",
                f"The first @context must be {VC_V2_CONTEXT} (or {VC_V1_CONTEXT} for the "
                f"legacy form), not {contexts[0] if contexts else 'nothing'!r}.",
            )
        # FACTS §2.1 / §3.1: the OB context comes second (a CLR puts its own second
        # and the OB one after it).
        position = 1
        if clr:
            if len(contexts) < 2 or not (
                isinstance(contexts[1], str) and CLR_CONTEXT.match(contexts[1])
            ):
                raise self.fail(
                    Step.CONTEXT,
                    "clr_context_missing",
                    "The second @context of a ClrCredential must be a CLR 2.0 context "
                    "(https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json).",
                )
            position = 2
        if len(contexts) <= position or not (
            isinstance(contexts[position], str) and OB_CONTEXT.match(contexts[position])
        ):
            raise self.fail(
                Step.CONTEXT,
                "ob_context_missing",
                f"@context entry {position + 1} must be an Open Badges 3.0 context "
                "(https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json).",
            )
        unknown = [c for c in contexts if isinstance(c, str) and not jsonld.is_known_context(c)]
        malformed = [c for c in contexts if not isinstance(c, str | dict)]
        if unknown or malformed:
            raise self.fail(
                Step.CONTEXT,
                "context_not_allowed",
                "The @context names "
                + (
                    f"contexts badger does not ship: {', '.join(map(str, unknown))}"
                    if unknown
                    else ""
                )
                + ("; " if unknown and malformed else "")
                + ("entries that are neither URLs nor objects" if malformed else "")
                + ". badger never loads contexts from the network, so it cannot tell what "
                "this document means.",
                unknown=[str(c) for c in unknown],
            )
        try:
            undefined = jsonld.undefined_terms(self.doc)
        except jsonld.ContextNotAllowed as exc:
            raise self.fail(Step.CONTEXT, "context_not_allowed", str(exc)) from exc
        except (jsonld.JsonLdError, TypeError, ValueError, KeyError, AttributeError) as exc:
            # pyld raises assorted built-in exceptions on hostile documents.
            raise self.fail(
                Step.CONTEXT, "jsonld_error", _short(f"The document is not valid JSON-LD: {exc}")
            ) from exc
        if undefined:
            raise self.fail(
                Step.CONTEXT,
                "undefined_terms",
                "The document uses terms its @context does not define, so they are not "
                "covered by any proof: " + ", ".join(sorted({t.term for t in undefined})) + ".",
                terms=[{"kind": t.kind, "term": t.term} for t in undefined],
            )
        self.report.passed(
            Step.CONTEXT,
            "contexts_known",
            "Every @context is one badger ships, in the required order, and every term is defined.",
            contexts=[c for c in contexts if isinstance(c, str)],
        )

    # -------------------------------------------------------- schema

    def check_schema(self, class_name: str) -> None:
        if self.legacy:
            self._check_legacy_shape()
            return
        problems: list[str] = []
        url = VERIFIER_SCHEMAS[class_name]
        problems += _schema_errors(url, self.doc)
        checked = {url}
        unchecked: list[str] = []
        for entry in _as_list(self.doc.get("credentialSchema")):
            if not isinstance(entry, Mapping) or entry.get("type") != SCHEMA_VALIDATOR_TYPE:
                continue
            shipped = verifier_schema_url(entry.get("id"))  # type: ignore[arg-type]
            if shipped is None:
                unchecked.append(str(entry.get("id")))
            elif shipped not in checked:
                checked.add(shipped)
                problems += _schema_errors(shipped, self.doc)
        problems += self._subject_problems(class_name)
        if problems:
            raise self.fail(
                Step.SCHEMA,
                "schema_violation",
                f"The credential does not conform to the {class_name} schema: "
                + "; ".join(problems[:_MAX_SCHEMA_ERRORS])
                + (
                    f" (and {len(problems) - _MAX_SCHEMA_ERRORS} more)"
                    if len(problems) > _MAX_SCHEMA_ERRORS
                    else ""
                ),
                errors=problems,
                schemas=sorted(checked),
            )
        self.report.passed(
            Step.SCHEMA,
            "schema_valid",
            f"The credential conforms to the {class_name} JSON Schema (JSON-LD adaptation).",
            schemas=sorted(checked),
        )
        if unchecked:
            self.report.warning(
                Step.SCHEMA,
                "schema_not_checked",
                "credentialSchema names schemas badger does not ship and never fetches: "
                + ", ".join(unchecked)
                + ".",
            )

    def _subject_problems(self, class_name: str) -> list[str]:
        if class_name == "EndorsementCredential":
            return []
        subject = _subject(self.doc)
        if subject is not None and not subject.get("id") and not subject.get("identifier"):
            # OB 3.0 §Verification step 1.
            return ["$.credentialSubject: needs an id or at least one identifier"]
        return []

    def _check_legacy_shape(self) -> None:
        # FACTS §5.23: the "any" schemas are buggy for VC 1.1 (issue #608), so the
        # members a VC 1.1 OB credential must have are checked here.
        problems = []
        if not isinstance(self.doc.get("id"), str):
            problems.append("$.id: a URI is required")
        if issuer_id_of(self.doc) is None:
            problems.append("$.issuer: an id (or an object with an id) is required")
        if not isinstance(self.doc.get("issuanceDate"), str):
            problems.append("$.issuanceDate: required in the VC 1.1 form")
        subject = _subject(self.doc)
        if subject is None:
            problems.append("$.credentialSubject: an object is required")
        elif "ClrCredential" in _types(self.doc.get("type")):
            if not _as_list(subject.get("verifiableCredential")):
                problems.append("$.credentialSubject.verifiableCredential: required")
        elif "EndorsementCredential" not in _types(self.doc.get("type")):
            if not isinstance(subject.get("achievement"), Mapping):
                problems.append("$.credentialSubject.achievement: an Achievement is required")
            if not subject.get("id") and not subject.get("identifier"):
                problems.append("$.credentialSubject: needs an id or at least one identifier")
        if problems:
            raise self.fail(
                Step.SCHEMA,
                "schema_violation",
                "The VC 1.1 credential lacks required members: " + "; ".join(problems),
                errors=problems,
            )
        self.report.passed(
            Step.SCHEMA,
            "legacy_shape",
            "VC 1.1 (legacy) form: the OB 3.0 and CLR 2.0 JSON Schemas describe only the VC 2.0 "
            "form, so the required members were checked in code instead.",
        )

    # -------------------------------------------------------- signature and keys

    def check_embedded_proofs(self) -> None:
        proofs = _as_list(self.doc.get("proof"))
        if not proofs:
            raise self.fail(
                Step.SIGNATURE,
                "no_proof",
                "The credential carries no embedded proof, so nothing shows who issued it "
                "or that it is unchanged.",
            )
        issuer_id = self.issuer_id
        unsecured = {k: v for k, v in self.doc.items() if k != "proof"}

        def resolver(method: str) -> Any:
            resolved = resolve_verification_method(method, issuer_id, self.ctx)
            self.keys.append(resolved)
            return resolved.public_key

        outcomes: list[dict[str, Any]] = []
        for index, proof in enumerate(proofs):
            proof_type = proof.get("type") if isinstance(proof, Mapping) else None
            method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
            if proof_type == "Ed25519Signature2020":
                code, reason = _verify_ed25519_signature_2020(unsecured, proof, resolver)
            elif proof_type == "DataIntegrityProof" or not isinstance(proof, Mapping):
                result = verify_proof({**unsecured, "proof": [proof]}, resolver)
                code, reason = result.code, result.reason
            else:
                code, reason = (
                    "unsupported_proof_type",
                    f"proof type {proof_type!r} is not one badger verifies "
                    "(DataIntegrityProof eddsa-rdfc-2022, legacy Ed25519Signature2020)",
                )
            outcomes.append(
                {"index": index, "type": proof_type, "verificationMethod": method, "code": code}
            )
            if code != "verified":
                where = f"Proof {index + 1} of {len(proofs)}" if len(proofs) > 1 else "The proof"
                raise self.fail(
                    Step.SIGNATURE,
                    code,
                    f"{where} does not verify: {reason}.",
                    proofs=outcomes,
                )
        methods = ", ".join(str(o["verificationMethod"]) for o in outcomes)
        self.report.passed(
            Step.SIGNATURE,
            "signature_verified",
            f"{'The proof' if len(proofs) == 1 else f'All {len(proofs)} proofs'} verified "
            f"(signed with {methods}).",
            proofs=outcomes,
        )

    def check_key_ownership(self) -> None:
        _ownership_check(self, self.keys)

    # -------------------------------------------------------- issuer

    def check_issuer(self) -> None:
        issuer = self.doc.get("issuer")
        issuer_id = self.issuer_id
        if issuer_id is None:
            self.report.failed(Step.ISSUER, "issuer_missing", "The credential names no issuer.")
            return
        name = issuer.get("name") if isinstance(issuer, Mapping) else None
        label = f"{name} ({issuer_id})" if isinstance(name, str) and name else issuer_id
        notes: list[str] = []
        if not (isinstance(issuer, Mapping) and "Profile" in _types(issuer.get("type"))):
            notes.append(
                "the issuer is not embedded as a Profile object (the 1EdTech validator requires one)"
            )
        if self.ctx.local.document(issuer_id) is not None:
            status, code, message = (
                Status.PASSED,
                "issuer_known",
                f"Issued by {label}, an issuer hosted by this badger.",
            )
        elif issuer_id.startswith(("https://", "http://")):
            reachable, why = _reachable(issuer_id, self.ctx)
            if reachable:
                status, code, message = (
                    Status.PASSED,
                    "issuer_profile_fetched",
                    f"Issued by {label}; the issuer's profile was fetched.",
                )
            else:
                status, code, message = (
                    Status.WARNING,
                    "issuer_unreachable",
                    f"Issued by {label}, whose profile could not be fetched ({why}). The issuer "
                    "is unknown to badger: that does not make the credential invalid, but who "
                    "stands behind it is confirmed only as far as the key ownership check says.",
                )
        elif issuer_id.startswith("did:"):
            status, code, message = (
                Status.PASSED,
                "issuer_did",
                f"Issued by {label}, identified by a DID.",
            )
        else:
            status, code, message = (
                Status.WARNING,
                "issuer_unresolvable",
                f"Issued by {label}: the issuer id is neither a URL nor a DID, so the issuer "
                "cannot be looked up and is unknown.",
            )
        if notes and status is Status.PASSED:
            status = Status.WARNING
        if notes:
            message = f"{message} Note: {'; '.join(notes)}."
        self.report.add(Step.ISSUER, code, status, message, issuer=issuer_id)

    # -------------------------------------------------------- validity

    def check_validity(self) -> None:
        start_name, end_name = (
            ("issuanceDate", "expirationDate") if self.legacy else ("validFrom", "validUntil")
        )
        start = _parse_datetime(self.doc.get(start_name))
        if start is None:
            self.report.failed(
                Step.SCHEMA,
                "invalid_date",
                f"{start_name} is missing or not a date-time with a time zone.",
            )
            return
        end = None
        if self.doc.get(end_name) is not None:
            end = _parse_datetime(self.doc.get(end_name))
            if end is None:
                self.report.failed(
                    Step.SCHEMA,
                    "invalid_date",
                    f"{end_name} is not a date-time with a time zone.",
                )
                return
        now = self.ctx.now
        if start > now:
            self.report.failed(
                Step.VALIDITY,
                "not_yet_valid",
                f"The credential is not valid before {self.doc[start_name]}.",
            )
        elif end is not None and end <= now:
            self.report.failed(
                Step.VALIDITY, "expired", f"The credential expired at {self.doc[end_name]}."
            )
        else:
            until = f" until {self.doc[end_name]}" if end is not None else " with no end date"
            self.report.passed(
                Step.VALIDITY,
                "within_validity",
                f"Valid from {self.doc[start_name]}{until}.",
            )

    # -------------------------------------------------------- status and recipient

    def check_status(self) -> None:
        check_status(self.doc, self.ctx, self.report)

    def check_recipient(self) -> None:
        wanted = self.ctx.recipient
        if not wanted:
            self.report.not_applicable(
                Step.RECIPIENT, "no_recipient_given", "No recipient was given to compare with."
            )
            return
        subject = _subject(self.doc)
        if subject is None:
            self.report.failed(
                Step.RECIPIENT, "recipient_mismatch", "The credential names no recipient."
            )
            return
        if _recipient_matches(wanted.strip(), subject):
            self.report.passed(
                Step.RECIPIENT, "recipient_match", f"The credential was awarded to {wanted}."
            )
        else:
            self.report.failed(
                Step.RECIPIENT,
                "recipient_mismatch",
                f"The credential was not awarded to {wanted}.",
            )


@cache
def _validator(url: str) -> Draft201909Validator:
    return Draft201909Validator(load_schema(url))


def _schema_errors(url: str, document: Mapping[str, Any]) -> list[str]:
    errors = sorted(_validator(url).iter_errors(document), key=lambda e: e.json_path)
    return [_short(f"{e.json_path}: {e.message}") for e in errors]


def _reachable(url: str, ctx: VerifyContext) -> tuple[bool, str]:
    try:
        status, body = ctx.retrieve_json(url)
    except FetchError as exc:
        return False, exc.message
    if status >= 400:
        return False, f"HTTP {status}"
    if not isinstance(body, dict):
        return False, "not a JSON object"
    return True, ""


def _ownership_check(run: _Run, keys: list[ResolvedKey]) -> None:
    report = run.report
    details = [
        {
            "method": k.method,
            "controller": k.controller,
            "ownership": k.ownership.value,
            "source": k.source,
        }
        for k in keys
    ]
    not_owned = [k for k in keys if k.ownership is Ownership.NOT_OWNED]
    unknown = [k for k in keys if k.ownership is Ownership.UNKNOWN]
    if not keys:
        raise run.fail(Step.KEY_OWNERSHIP, "key_not_owned", "No key was resolved for the proof.")
    if not_owned:
        raise run.fail(
            Step.KEY_OWNERSHIP,
            "key_not_owned",
            f"The signing key does not belong to the issuer: {not_owned[0].reason}.",
            keys=details,
        )
    if unknown:
        report.warning(
            Step.KEY_OWNERSHIP,
            "key_ownership_unknown",
            f"Whether the signing key belongs to the issuer could not be confirmed: "
            f"{unknown[0].reason}.",
            keys=details,
        )
        return
    report.passed(
        Step.KEY_OWNERSHIP,
        "key_owned",
        f"The signing key belongs to the issuer: {keys[0].reason}.",
        keys=details,
    )


def _recipient_matches(wanted: str, subject: Mapping[str, Any]) -> bool:
    """OB 3.0 §Verification step 5: equal ``id``, or an ``identifier`` that matches."""
    if isinstance(subject.get("id"), str) and subject["id"] == wanted:
        return True
    try:
        email = normalize_email(wanted.removeprefix("mailto:"))
    except ValidationError:
        email = None
    for identity in _as_list(subject.get("identifier")):
        if not isinstance(identity, Mapping):
            continue
        value = identity.get("identityHash")
        if not isinstance(value, str):
            continue
        salt = identity.get("salt") if isinstance(identity.get("salt"), str) else None
        hashed = identity.get("hashed") is True
        candidates = [wanted]
        if identity.get("identityType") == "emailAddress" and email is not None:
            candidates = [email, wanted]
        for candidate in candidates:
            if identity_matches(candidate, value, salt, hashed):
                return True
    return False


def _verify_ed25519_signature_2020(
    unsecured: Mapping[str, Any], proof: Mapping[str, Any], resolver: Callable[[str], Any]
) -> tuple[str, str]:
    """The legacy ``Ed25519Signature2020`` suite (W3C CCG, used by VC 1.1 OB credentials).

    It hashes exactly as ``eddsa-rdfc-2022`` does — SHA-256 of the canonical
    proof options (given the document's ``@context``) followed by SHA-256 of the
    canonical document, signed with Ed25519 — only the proof ``type`` differs
    and there is no ``cryptosuite``. Its terms come from the
    ``https://w3id.org/security/suites/ed25519-2020/v1`` context, which badger ships.
    """
    if proof.get("proofPurpose") != "assertionMethod":
        return (
            "wrong_proof_purpose",
            f"proofPurpose {proof.get('proofPurpose')!r} is not 'assertionMethod'",
        )
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        return "malformed_proof", "the proof has no verificationMethod"
    value = proof.get("proofValue")
    try:
        if not isinstance(value, str) or not value.startswith("z"):
            raise ValueError
        signature = base58.b58decode(value[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return "malformed_proof_value", "proofValue is not a base58-btc multibase string"
    if len(signature) != 64:
        return "malformed_proof_value", "proofValue is not a 64-byte Ed25519 signature"
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options and options["@context"] != unsecured.get("@context"):
        return "context_mismatch", "the proof's @context differs from the document's"
    options["@context"] = unsecured.get("@context")
    try:
        key = resolver(method)
    except LookupError as exc:
        return "key_not_found", f"no key found for {method}: {exc}"
    try:
        canonical_proof = jsonld.canonicalize(options)
        canonical_document = jsonld.canonicalize(unsecured)
    except jsonld.JsonLdError as exc:
        return "jsonld_error", f"the document is not valid JSON-LD: {exc}"
    data = (
        hashlib.sha256(canonical_proof.encode("utf-8")).digest()
        + hashlib.sha256(canonical_document.encode("utf-8")).digest()
    )
    try:
        key.verify(signature, data)
    except Exception:  # cryptography's InvalidSignature; verify may not import cryptography
        return (
            "signature_invalid",
            "the signature does not match the document (changed since signing, or another key)",
        )
    return "verified", f"Ed25519Signature2020 signature by {method} verified"


# ---------------------------------------------------------------- summary


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _summary(document: Mapping[str, Any]) -> dict[str, Any]:
    """What a person wants to see first: name, achievement, issuer, dates, image, credits."""
    subject = _subject(document) or {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    issuer = document.get("issuer")
    issuer_name = issuer.get("name") if isinstance(issuer, Mapping) else None
    image = document.get("image") or achievement.get("image")
    image_id = image.get("id") if isinstance(image, Mapping) else image
    out: dict[str, Any] = {
        "name": _text(document.get("name")),
        "achievement": _text(achievement.get("name")),
        "description": _text(achievement.get("description")) or _text(document.get("description")),
        "issuer": {
            k: v for k, v in {"id": issuer_id_of(document), "name": _text(issuer_name)}.items() if v
        },
        "validFrom": _text(document.get("validFrom")) or _text(document.get("issuanceDate")),
        "validUntil": _text(document.get("validUntil")) or _text(document.get("expirationDate")),
        "image": _text(image_id),
    }
    credits = {
        "earned": subject.get("creditsEarned"),
        "available": achievement.get("creditsAvailable"),
    }
    credits = {
        k: v for k, v in credits.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    if credits:
        out["credits"] = credits
    return {k: v for k, v in out.items() if v}


# ---------------------------------------------------------------- OB 3.0 with embedded proofs


def verify_ob3_credential(doc: Any, ctx: VerifyContext) -> Report:
    """Verify an OB 3.0 credential secured with embedded proofs (FACTS §2.12).

    Algorithm (one block per step below; a fatal failure stops the run):

    1. Format: a VerifiableCredential that is an OpenBadgeCredential,
       AchievementCredential or EndorsementCredential (a ClrCredential goes to
       :func:`verify_clr`).
    2. Contexts: VC 2.0 first (VC 1.1 for the legacy form), an OB 3.0 context
       second, every context one badger ships, every term defined (fatal).
    3. Schema: the JSON-LD adaptation of the class's official schema, plus any
       shipped schema named in ``credentialSchema``; VC 1.1 members in code (fatal).
    4. Signature: every embedded proof verifies (fatal).
    5. Key ownership: each signing key belongs to ``issuer.id`` (fatal when it
       provably does not; a warning when it cannot be established).
    6. Issuer: an embedded Profile; say plainly when the issuer is unknown.
    7. Validity: not before ``validFrom``, not after ``validUntil``.
    8. Status: revocation / suspension (:mod:`badger.verify.status`).
    9. Recipient: when one was given, ``credentialSubject`` names it.
    """
    if isinstance(doc, dict) and "ClrCredential" in _types(doc.get("type")):
        return verify_clr(doc, ctx)
    if not isinstance(doc, dict):
        return unusable("The document is not a JSON object, so it is not an OB 3.0 credential.")
    report = Report(format="ob3-ldp")
    run = _Run(doc, ctx, report)
    class_name = (
        "EndorsementCredential"
        if "EndorsementCredential" in _types(doc.get("type"))
        else "AchievementCredential"
    )

    def step_1_format() -> None:
        run.check_format(OB_TYPES, "an Open Badges 3.0 credential")
        report.format = "ob3-ldp-vc1.1" if run.legacy else "ob3-ldp"

    run.run(
        [
            (Step.FORMAT, step_1_format),
            (Step.CONTEXT, lambda: run.check_contexts(clr=False)),
            (Step.SCHEMA, lambda: run.check_schema(class_name)),
            (Step.SIGNATURE, run.check_embedded_proofs),
            (Step.KEY_OWNERSHIP, run.check_key_ownership),
            (Step.ISSUER, run.check_issuer),
            (Step.VALIDITY, run.check_validity),
            (Step.STATUS, run.check_status),
            (Step.RECIPIENT, run.check_recipient),
        ]
    )
    _finish(report, doc)
    return report


def _finish(report: Report, doc: Mapping[str, Any]) -> None:
    if any(c.step is Step.FORMAT and c.status is Status.FAILED for c in report.checks) and not any(
        c.status is Status.PASSED for c in report.checks
    ):
        # Unusable input: the "not checked" rows add nothing a person needs.
        report.checks[:] = [c for c in report.checks if c.code != "not_checked"]
    report.summary = _summary(doc)


# ---------------------------------------------------------------- VC-JWT


#: verify_vc_jwt failures that come after the signature verified: the token is
#: authentic, only its dates are wrong.
_DATE_FAILURES = frozenset({VcJwtCode.NOT_YET_VALID, VcJwtCode.EXPIRED})


def _b64url_json(segment: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _payload_segment(token: str) -> dict[str, Any] | None:
    """The JWT payload decoded WITHOUT checking the signature.

    Used for two things only: to learn which issuer's key set to consult for
    key ownership before the signature is checked (the signature then binds
    ``iss``, and :func:`badger.proofs.vc_jwt.verify_vc_jwt` checks it mirrors
    ``issuer.id``), and to read the credential of a token whose signature *did*
    verify but whose dates failed, so the report can still show it.
    """
    parts = token.strip().split(".")
    return _b64url_json(parts[1]) if len(parts) == 3 else None


def verify_vc_jwt_token(token: Any, ctx: VerifyContext) -> Report:
    """Verify an OB 3.0 credential secured as a VC-JWT (FACTS §2.10, §2.12).

    Algorithm (one block per step below; a fatal failure stops the run):

    1. Format: a compact JWS whose payload is a credential.
    2. Signature: :func:`badger.proofs.vc_jwt.verify_vc_jwt` — header rules,
       allow-listed ``alg``, the key from ``kid``/``jwk``, the signature, and
       the claims mirroring the credential (fatal).
    3. Key ownership: the key belongs to ``issuer.id`` (fatal when provably not).
    4. Contexts, 5. schema — as for embedded proofs, on the verified payload (fatal).
    6. Issuer, 7. validity, 8. status, 9. recipient — as for embedded proofs.
    """
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            token = None
    if not isinstance(token, str) or token.strip().count(".") != 2:
        return unusable("The input is not a compact JWS (three base64url parts).")
    report = Report(format="ob3-jwt")
    token = token.strip()
    claimed = _payload_segment(token) or {}
    inner = claimed.get("vc") if isinstance(claimed.get("vc"), dict) else claimed
    claimed_iss = claimed.get("iss")
    claimed_issuer = issuer_id_of(inner) or (claimed_iss if isinstance(claimed_iss, str) else None)
    keys: list[ResolvedKey] = []

    def resolve_key(kid: str | None, jwk: Mapping[str, Any] | None) -> Any:
        try:
            resolved = resolve_jwt_key(kid, jwk, claimed_issuer, ctx)
        except KeyResolutionError as exc:
            raise KeyNotFound(exc.message, code=exc.code) from exc
        keys.append(resolved)
        return resolved.public_key

    # 1-2. Decode and verify the token.
    result = verify_vc_jwt(token, resolve_key, ctx.now, algorithms=JWT_ALGORITHMS)
    if result.code is VcJwtCode.MALFORMED:
        report.failed(Step.FORMAT, "jwt_malformed", f"The VC-JWT cannot be read: {result.reason}.")
        return report
    signature_ok = any(c.code == "signature" and c.passed for c in result.checks)
    credential = result.credential
    if credential is None and signature_ok and result.code in _DATE_FAILURES:
        # Authentic but outside its validity period: the content checks still run
        # and step 7 reports the dates.
        credential = (
            dict(inner)
            if inner is not claimed
            else {k: v for k, v in claimed.items() if k not in ("iss", "jti", "nbf", "sub", "exp")}
        )
    report.passed(Step.FORMAT, "vc_jwt", "A VC-JWT (compact JWS) carrying a credential.")
    run = _Run(credential if isinstance(credential, dict) else {}, ctx, report)
    run.done.add(Step.FORMAT)
    run.legacy = result.legacy

    def step_2_signature() -> None:
        if result.code is VcJwtCode.CONTEXT_MISMATCH:
            report.passed(Step.SIGNATURE, "signature_verified", "The JWT signature verifies.")
            raise run.fail(Step.CONTEXT, "context_mismatch", result.reason + ".")
        if credential is None:
            raise run.fail(
                Step.SIGNATURE, str(result.code), f"The VC-JWT does not verify: {result.reason}."
            )
        report.passed(
            Step.SIGNATURE,
            "signature_verified",
            f"The {(result.header or {}).get('alg')} signature verifies and the JWT claims "
            "mirror the credential" + (" (legacy vc claim form)." if result.legacy else "."),
        )

    def step_4_format_and_contexts() -> None:
        types = _types(run.doc.get("type"))
        if "VerifiableCredential" not in types or not any(t in types for t in OB_TYPES):
            raise run.fail(
                Step.SCHEMA,
                "not_a_credential",
                f"The JWT payload is not an Open Badges 3.0 credential (type {types}).",
            )
        run.check_contexts(clr=False)

    class_name = (
        "EndorsementCredential"
        if isinstance(credential, dict)
        and "EndorsementCredential" in _types(credential.get("type"))
        else "AchievementCredential"
    )
    run.run(
        [
            (Step.SIGNATURE, step_2_signature),
            (Step.KEY_OWNERSHIP, lambda: _ownership_check(run, keys)),
            (Step.CONTEXT, step_4_format_and_contexts),
            (Step.SCHEMA, lambda: run.check_schema(class_name)),
            (Step.ISSUER, run.check_issuer),
            (Step.VALIDITY, run.check_validity),
            (Step.STATUS, run.check_status),
            (Step.RECIPIENT, run.check_recipient),
        ]
    )
    if isinstance(credential, dict):
        report.summary = _summary(credential)
    return report


# ---------------------------------------------------------------- CLR 2.0


def verify_clr(doc: Any, ctx: VerifyContext) -> Report:
    """Verify a CLR 2.0 ClrCredential and every credential it holds (FACTS §3.2).

    Algorithm (one block per step below; a fatal failure stops the run):

    1. Format: a VerifiableCredential that is a ClrCredential.
    2. Contexts: VC 2.0, then a CLR 2.0 context, then an OB 3.0 context; all
       shipped, every term defined (fatal).
    3. Schema: the ClrCredential JSON Schema (fatal).
    4. Signature of the CLR itself, 5. key ownership (fatal).
    6. Issuer, 7. validity, 8. status, 9. recipient of the CLR.
    10. Embedded: every ``credentialSubject.verifiableCredential`` verified on
        its own (its issuer may differ), each into ``report.embedded``; any
        invalid one fails this step.
    """
    if not isinstance(doc, dict):
        return unusable("The document is not a JSON object, so it is not a CLR.")
    report = Report(format="clr")
    run = _Run(doc, ctx, report)

    def step_10_embedded() -> None:
        subject = _subject(doc) or {}
        entries = _as_list(subject.get("verifiableCredential"))
        if not entries:
            report.failed(Step.EMBEDDED, "no_credentials", "The CLR holds no verifiableCredential.")
            return
        for entry in entries:
            if isinstance(entry, str):
                report.embedded.append(verify_vc_jwt_token(entry, ctx))
            else:
                report.embedded.append(verify_ob3_credential(entry, ctx))
        verdicts = [r.verdict.value for r in report.embedded]
        bad = [v for v in verdicts if v in ("invalid", "unusable")]
        not_current = [v for v in verdicts if v != "valid" and v not in bad]
        counts = ", ".join(f"{verdicts.count(v)} {v}" for v in sorted(set(verdicts)))
        if bad:
            report.failed(
                Step.EMBEDDED,
                "embedded_invalid",
                f"{len(bad)} of the {len(entries)} credentials in the CLR do not verify ({counts}).",
                verdicts=verdicts,
            )
        elif not_current:
            report.warning(
                Step.EMBEDDED,
                "embedded_not_current",
                f"Every credential in the CLR is authentic, but not all are current ({counts}).",
                verdicts=verdicts,
            )
        else:
            report.passed(
                Step.EMBEDDED,
                "embedded_valid",
                f"All {len(entries)} credentials in the CLR verify.",
                verdicts=verdicts,
            )

    run.run(
        [
            (Step.FORMAT, lambda: run.check_format(("ClrCredential",), "a CLR 2.0 ClrCredential")),
            (Step.CONTEXT, lambda: run.check_contexts(clr=True)),
            (Step.SCHEMA, lambda: _clr_schema(run)),
            (Step.SIGNATURE, run.check_embedded_proofs),
            (Step.KEY_OWNERSHIP, run.check_key_ownership),
            (Step.ISSUER, run.check_issuer),
            (Step.VALIDITY, run.check_validity),
            (Step.STATUS, run.check_status),
            (Step.RECIPIENT, run.check_recipient),
            (Step.EMBEDDED, step_10_embedded),
        ]
    )
    _finish(report, doc)
    subject = _subject(doc) or {}
    report.summary.pop("achievement", None)
    report.summary["credentials"] = len(_as_list(subject.get("verifiableCredential")))
    if doc.get("partial") is True:
        report.summary["partial"] = True
    return report


def _clr_schema(run: _Run) -> None:
    run.check_schema("ClrCredential")
