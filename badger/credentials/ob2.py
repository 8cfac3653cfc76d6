"""Open Badges 2.0 documents: issuer Profile, BadgeClass, Assertions, RevocationList.

IMS Open Badges 2.0 Final (FACTS §1).  Every builder returns an unsigned
``dict``; signing a JWS over :func:`signed_assertion` happens in
``badger.proofs``.  Shapes follow the spec's own examples
(``ob_v2p0/examples``): linked objects are referenced by their hosted URL
(``badge``, ``issuer``, ``publicKey``, ``revocationList``), so a verifier
fetches the current BadgeClass and Profile from the issuer (OB 2.0
§Verification, FACTS §1.11).

Nulls, empty strings and empty arrays are omitted (:func:`~badger.credentials.model.prune`);
the single exception is ``revokedAssertions``, which the RevocationList class
requires even when nothing is revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from badger.credentials.model import (
    AchievementInfo,
    Alignment,
    AwardInfo,
    EvidenceInfo,
    IssuerInfo,
    RecipientInfo,
    format_datetime,
    prune,
    to_json_bytes,
)
from badger.domain.recipients import identity_hash

__all__ = [
    "OB2_CONTEXT",
    "badge_class",
    "hosted_assertion",
    "issuer_profile",
    "recipient_identity",
    "revocation_list",
    "signed_assertion",
    "to_json_bytes",
]

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
"""OB 2.0 §JSON-LD: the context of every Badge Object (FACTS §0)."""

_IMAGE_DATA_URI_TYPES = ("data:image/png", "data:image/svg+xml")


def _require(field: str, value: str | None, why: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"OB 2.0 needs {field}: {why}.")
    return value


def _check_image(url: str) -> str:
    # The reference validator accepts data URIs only for PNG and SVG (FACTS §1.9, §5.14).
    if url.startswith("data:") and not url.startswith(_IMAGE_DATA_URI_TYPES):
        raise ValueError("An OB 2.0 image data URI must be image/png or image/svg+xml.")
    return url


def _alignment(alignment: Alignment) -> dict[str, Any]:
    """OB 2.0 §AlignmentObject (no ``targetType``: that term is OB 3.0 only)."""
    return {
        "targetName": alignment.target_name,
        "targetUrl": alignment.target_url,
        "targetDescription": alignment.target_description,
        "targetFramework": alignment.target_framework,
        "targetCode": alignment.target_code,
    }


def _evidence(item: EvidenceInfo) -> dict[str, Any]:
    """OB 2.0 §Evidence as an object (``type`` defaults to ``Evidence``)."""
    return {
        "id": item.url,
        "name": item.name,
        "description": item.description,
        "narrative": item.narrative,
    }


def issuer_profile(issuer: IssuerInfo) -> dict[str, Any]:
    """The hosted issuer Profile (OB 2.0 §Profile; FACTS §1.4).

    ``type`` is ``Issuer``, as in the spec example.  The reference validator
    requires ``id``, ``type``, ``name``, ``url`` and ``email`` for an issuer,
    so a missing ``url`` or ``email`` is an error here, not a broken profile
    later.  ``publicKey`` lists every published CryptographicKey, retired ones
    included, so older signed badges keep verifying.
    """
    url = _require("an issuer url", issuer.url, "the reference validator requires it")
    email = _require("an issuer email", issuer.email, "the reference validator requires it")
    return prune(
        {
            "@context": OB2_CONTEXT,
            "type": "Issuer",
            "id": issuer.ob2_profile_url,
            "name": issuer.name,
            "url": url,
            "email": email,
            "description": issuer.description,
            "image": _check_image(issuer.image_url) if issuer.image_url else None,
            "publicKey": list(issuer.ob2_public_key_urls),
            "revocationList": issuer.ob2_revocation_list_url,
        }
    )


def badge_class(achievement: AchievementInfo, issuer: IssuerInfo) -> dict[str, Any]:
    """The hosted BadgeClass (OB 2.0 §BadgeClass; FACTS §1.3).

    Required: ``id``, ``type``, ``name``, ``description``, ``image`` (PNG or
    SVG), ``criteria`` and ``issuer`` (the hosted Profile URL).  Criteria carry
    the narrative and, when there is one, the human-readable page as ``id``.
    """
    image = _require("a BadgeClass image", achievement.image_url, "BadgeClass.image is required")
    return prune(
        {
            "@context": OB2_CONTEXT,
            "type": "BadgeClass",
            "id": achievement.ob2_badgeclass_url,
            "name": achievement.name,
            "description": achievement.description,
            "image": _check_image(image),
            "criteria": {
                "id": achievement.criteria_url,
                "narrative": achievement.criteria_narrative,
            },
            "issuer": issuer.ob2_profile_url,
            "tags": list(achievement.tags),
            "alignment": [_alignment(a) for a in achievement.alignments],
            "version": achievement.version,
        }
    )


def recipient_identity(recipient: RecipientInfo) -> dict[str, Any]:
    """A hashed, salted IdentityObject (OB 2.0 §IdentityObject; FACTS §1.5).

    Email when there is one (every OB 2.0 backpack and displayer matches on
    it); otherwise the DID with ``type`` ``id``.  ``identity`` is
    ``sha256$`` + hex(sha256(identifier + salt)).
    """
    if recipient.email:
        kind, value = "email", recipient.email
    elif recipient.did:
        kind, value = "id", recipient.did
    else:  # pragma: no cover - RecipientInfo refuses a recipient with neither
        raise ValueError("The recipient has neither an email address nor a DID.")
    return {
        "type": kind,
        "hashed": True,
        "salt": recipient.salt,
        "identity": identity_hash(value, recipient.salt),
    }


def _assertion(
    assertion_id: str,
    verification: dict[str, str],
    award: AwardInfo,
    achievement: AchievementInfo,
    recipient: RecipientInfo,
) -> dict[str, Any]:
    return prune(
        {
            "@context": OB2_CONTEXT,
            "type": "Assertion",
            "id": assertion_id,
            "recipient": recipient_identity(recipient),
            "badge": achievement.ob2_badgeclass_url,
            "verification": verification,
            "issuedOn": format_datetime(award.issued_on),
            "expires": format_datetime(award.valid_until) if award.valid_until else None,
            "image": _check_image(award.image_url) if award.image_url else None,
            "evidence": [_evidence(item) for item in award.evidence],
            "narrative": award.narrative,
        }
    )


def hosted_assertion(
    award: AwardInfo,
    achievement: AchievementInfo,
    issuer: IssuerInfo,
    recipient: RecipientInfo,
) -> dict[str, Any]:
    """A hosted Assertion (OB 2.0 §Assertion, §HostedBadge; FACTS §1.2, §1.11).

    ``id`` is the URL the assertion is served at, and verifiers only trust
    the copy fetched from there.  With no verification policy in the issuer
    Profile, the allowed origin is the host of the issuer ``id`` (OB 2.0
    §VerificationObject), so an assertion URL on another host is refused here.
    """
    issuer_host = urlsplit(issuer.ob2_profile_url).hostname
    assertion_host = urlsplit(award.ob2_assertion_url).hostname
    if not assertion_host or assertion_host != issuer_host:
        raise ValueError(
            f"The hosted assertion URL {award.ob2_assertion_url!r} is not on the issuer's "
            f"host {issuer_host!r}; OB 2.0 verifiers would reject it."
        )
    return _assertion(award.ob2_assertion_url, {"type": "hosted"}, award, achievement, recipient)


def signed_assertion(
    award: AwardInfo,
    achievement: AchievementInfo,
    issuer: IssuerInfo,
    recipient: RecipientInfo,
    *,
    creator: str,
) -> dict[str, Any]:
    """The payload of a signed (JWS) Assertion (OB 2.0 §SignedBadge; FACTS §1.10).

    ``id`` is ``urn:uuid:<award public id>``, the spec's recommendation.
    ``creator`` is the URL of the CryptographicKey that will sign it; it must
    be one of the issuer's published ``publicKey`` URLs, because verifiers
    only trust keys the issuer Profile lists.
    """
    if creator not in issuer.ob2_public_key_urls:
        raise ValueError(
            f"The signing key {creator!r} is not among the issuer's published public keys."
        )
    return _assertion(
        uuid.UUID(award.public_id).urn,
        {"type": "SignedBadge", "creator": creator},
        award,
        achievement,
        recipient,
    )


def revocation_list(
    issuer: IssuerInfo, revoked: Iterable[tuple[str, str | None]]
) -> dict[str, Any]:
    """The issuer's RevocationList for signed assertions (OB 2.0 §RevocationList; FACTS §1.8).

    ``revoked`` holds ``(assertion id, reason or None)`` pairs; assertion ids
    are the signed assertions' ``urn:uuid:…``.  ``revokedAssertions`` is
    required, so it stays (as ``[]``) when nothing is revoked.
    """
    list_id = _require(
        "the issuer's revocationList URL",
        issuer.ob2_revocation_list_url,
        "RevocationList.id is where the list is served",
    )
    entries = [
        prune({"id": assertion_id, "revocationReason": reason}) for assertion_id, reason in revoked
    ]
    for entry in entries:
        _require("a revoked assertion id", entry.get("id"), "each entry names an assertion")
    document = prune(
        {
            "@context": OB2_CONTEXT,
            "id": list_id,
            "type": "RevocationList",
            "issuer": issuer.ob2_profile_url,
        }
    )
    document["revokedAssertions"] = entries
    return document
