"""Open Badges 2.0 verification: hosted and signed assertions (FACTS §1.11).

Written like the spec (STYLE habit 9): each entry point starts with the
algorithm as a numbered comment, then one block per step, each adding a
:class:`~badger.verify.report.Check` to the report. A fatal failure stops the
run (:class:`_Stop`); a step that does not apply adds a ``not_applicable``
check rather than vanishing.

Trust rules that shape the algorithm:

* A hosted assertion is authentic because the issuer *serves* it: only the copy
  fetched from the assertion's own ``id`` is read, and that ``id`` must lie
  inside the verification policy of the issuer Profile fetched from the
  issuer's own ``id`` (``startsWith`` / ``allowedOrigins`` / the issuer's host;
  OB 2.0 §VerificationObject, FACTS §1.6, §5 pitfall 20). An embedded issuer is
  never trusted for that policy.
* A signed assertion is authentic because of its RS256 signature by a key the
  hosted issuer Profile lists in ``publicKey`` and whose ``owner`` is that
  issuer (FACTS §1.7, §1.10, §5 pitfall 21). The payload is read unverified only
  to learn which badge, issuer and key to fetch.

Every malformed input (wrong JSON types anywhere, missing properties, non-JSON
or failing fetches) ends as a failed or warning check with a sentence; no
exception leaves :func:`verify_ob2_assertion` or :func:`verify_ob2_jws`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from badger.domain.errors import ValidationError
from badger.domain.recipients import identity_matches, normalize_email
from badger.proofs.errors import AlgorithmNotAllowed, ProofError
from badger.proofs.jws import OB2_ALGORITHMS, unsafe_decode_payload, verify_compact_jws
from badger.verify.context import VerifyContext
from badger.verify.ports import FetchError
from badger.verify.report import Report, Step

__all__ = ["CLOCK_SKEW", "OB2_CONTEXTS", "verify_ob2_assertion", "verify_ob2_jws"]

#: OB 2.0 §JSON-LD: the context URL and its documented alias (FACTS §0).
OB2_CONTEXTS = frozenset(
    {"https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json"}
)
#: Tolerated clock difference between issuer and verifier for ``issuedOn``.
CLOCK_SKEW = timedelta(minutes=5)

_ACCEPT = "application/ld+json, application/json"
_HOSTED = frozenset({"HostedBadge", "hosted"})
_SIGNED = frozenset({"SignedBadge", "signed"})
_RECIPIENT_TYPES = frozenset({"email", "url", "telephone", "id"})
_ISSUER_TYPES = frozenset({"Issuer", "Profile"})
_ASSERTION_KEYS = frozenset({"recipient", "badge"})
_HASH_RE = re.compile(r"(sha256\$[0-9a-fA-F]{64}|md5\$[0-9a-fA-F]{32})")


class _Stop(Exception):
    """A fatal check failed and was added to the report; nothing further can be checked."""


@dataclass
class _Run:
    """What the steps learn and hand on; the report is the only output."""

    report: Report
    ctx: VerifyContext
    assertion: dict[str, Any]
    issued_on: datetime | None = None
    expires: datetime | None = None
    badge: dict[str, Any] | None = None
    issuer_id: str = ""
    issuer: dict[str, Any] | None = None

    def fail(self, step: Step, code: str, message: str, **details: Any) -> _Stop:
        """Add a fatal failure; the caller raises what this returns."""
        self.report.failed(step, code, message, **details)
        return _Stop(code)


# ====================================================================== hosted


def verify_ob2_assertion(doc: Any, ctx: VerifyContext, *, source_url: str | None = None) -> Report:
    """Verify a hosted OB 2.0 Assertion given as parsed JSON (pasted, baked or fetched).

    ``source_url`` is where ``doc`` came from, if anywhere; it is only reported:
    the assertion is always re-read from its own ``id``.
    """
    report = Report(format="ob2-hosted")
    with contextlib.suppress(_Stop):  # the failing step has reported why
        _verify_hosted(report, doc, ctx, source_url)
    return report


def _verify_hosted(report: Report, doc: Any, ctx: VerifyContext, source_url: str | None) -> None:
    # OB 2.0 hosted verification (OB 2.0 §Verification; FACTS §1.11 steps 1 and 3):
    #  1. The input is an OB 2.0 Assertion object (FORMAT) with the OB 2.0 @context (CONTEXT).
    #  2. It declares hosted verification and its id is an HTTP(S) URL.
    #  3. GET the id; from here on only that copy is trusted. 410 Gone or
    #     "revoked": true means revoked (STATUS) and ends the run.
    #  4. The fetched Assertion has its required properties, well typed (SCHEMA).
    #  5. The BadgeClass (embedded, or fetched from its IRI) has its required properties (SCHEMA).
    #  6. The issuer Profile is fetched from the BadgeClass's issuer id (ISSUER).
    #  7. The assertion id lies within the issuer's verification policy (SIGNATURE:
    #     for a hosted badge this is what proves it authentic).
    #  8. issuedOn is not in the future; expires is not before issuedOn nor past (VALIDITY).
    #  9. The recipient matches the identifier the verifier was given (RECIPIENT).

    # 1. Format and context.
    if not isinstance(doc, dict):
        report.failed(
            Step.FORMAT, "not_an_assertion", "The input is not a JSON object, so not an assertion."
        )
        return
    declared = _strings(doc.get("type"))
    if declared and "Assertion" not in declared:
        report.failed(
            Step.FORMAT,
            "not_an_assertion",
            f"This is an Open Badges 2.0 {', '.join(sorted(declared))}, not an Assertion.",
        )
        return
    report.passed(Step.FORMAT, "ob2_assertion", "An Open Badges 2.0 assertion (hosted JSON).")
    _check_context(report, doc)

    # 2. Hosted verification with an HTTP(S) id.
    run = _Run(report, ctx, doc)
    verification = _verification_of(doc)
    vtype = _first_string(verification.get("type")) if verification is not None else None
    if vtype in _SIGNED:
        raise run.fail(
            Step.SIGNATURE,
            "signature_missing",
            "The assertion declares signed verification, but this is bare JSON: "
            "verify the signed token (JWS) instead; the JSON alone proves nothing.",
        )
    assertion_id = doc.get("id")
    if not isinstance(assertion_id, str) or not _is_http_url(assertion_id):
        raise run.fail(
            Step.SCHEMA,
            "assertion_id_not_url",
            "A hosted assertion's id must be the HTTP(S) URL where the issuer serves it; "
            f"this one has {_describe(assertion_id)}.",
        )

    # 3. Fetch the assertion from its own id; only that copy counts.
    hosted = _fetch_hosted(run, assertion_id, source_url)
    run.assertion = hosted
    if hosted != doc:
        report.warning(
            Step.FORMAT,
            "input_differs",
            "The copy given differs from the one the issuer serves at its id; "
            "the issuer's copy was verified.",
        )

    # 4. The Assertion's required properties.
    _check_assertion_schema(run, signed=False)

    # 5. The BadgeClass.
    _check_badge_class(run)

    # 6. The issuer Profile, from its own id.
    _check_issuer(run)

    # 7. The verification policy: the assertion is served where the issuer says.
    _check_hosted_policy(run, assertion_id)

    # 8. Dates.
    _check_validity(run)

    # 9. Recipient.
    _check_recipient(run)


def _fetch_hosted(run: _Run, assertion_id: str, source_url: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"url": assertion_id}
    if source_url and source_url != assertion_id:
        details["source_url"] = source_url
    try:
        status, body = run.ctx.retrieve_json(assertion_id, accept=_ACCEPT)
    except FetchError as exc:
        raise run.fail(
            Step.SIGNATURE,
            "assertion_unreachable",
            f"The assertion could not be fetched from its id {assertion_id}: {exc.message}",
            fetch_error=exc.code,
            **details,
        ) from None
    except RecursionError:
        raise run.fail(
            Step.SIGNATURE,
            "assertion_unreachable",
            f"The document at {assertion_id} nests too deeply to be read.",
            **details,
        ) from None
    if status == 410:
        reason = _string(body.get("revocationReason")) if isinstance(body, dict) else None
        raise run.fail(
            Step.STATUS,
            "revoked",
            _revoked_message("The issuer revoked this badge (its URL answers 410 Gone)", reason),
            http_status=status,
            revocation_reason=reason,
            **details,
        )
    if status >= 400 or status < 200:
        raise run.fail(
            Step.SIGNATURE,
            "assertion_unreachable",
            f"The issuer's server answered {status} for the assertion URL {assertion_id}.",
            http_status=status,
            **details,
        )
    if not isinstance(body, dict):
        raise run.fail(
            Step.SIGNATURE,
            "assertion_unreachable",
            f"The assertion URL {assertion_id} did not answer with a JSON object.",
            **details,
        )
    if body.get("revoked") is True:
        reason = _string(body.get("revocationReason"))
        raise run.fail(
            Step.STATUS,
            "revoked",
            _revoked_message("The issuer marks this badge revoked", reason),
            revocation_reason=reason,
            **details,
        )
    if body.get("id") != assertion_id:
        raise run.fail(
            Step.SIGNATURE,
            "assertion_id_mismatch",
            f"The document served at {assertion_id} says its id is "
            f"{_describe(body.get('id'))}; a hosted assertion must be served at its id.",
            **details,
        )
    run.report.passed(
        Step.STATUS,
        "not_revoked",
        f"The issuer serves the assertion at its id ({status}) and does not mark it revoked.",
        **details,
    )
    return body


def _check_hosted_policy(run: _Run, assertion_id: str) -> None:
    issuer = run.issuer or {}
    policy = issuer.get("verification")
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        raise run.fail(
            Step.SIGNATURE,
            "verification_policy_invalid",
            "The issuer's verification policy is not an object, so the assertion's "
            "origin cannot be checked.",
        )
    prop = policy.get("verificationProperty")
    if prop is not None and prop != "id":
        raise run.fail(
            Step.SIGNATURE,
            "verification_policy_unsupported",
            f"The issuer's policy verifies by {_describe(prop)}; OB 2.0 verifiers support only 'id'.",
        )
    starts_with = _strings(policy.get("startsWith"))
    allowed = {o.lower() for o in _strings(policy.get("allowedOrigins"))}
    parts = urlsplit(assertion_id)
    netloc, host = parts.netloc.lower(), (parts.hostname or "").lower()
    rules: list[str] = []
    if starts_with:
        if not any(assertion_id.startswith(prefix) for prefix in starts_with):
            raise run.fail(
                Step.SIGNATURE,
                "hosted_origin_mismatch",
                f"The assertion URL {assertion_id} does not start with any prefix the issuer "
                f"allows ({', '.join(sorted(starts_with))}); it may not come from this issuer.",
                starts_with=sorted(starts_with),
            )
        rules.append("starts with an allowed prefix")
    if not allowed and not starts_with:
        # OB 2.0 §VerificationObject: the default policy is the issuer id's host.
        allowed = {urlsplit(run.issuer_id).netloc.lower()}
        rule = f"is on the issuer's own host {next(iter(allowed))}"
    else:
        rule = "is on an origin the issuer allows"
    if allowed:
        if netloc not in allowed and host not in allowed:
            raise run.fail(
                Step.SIGNATURE,
                "hosted_origin_mismatch",
                f"The assertion is served from {netloc}, which the issuer does not allow "
                f"(allowed: {', '.join(sorted(allowed))}); it may not come from this issuer.",
                origin=netloc,
                allowed_origins=sorted(allowed),
            )
        rules.append(rule)
    run.report.passed(
        Step.SIGNATURE,
        "hosted_origin",
        f"The issuer serves the assertion at {assertion_id}, which {' and '.join(rules)}.",
    )


# ====================================================================== signed


def verify_ob2_jws(token: Any, ctx: VerifyContext) -> Report:
    """Verify an OB 2.0 signed assertion given as a compact JWS."""
    report = Report(format="ob2-signed")
    with contextlib.suppress(_Stop):  # the failing step has reported why
        _verify_signed(report, token, ctx)
    return report


def _verify_signed(report: Report, token: Any, ctx: VerifyContext) -> None:
    # OB 2.0 signed verification (OB 2.0 §Verification; FACTS §1.10, §1.11 steps 2 and 3):
    #  1. The input is a compact JWS whose payload decodes to a JSON object (FORMAT),
    #     read WITHOUT verifying, only to learn which badge, issuer and key to fetch;
    #     the payload has the OB 2.0 @context (CONTEXT).
    #  2. The Assertion has its required properties and SignedBadge verification (SCHEMA).
    #  3. The BadgeClass (embedded, or fetched from its IRI) has its required properties (SCHEMA).
    #  4. The issuer Profile is fetched from its HTTP(S) id: keys come only from there (ISSUER).
    #  5. The key: verification.creator must be listed in the issuer's publicKey (without
    #     a creator every listed key is a candidate); each key is fetched and must be a
    #     CryptographicKey owned by the issuer with a publicKeyPem (KEY_OWNERSHIP).
    #  6. The JWS verifies with RS256 and that key; the alg header is never trusted (SIGNATURE).
    #  7. issuedOn is not in the future; expires is not before issuedOn nor past (VALIDITY).
    #  8. The assertion id (or legacy uid) is not on the issuer's revocationList (STATUS).
    #  9. The recipient matches the identifier the verifier was given (RECIPIENT).

    # 1. Decode, unverified.
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            report.failed(Step.FORMAT, "not_a_jws", "A signed badge token is ASCII text.")
            return
    if not isinstance(token, str):
        report.failed(Step.FORMAT, "not_a_jws", "A signed badge must be given as a token string.")
        return
    try:
        payload = unsafe_decode_payload(token)
    except ProofError as exc:
        report.failed(
            Step.FORMAT, "not_a_jws", f"This is not a readable signed badge: {exc.message}."
        )
        return
    except RecursionError:
        report.failed(Step.FORMAT, "not_a_jws", "The signed badge's payload nests too deeply.")
        return
    if "Assertion" not in _strings(payload.get("type")) and not payload.keys() >= _ASSERTION_KEYS:
        report.failed(
            Step.FORMAT,
            "not_an_assertion",
            "The token's payload is not an Open Badges 2.0 assertion.",
        )
        return
    report.passed(Step.FORMAT, "ob2_signed", "An Open Badges 2.0 signed assertion (compact JWS).")
    _check_context(report, payload)
    run = _Run(report, ctx, payload)

    # 2. The Assertion's required properties.
    _check_assertion_schema(run, signed=True)

    # 3. The BadgeClass.
    _check_badge_class(run)

    # 4. The issuer Profile, from its own id.
    _check_issuer(run)

    # 5. Which key: listed by the issuer and owned by it.
    keys = _issuer_keys(run)

    # 6. The signature.
    verified = _check_signature(run, token, keys)
    run.assertion = verified

    # 7. Dates.
    _check_validity(run)

    # 8. Revocation list.
    _check_revocation_list(run)

    # 9. Recipient.
    _check_recipient(run)


@dataclass(frozen=True)
class _Key:
    id: str
    pem: str


def _issuer_keys(run: _Run) -> list[_Key]:
    issuer = run.issuer or {}
    listed = _listed_keys(issuer.get("publicKey"))
    verification = _verification_of(run.assertion) or {}
    creator = verification.get("creator")
    if creator is not None:
        creator_id = _id_of(creator)
        if creator_id is None:
            raise run.fail(
                Step.KEY_OWNERSHIP,
                "creator_invalid",
                f"verification.creator must be the key's URL; it is {_describe(creator)}.",
            )
        if creator_id not in listed:
            raise run.fail(
                Step.KEY_OWNERSHIP,
                "key_not_listed",
                f"The signing key {creator_id} is not among the keys the issuer lists in its "
                "profile (publicKey); a key the issuer does not list proves nothing.",
                key=creator_id,
                listed=sorted(listed),
            )
        candidates = [creator_id]
    else:
        if not listed:
            raise run.fail(
                Step.KEY_OWNERSHIP,
                "no_issuer_keys",
                "The assertion names no signing key and the issuer lists none (publicKey).",
            )
        candidates = sorted(listed)

    keys: list[_Key] = []
    problems: list[str] = []
    for key_id in candidates:
        key, problem = _load_key(run, key_id, listed[key_id])
        if key is not None:
            keys.append(key)
        else:
            problems.append(problem)
    if not keys:
        raise run.fail(
            Step.KEY_OWNERSHIP,
            "key_not_owned" if any("owner" in p for p in problems) else "key_unusable",
            " ".join(problems),
            keys=candidates,
        )
    names = ", ".join(k.id for k in keys)
    run.report.passed(
        Step.KEY_OWNERSHIP,
        "key_owned",
        f"The issuer lists the key {names} and the key names the issuer as its owner.",
        keys=[k.id for k in keys],
    )
    return keys


def _listed_keys(value: Any) -> dict[str, dict[str, Any] | None]:
    """Key ids the issuer lists in ``publicKey``, with the embedded object when there is one."""
    items = value if isinstance(value, list) else [value]
    listed: dict[str, dict[str, Any] | None] = {}
    for item in items:
        key_id = _id_of(item)
        if key_id is not None:
            listed[key_id] = item if isinstance(item, dict) else None
    return listed


def _load_key(run: _Run, key_id: str, embedded: dict[str, Any] | None) -> tuple[_Key | None, str]:
    if embedded is not None and isinstance(embedded.get("publicKeyPem"), str):
        # Embedded in the profile the issuer itself serves: as good as fetched.
        document: dict[str, Any] = embedded
    else:
        if not _is_http_url(key_id):
            return None, f"The key {key_id} is not an HTTP(S) URL, so it cannot be fetched."
        fetched, problem = _fetch_object(run, key_id, "key")
        if fetched is None:
            return None, problem
        if fetched.get("id") != key_id:
            return None, (
                f"The document at {key_id} says its id is {_describe(fetched.get('id'))}."
            )
        document = fetched
    types = _strings(document.get("type"))
    if types and "CryptographicKey" not in types:
        return None, f"The document at {key_id} is not a CryptographicKey."
    owner = _id_of(document.get("owner"))
    if owner != run.issuer_id:
        return None, (
            f"The key {key_id} names {_describe(owner)} as its owner, not the issuer "
            f"{run.issuer_id}; a key must belong to the issuer that lists it."
        )
    pem = document.get("publicKeyPem")
    if not isinstance(pem, str) or not pem.strip():
        return None, f"The key {key_id} has no publicKeyPem."
    return _Key(key_id, pem), ""


def _check_signature(run: _Run, token: str, keys: list[_Key]) -> dict[str, Any]:
    failures: list[str] = []
    for key in keys:
        try:
            payload = verify_compact_jws(token, key.pem, algorithms=OB2_ALGORITHMS)
        except AlgorithmNotAllowed as exc:
            raise run.fail(
                Step.SIGNATURE,
                "algorithm_not_allowed",
                f"The signature cannot be accepted: {exc.message} (OB 2.0 signed badges use RS256).",
                key=key.id,
            ) from None
        except ProofError as exc:
            failures.append(f"{key.id}: {exc.message}")
            continue
        except RecursionError:
            failures.append(f"{key.id}: the payload nests too deeply")
            continue
        run.report.passed(
            Step.SIGNATURE,
            "signature_valid",
            f"The RS256 signature verifies with the issuer's key {key.id}.",
            key=key.id,
            algorithm="RS256",
        )
        return payload
    raise run.fail(
        Step.SIGNATURE,
        "signature_invalid",
        "The signature does not verify with the issuer's key: the badge was altered "
        "or signed by someone else. (" + "; ".join(failures) + ")",
        keys=[k.id for k in keys],
    )


def _check_revocation_list(run: _Run) -> None:
    report = run.report
    issuer = run.issuer or {}
    list_ref = issuer.get("revocationList")
    if list_ref is None:
        report.not_applicable(
            Step.STATUS,
            "revocation_list",
            "The issuer publishes no revocation list, so revocation cannot be checked.",
        )
        return
    list_id = _id_of(list_ref)
    if list_id is None or not _is_http_url(list_id):
        report.warning(
            Step.STATUS,
            "revocation_list_unavailable",
            f"The issuer's revocationList is {_describe(list_ref)}, not an HTTP(S) URL; "
            "revocation could not be checked.",
        )
        return
    document, problem = _fetch_object(run, list_id, "revocation list")
    if document is None:
        # Verifiers warn rather than fail when the list cannot be read (FACTS §5 pitfall 6).
        report.warning(
            Step.STATUS,
            "revocation_list_unavailable",
            f"{problem} Revocation could not be checked.",
            url=list_id,
        )
        return
    entries = document.get("revokedAssertions")
    if "RevocationList" not in _strings(document.get("type")) or not isinstance(
        entries, list | str | dict
    ):
        report.warning(
            Step.STATUS,
            "revocation_list_invalid",
            f"The document at {list_id} is not a RevocationList with revokedAssertions; "
            "revocation could not be checked.",
            url=list_id,
        )
        return
    wanted = {v for v in (run.assertion.get("id"), run.assertion.get("uid")) if isinstance(v, str)}
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, str):
            entry_id, reason, revoked = entry, None, True
        elif isinstance(entry, dict):
            entry_id = entry.get("id", entry.get("uid"))
            reason = _string(entry.get("revocationReason"))
            revoked = entry.get("revoked", True) is not False
        else:
            continue
        if isinstance(entry_id, str) and entry_id in wanted and revoked:
            report.failed(
                Step.STATUS,
                "revoked",
                _revoked_message(
                    "The issuer revoked this badge (it is on its revocation list)", reason
                ),
                url=list_id,
                revocation_reason=reason,
            )
            return
    report.passed(
        Step.STATUS,
        "not_revoked",
        f"The assertion is not on the issuer's revocation list ({list_id}).",
        url=list_id,
    )


# ====================================================================== shared steps


def _check_context(report: Report, doc: dict[str, Any]) -> None:
    context = doc.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    if isinstance(first, str) and first in OB2_CONTEXTS:
        report.passed(Step.CONTEXT, "ob2_context", f"The @context is Open Badges 2.0 ({first}).")
    elif context is None:
        report.warning(
            Step.CONTEXT,
            "context_missing",
            "The assertion has no @context; it was read as Open Badges 2.0.",
        )
    else:
        report.warning(
            Step.CONTEXT,
            "context_unexpected",
            f"The @context is {_describe(first)}, not the Open Badges 2.0 context; "
            "it was read as Open Badges 2.0.",
        )


def _check_assertion_schema(run: _Run, *, signed: bool) -> None:
    doc = run.assertion
    problems: list[str] = []
    assertion_id = doc.get("id")
    if not isinstance(assertion_id, str) or not assertion_id.strip():
        problems.append("id is missing or not a string")
    elif not signed and not _is_http_url(assertion_id):
        problems.append("id of a hosted assertion must be an HTTP(S) URL")
    elif ":" not in assertion_id:
        problems.append("id must be an IRI (a URL or urn:uuid:…)")
    if "Assertion" not in _strings(doc.get("type")):
        problems.append("type must be 'Assertion'")
    problems += _recipient_problems(doc.get("recipient"))
    if _id_of(doc.get("badge")) is None:
        problems.append("badge must be the BadgeClass IRI or an embedded BadgeClass with an id")
    verification = _verification_of(doc)
    vtype = _first_string(verification.get("type")) if verification is not None else None
    expected = _SIGNED if signed else _HOSTED
    if verification is None:
        problems.append("verification is missing or not an object")
    elif vtype not in expected:
        problems.append(
            f"verification.type must be {' or '.join(sorted(expected))}, not {_describe(vtype)}"
        )
    elif signed and "creator" in verification and _id_of(verification["creator"]) is None:
        problems.append("verification.creator must be the URL of the signing key")
    run.issued_on, problem = _parse_datetime(doc.get("issuedOn"), "issuedOn", required=True)
    if problem:
        problems.append(problem)
    run.expires, problem = _parse_datetime(doc.get("expires"), "expires", required=False)
    if problem:
        problems.append(problem)
    if "revoked" in doc and not isinstance(doc["revoked"], bool):
        problems.append("revoked must be true or false")
    if "image" in doc and _id_of(doc["image"]) is None:
        problems.append("image must be a URL or an Image object with an id")
    if problems:
        raise run.fail(
            Step.SCHEMA,
            "assertion_invalid",
            "The assertion is not valid Open Badges 2.0: " + "; ".join(problems) + ".",
            problems=problems,
        )
    recipient = doc["recipient"]
    run.report.summary.update(
        {
            "id": assertion_id,
            "issued_on": doc.get("issuedOn"),
            "expires": doc.get("expires"),
            "recipient_type": recipient.get("type"),
        }
    )
    run.report.passed(Step.SCHEMA, "assertion_schema", "The assertion has every required property.")


def _recipient_problems(recipient: Any) -> list[str]:
    if not isinstance(recipient, dict):
        return ["recipient must be an IdentityObject"]
    problems: list[str] = []
    rtype = recipient.get("type")
    if rtype not in _RECIPIENT_TYPES:
        problems.append(
            f"recipient.type must be one of {', '.join(sorted(_RECIPIENT_TYPES))}, "
            f"not {_describe(rtype)}"
        )
    identity = recipient.get("identity")
    hashed = recipient.get("hashed")
    if not isinstance(identity, str) or not identity:
        problems.append("recipient.identity is missing or not a string")
    if not isinstance(hashed, bool):
        problems.append("recipient.hashed must be true or false")
    elif hashed and isinstance(identity, str) and not _HASH_RE.fullmatch(identity):
        problems.append(
            "recipient.identity must be 'sha256$<64 hex>' or 'md5$<32 hex>' when hashed"
        )
    if (
        "salt" in recipient
        and recipient["salt"] is not None
        and not isinstance(recipient["salt"], str)
    ):
        problems.append("recipient.salt must be a string")
    return problems


def _check_badge_class(run: _Run) -> None:
    ref = run.assertion.get("badge")
    badge_id = _id_of(ref) or ""  # the assertion schema step made sure there is one
    if isinstance(ref, dict):
        badge = ref
        origin = "embedded in the assertion"
    else:
        if not _is_http_url(badge_id):
            raise run.fail(
                Step.SCHEMA,
                "badgeclass_unreachable",
                f"The BadgeClass {badge_id} is neither embedded nor an HTTP(S) URL, so it "
                "cannot be read.",
            )
        fetched, problem = _fetch_object(run, badge_id, "BadgeClass")
        if fetched is None:
            raise run.fail(Step.SCHEMA, "badgeclass_unreachable", problem, url=badge_id)
        if fetched.get("id") != badge_id:
            raise run.fail(
                Step.SCHEMA,
                "badgeclass_id_mismatch",
                f"The document at {badge_id} says its id is {_describe(fetched.get('id'))}.",
                url=badge_id,
            )
        badge = fetched
        origin = f"fetched from {badge_id}"
    run.badge = badge

    problems: list[str] = []
    if "BadgeClass" not in _strings(badge.get("type")):
        problems.append("type must be 'BadgeClass'")
    for name in ("name", "description"):
        if not _nonempty_string(badge.get(name)):
            problems.append(f"{name} is missing or empty")
    image = _id_of(badge.get("image"))
    if image is None:
        problems.append("image is missing (a PNG or SVG URL or data URI)")
    elif image.startswith("data:") and not image.startswith(
        ("data:image/png", "data:image/svg+xml")
    ):
        problems.append("an image data URI must be image/png or image/svg+xml")
    criteria = badge.get("criteria")
    if not (
        _id_of(criteria) is not None
        or (isinstance(criteria, dict) and _nonempty_string(criteria.get("narrative")))
    ):
        problems.append("criteria must be a URL or a Criteria object with an id or narrative")
    issuer_id = _id_of(badge.get("issuer"))
    if issuer_id is None:
        problems.append("issuer must be the issuer Profile's id or an embedded Profile with an id")

    run.report.summary.update(
        {
            "badge_id": badge_id,
            "name": _string(badge.get("name")),
            "description": _string(badge.get("description")),
            "image": image,
        }
    )
    if issuer_id is None:
        raise run.fail(
            Step.SCHEMA,
            "badgeclass_invalid",
            f"The BadgeClass ({origin}) is not valid Open Badges 2.0: " + "; ".join(problems) + ".",
            problems=problems,
        )
    run.issuer_id = issuer_id
    if problems:
        # Not fatal: the issuer is known, so the remaining checks still tell the user more.
        run.report.failed(
            Step.SCHEMA,
            "badgeclass_invalid",
            f"The BadgeClass ({origin}) is not valid Open Badges 2.0: " + "; ".join(problems) + ".",
            problems=problems,
        )
    else:
        run.report.passed(
            Step.SCHEMA,
            "badgeclass_schema",
            f"The BadgeClass {_quoted(badge.get('name'))} ({origin}) has every required property.",
        )


def _check_issuer(run: _Run) -> None:
    issuer_id = run.issuer_id
    # The issuer is the BadgeClass's issuer (an Assertion has none of its own), and its
    # policy and keys count only as served from its own id: an embedded copy proves nothing.
    if not _is_http_url(issuer_id):
        raise run.fail(
            Step.ISSUER,
            "issuer_unresolvable",
            f"The issuer id {issuer_id} is not an HTTP(S) URL, so the issuer's profile, "
            "verification policy and keys cannot be fetched.",
        )
    issuer, problem = _fetch_object(run, issuer_id, "issuer profile")
    if issuer is None:
        raise run.fail(Step.ISSUER, "issuer_unreachable", problem, url=issuer_id)
    if issuer.get("id") != issuer_id:
        raise run.fail(
            Step.ISSUER,
            "issuer_id_mismatch",
            f"The document at {issuer_id} says its id is {_describe(issuer.get('id'))}.",
            url=issuer_id,
        )
    run.issuer = issuer
    name = _string(issuer.get("name"))
    run.report.summary.update({"issuer": name, "issuer_id": issuer_id})
    types = _strings(issuer.get("type"))
    if types and not types & _ISSUER_TYPES:
        raise run.fail(
            Step.ISSUER,
            "issuer_invalid",
            f"The document at {issuer_id} is a {', '.join(sorted(types))}, not an issuer Profile.",
            url=issuer_id,
        )
    missing = [p for p in ("name", "url", "email") if not _nonempty_string(issuer.get(p))]
    if not types:
        missing.insert(0, "type")
    if missing:
        run.report.warning(
            Step.ISSUER,
            "issuer_incomplete",
            f"The issuer profile {issuer_id} lacks {', '.join(missing)}, which Open Badges 2.0 "
            "requires of an issuer.",
            missing=missing,
        )
    run.report.passed(
        Step.ISSUER,
        "issuer_profile",
        f"The issuer {_quoted(name)} was read from its own id {issuer_id}.",
        url=issuer_id,
    )


def _check_validity(run: _Run) -> None:
    report = run.report
    now = run.ctx.now if run.ctx.now.tzinfo is not None else run.ctx.now.replace(tzinfo=UTC)
    issued_on, expires = run.issued_on, run.expires
    if issued_on is None:  # the assertion schema step already failed the run
        raise _Stop("issuedOn")
    if issued_on > now + CLOCK_SKEW:
        report.failed(
            Step.VALIDITY,
            "not_yet_valid",
            f"The badge says it was issued on {run.assertion.get('issuedOn')}, which is in the future.",
        )
    else:
        report.passed(
            Step.VALIDITY,
            "issued_on",
            f"Issued on {run.assertion.get('issuedOn')}, not in the future.",
        )
    if expires is None:
        report.not_applicable(Step.VALIDITY, "expires", "The badge does not expire.")
    elif expires < issued_on:
        report.failed(
            Step.VALIDITY,
            "expires_before_issued",
            f"The badge expires ({run.assertion.get('expires')}) before it was issued "
            f"({run.assertion.get('issuedOn')}).",
        )
    elif expires <= now:
        report.failed(
            Step.VALIDITY,
            "expired",
            f"The badge expired on {run.assertion.get('expires')}.",
        )
    else:
        report.passed(
            Step.VALIDITY,
            "not_expired",
            f"The badge is valid until {run.assertion.get('expires')}.",
        )


def _check_recipient(run: _Run) -> None:
    report = run.report
    candidate = run.ctx.recipient
    if candidate is None or not candidate.strip():
        report.not_applicable(
            Step.RECIPIENT,
            "recipient",
            "No recipient identifier was given, so whom the badge was issued to was not checked.",
        )
        return
    recipient = run.assertion.get("recipient")
    if not isinstance(recipient, dict) or not isinstance(recipient.get("identity"), str):
        raise run.fail(
            Step.RECIPIENT, "recipient_mismatch", "The badge names no recipient to compare with."
        )
    rtype = recipient.get("type")
    salt = recipient.get("salt") if isinstance(recipient.get("salt"), str) else None
    matched = any(
        _identity_matches(value, recipient["identity"], salt, recipient.get("hashed") is True)
        for value in _candidates(candidate, rtype)
    )
    if matched:
        report.passed(
            Step.RECIPIENT,
            "recipient_match",
            f"The badge was issued to {candidate.strip()} ({rtype}).",
        )
    else:
        report.failed(
            Step.RECIPIENT,
            "recipient_mismatch",
            f"The badge was not issued to {candidate.strip()}.",
            recipient_type=rtype,
        )


def _candidates(value: str, rtype: Any) -> list[str]:
    """The spellings of ``value`` worth hashing: as typed and as badger normalises it.

    The reference verifier hashes the identifier verbatim (FACTS §1.5, §5 pitfall
    24); issuers that lower-case emails first (badger does) need the normalised form.
    """
    text = value.strip()
    found = [text]
    if rtype == "email":
        bare = text.removeprefix("mailto:")
        found += [bare, bare.lower()]
        with contextlib.suppress(ValidationError):
            found.append(normalize_email(bare))
    elif rtype == "telephone":
        found.append(text.removeprefix("tel:"))
    return list(dict.fromkeys(found))


def _identity_matches(candidate: str, identity: str, salt: str | None, hashed: bool) -> bool:
    if not hashed:
        # Plain identities are not secrets, but compare bytes: compare_digest refuses non-ASCII str.
        return hmac.compare_digest(candidate.encode("utf-8"), identity.encode("utf-8"))
    algorithm, _, digest = identity.partition("$")
    if algorithm.lower() == "md5":
        # OB 2.0 §IdentityHash still allows md5; it identifies, it does not protect.
        expected = hashlib.md5((candidate + (salt or "")).encode("utf-8"), usedforsecurity=False)
        return hmac.compare_digest(expected.hexdigest(), digest.lower())
    return identity_matches(candidate, identity, salt, hashed)


# ====================================================================== helpers


def _fetch_object(run: _Run, url: str, what: str) -> tuple[dict[str, Any] | None, str]:
    """A JSON object from ``url``, or ``None`` and a sentence saying why not."""
    try:
        status, body = run.ctx.retrieve_json(url, accept=_ACCEPT)
    except FetchError as exc:
        return None, f"The {what} could not be fetched from {url}: {exc.message}"
    except RecursionError:
        return None, f"The {what} at {url} nests too deeply to be read."
    if not 200 <= status < 300:
        return None, f"The {what} could not be fetched from {url}: the server answered {status}."
    if not isinstance(body, dict):
        return None, f"The {what} at {url} is not a JSON object."
    return body, ""


def _verification_of(doc: dict[str, Any]) -> dict[str, Any] | None:
    # The OB 2.0 context aliases "verify" to "verification" (FACTS §1.1).
    value = doc.get("verification", doc.get("verify"))
    return value if isinstance(value, dict) else None


def _parse_datetime(value: Any, name: str, *, required: bool) -> tuple[datetime | None, str]:
    if value is None:
        return None, (f"{name} is missing" if required else "")
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int | float):
            return None, f"{name} must be an ISO 8601 date-time (Unix timestamps are OB 1.x)"
        return None, f"{name} must be an ISO 8601 date-time string"
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None, f"{name} {value!r} is not an ISO 8601 date-time"
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None, f"{name} {value!r} has no time zone (Z or ±hh:mm is required)"
    return parsed, ""


def _revoked_message(prefix: str, reason: str | None) -> str:
    return f"{prefix}: {reason}." if reason else f"{prefix}; no reason was given."


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _id_of(value: Any) -> str | None:
    """The IRI of an ``@id``-typed property: the string itself or an embedded object's id."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and value.strip():
        return value
    return None


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _first_string(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _nonempty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else "(unnamed)"


def _describe(value: Any) -> str:
    """A short, safe rendering of an untrusted value for a message."""
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
