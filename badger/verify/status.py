"""The status step of OB 3.0 verification (FACTS §2.8, §5.4-6).

``check_status`` adds one STATUS check per ``credentialStatus`` entry:

* ``BitstringStatusListEntry`` (W3C Bitstring Status List v1.0 §3.2 "Validate
  Algorithm"): dereference ``statusListCredential``, verify *its* Data
  Integrity proof with the same key rules as the credential, check that it was
  issued by the credential's issuer and for the same ``statusPurpose``, decode
  the list (at least 131,072 entries) and read the bit. A set bit means
  ``revoked`` (purpose ``revocation``) or ``suspended`` (``suspension``).
* ``1EdTechRevocationList`` (VCRL 1.0, as the 1EdTech validator reads it): GET
  the list; an entry in ``revokedCredential`` whose ``id`` is the credential
  id and whose ``revoked`` is true or absent means ``revoked``.
* Anything else (``StatusList2021Entry`` among them) is reported as a warning
  saying it was not checked.

A list that cannot be fetched is a *warning* (``status_unavailable``): the
credential may be fine, badger just cannot tell. A list that can be fetched
but is not trustworthy (bad proof, other issuer, other purpose, malformed) is
a failure: the status cannot be established from what the issuer published.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from badger.credentials.status_list import StatusListError, decode_list
from badger.proofs.di_eddsa_rdfc_2022 import verify_proof
from badger.verify.context import VerifyContext
from badger.verify.ports import FetchError
from badger.verify.report import Report, Step
from badger.verify.resolve import (
    KeyResolutionError,
    Ownership,
    ResolvedKey,
    resolve_verification_method,
)

__all__ = ["check_status", "issuer_id_of"]

BITSTRING = "BitstringStatusListEntry"
REVOCATION_LIST = "1EdTechRevocationList"
_SET_CODES = {"revocation": "revoked", "suspension": "suspended"}


def issuer_id_of(document: Mapping[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _types(value: Any) -> list[str]:
    raw = value if isinstance(value, list) else [value]
    return [t for t in raw if isinstance(t, str)]


def check_status(credential: Mapping[str, Any], ctx: VerifyContext, report: Report) -> None:
    """Add the STATUS checks for ``credential`` to ``report`` (never raises for bad input)."""
    entries = credential.get("credentialStatus")
    if entries is None or entries == []:
        report.not_applicable(
            Step.STATUS, "no_status", "The credential has no credentialStatus; nothing to check."
        )
        return
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, Mapping):
            report.failed(
                Step.STATUS, "status_malformed", "A credentialStatus entry is not a JSON object."
            )
            continue
        types = _types(entry.get("type"))
        if BITSTRING in types:
            _check_bitstring(entry, credential, ctx, report)
        elif REVOCATION_LIST in types:
            _check_revocation_list(entry, credential, ctx, report)
        else:
            report.warning(
                Step.STATUS,
                "status_type_not_checked",
                f"Status type {', '.join(types) or 'unknown'} is not one badger checks "
                f"({BITSTRING}, {REVOCATION_LIST}); the credential's status is unknown.",
                type=types,
            )


# ---------------------------------------------------------------- Bitstring Status List


def _parse_index(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_bitstring(
    entry: Mapping[str, Any], credential: Mapping[str, Any], ctx: VerifyContext, report: Report
) -> None:
    # 1. The entry itself: purpose, index, list URL.
    purpose = entry.get("statusPurpose")
    index = _parse_index(entry.get("statusListIndex"))
    list_url = entry.get("statusListCredential")
    if not isinstance(purpose, str) or index is None or not isinstance(list_url, str):
        report.failed(
            Step.STATUS,
            "status_malformed",
            "The BitstringStatusListEntry needs statusPurpose, a non-negative statusListIndex "
            "and a statusListCredential URL.",
        )
        return
    size = entry.get("statusSize", 1)
    if size != 1:
        report.warning(
            Step.STATUS,
            "status_type_not_checked",
            f"statusSize {size!r} (multi-bit status messages) is not checked by badger.",
        )
        return

    # 2. Dereference the list credential.
    try:
        status, body = ctx.retrieve_json(list_url)
    except FetchError as exc:
        report.warning(
            Step.STATUS,
            "status_unavailable",
            f"The status list {list_url} could not be fetched ({exc.message}); "
            f"whether the credential is {_SET_CODES.get(purpose, purpose)} is unknown.",
            url=list_url,
        )
        return
    if status >= 400 or not isinstance(body, dict):
        report.warning(
            Step.STATUS,
            "status_unavailable",
            f"The status list {list_url} answered HTTP {status} without a status list; "
            "the credential's status is unknown.",
            url=list_url,
        )
        return

    # 3. The list is a BitstringStatusListCredential by the same issuer.
    if "BitstringStatusListCredential" not in _types(body.get("type")):
        report.failed(
            Step.STATUS,
            "status_list_malformed",
            f"{list_url} is not a BitstringStatusListCredential.",
            url=list_url,
        )
        return
    issuer_id = issuer_id_of(credential)
    list_issuer = issuer_id_of(body)
    if list_issuer != issuer_id:
        report.failed(
            Step.STATUS,
            "status_list_issuer_mismatch",
            f"The status list was issued by {list_issuer!r}, not by the credential's issuer "
            f"{issuer_id!r}; it cannot speak for this credential.",
            url=list_url,
        )
        return

    # 4. Its own proof verifies, with a key that is not someone else's.
    keys: list[ResolvedKey] = []

    def resolver(method: str) -> Any:
        resolved = resolve_verification_method(method, list_issuer, ctx)
        keys.append(resolved)
        return resolved.public_key

    try:
        verified = verify_proof(body, resolver)
    except (KeyResolutionError, ValueError, TypeError, RecursionError) as exc:  # defensive
        report.failed(Step.STATUS, "status_list_invalid", f"The status list's proof: {exc}")
        return
    if not verified.verified:
        report.failed(
            Step.STATUS,
            "status_list_invalid",
            f"The status list's proof does not verify: {verified.reason}.",
            url=list_url,
            proof_code=verified.code,
        )
        return
    not_owned = [k for k in keys if k.ownership is Ownership.NOT_OWNED]
    if not_owned:
        report.failed(
            Step.STATUS,
            "status_list_invalid",
            f"The status list is signed with a key that is not its issuer's: {not_owned[0].reason}.",
            url=list_url,
        )
        return
    ownership_note = "; ".join(k.reason for k in keys if k.ownership is Ownership.UNKNOWN)

    # 5. Same purpose, decodable, long enough, index in range.
    subject = body.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        report.failed(
            Step.STATUS, "status_list_malformed", "The status list has no credentialSubject."
        )
        return
    if subject.get("statusPurpose") != purpose:
        report.failed(
            Step.STATUS,
            "status_purpose_mismatch",
            f"The entry's statusPurpose {purpose!r} does not match the list's "
            f"{subject.get('statusPurpose')!r}.",
            url=list_url,
        )
        return
    try:
        bits = decode_list(subject.get("encodedList"))
        is_set = bits.get(index)
    except StatusListError as exc:
        report.failed(
            Step.STATUS, "status_list_malformed", f"{exc.reason} ({exc.code})", url=list_url
        )
        return

    # 6. Read the bit.
    details: dict[str, Any] = {"url": list_url, "index": index, "purpose": purpose}
    if ownership_note:
        details["key_ownership"] = ownership_note
    valid_until = _parse_time(body.get("validUntil"))
    if valid_until is not None and valid_until <= ctx.now:
        report.warning(
            Step.STATUS,
            "status_list_stale",
            f"The status list expired at {body.get('validUntil')}; its answer may be out of date.",
            url=list_url,
        )
    if purpose in _SET_CODES:
        if is_set:
            report.failed(
                Step.STATUS,
                _SET_CODES[purpose],
                f"The issuer has marked this credential {_SET_CODES[purpose]} "
                f"(status list {list_url}, index {index}).",
                **details,
            )
        else:
            report.passed(
                Step.STATUS,
                f"not_{_SET_CODES[purpose]}",
                f"The credential is not {_SET_CODES[purpose]} (status list {list_url}, "
                f"index {index}).",
                **details,
            )
    elif purpose == "refresh" and is_set:
        report.warning(
            Step.STATUS,
            "refresh_available",
            "The issuer has published a newer copy of this credential.",
            **details,
        )
    elif purpose == "refresh":
        report.passed(Step.STATUS, "no_refresh", "No newer copy is flagged.", **details)
    else:
        report.warning(
            Step.STATUS,
            "status_type_not_checked",
            f"statusPurpose {purpose!r} is not one badger interprets.",
            **details,
        )


# ---------------------------------------------------------------- 1EdTech Revocation List


def _check_revocation_list(
    entry: Mapping[str, Any], credential: Mapping[str, Any], ctx: VerifyContext, report: Report
) -> None:
    list_url = entry.get("id")
    if not isinstance(list_url, str) or not list_url:
        report.failed(
            Step.STATUS, "status_malformed", "The 1EdTechRevocationList entry has no id URL."
        )
        return
    try:
        status, body = ctx.retrieve_json(list_url)
    except FetchError as exc:
        report.warning(
            Step.STATUS,
            "status_unavailable",
            f"The revocation list {list_url} could not be fetched ({exc.message}); "
            "whether the credential is revoked is unknown.",
            url=list_url,
        )
        return
    revoked = body.get("revokedCredential") if isinstance(body, dict) else None
    if status >= 400 or not isinstance(revoked, list):
        report.warning(
            Step.STATUS,
            "status_unavailable",
            f"The revocation list {list_url} answered HTTP {status} without a "
            "revokedCredential list; whether the credential is revoked is unknown.",
            url=list_url,
        )
        return
    credential_id = credential.get("id")
    for item in revoked:
        if (
            isinstance(item, Mapping)
            and item.get("id") == credential_id
            and item.get("revoked", True) is True
        ):
            reason = item.get("revocationReason")
            report.failed(
                Step.STATUS,
                "revoked",
                "The issuer has revoked this credential"
                + (f": {reason}" if isinstance(reason, str) and reason else ".")
                + f" (revocation list {list_url})",
                url=list_url,
            )
            return
    report.passed(
        Step.STATUS,
        "not_revoked",
        f"The credential is not on the issuer's revocation list {list_url}.",
        url=list_url,
    )
