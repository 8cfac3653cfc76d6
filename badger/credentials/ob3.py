"""Open Badges 3.0 documents: Profile, Achievement and the OpenBadgeCredential.

1EdTech Open Badges 3.0 (FACTS §2.1-2.8).  Builders return unsigned ``dict``s;
Data Integrity proofs and VC-JWTs are added in ``badger.proofs``.  Every
document passes both the strict AchievementCredential JSON Schema and its
JSON-LD adaptation (the conformance tests prove it): classes carry ``type``
arrays, images are Image objects, credits are JSON numbers, date-times end in
``Z``, and nulls, empty strings and empty arrays are omitted (OB 3.0 §A.1).

Two decisions shape the credential; both are documented where they are made:

* ``credentialSchema`` names the OB schema with ``1EdTechJsonSchemaValidator2019``
  (the 1EdTech validator validates against it, FACTS §2.7).  That type is
  defined only in the ``extensions.json`` context, and JSON-LD in safe mode
  (the DCC verifier's stack) rejects an undefined type (FACTS §5.2).  So the
  context list is computed from the document: ``extensions.json`` is appended
  exactly when one of the three 1EdTech-only types appears.
* ``credentialStatus`` is ONE ``BitstringStatusListEntry`` (see
  :func:`open_badge_credential`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from badger.credentials.model import (
    AchievementInfo,
    Alignment,
    AwardInfo,
    EvidenceInfo,
    IssuerInfo,
    RecipientInfo,
    ResultDescriptionInfo,
    ResultInfo,
    format_datetime,
    json_number,
    prune,
    to_json_bytes,
)
from badger.credentials.status_list import status_entry
from badger.domain.errors import ValidationError
from badger.domain.ledger import Ledger, Policy
from badger.domain.recipients import identity_hash

__all__ = [
    "ACHIEVEMENT_CREDENTIAL_SCHEMA",
    "EXTENSIONS_CONTEXT",
    "OB3_CONTEXT",
    "ONE_EDTECH_TYPES",
    "VC_V2_CONTEXT",
    "CountedCredit",
    "achievement",
    "contexts_for",
    "open_badge_credential",
    "profile",
    "renewal_evidence",
    "renewal_results",
    "subject_identity",
    "to_json_bytes",
    "walk_types",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
"""First ``@context`` entry, exactly (OB 3.0 §AchievementCredential; FACTS §0, §5.1)."""

OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
"""Second ``@context`` entry: the current OB 3.0 context (FACTS §0)."""

EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
"""Defines the 1EdTech-only VC extension types (FACTS §0, §5.2)."""

ONE_EDTECH_TYPES = frozenset(
    {"1EdTechJsonSchemaValidator2019", "1EdTechRevocationList", "1EdTechCredentialRefresh"}
)
"""Types defined only by :data:`EXTENSIONS_CONTEXT`, not by the VC 2.0 or OB contexts."""

ACHIEVEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
"""``credentialSchema.id`` of the AchievementCredential JSON Schema (FACTS §2.7)."""

StatusPurpose = Literal["revocation", "suspension"]


def _image(url: str | None) -> dict[str, str] | None:
    """OB 3.0 §Image: an object with ``id`` and ``type`` ``"Image"``, never a bare URL."""
    return {"id": url, "type": "Image"} if url else None


def _alignment(alignment: Alignment) -> dict[str, Any]:
    """OB 3.0 §Alignment (``type`` array required; FACTS §2.3)."""
    return {
        "type": ["Alignment"],
        "targetCode": alignment.target_code,
        "targetDescription": alignment.target_description,
        "targetName": alignment.target_name,
        "targetFramework": alignment.target_framework,
        "targetType": alignment.target_type,
        "targetUrl": alignment.target_url,
    }


def _result_description(description: ResultDescriptionInfo) -> dict[str, Any]:
    """OB 3.0 §ResultDescription; value bounds are strings in the data model."""
    return {
        "id": description.id,
        "type": ["ResultDescription"],
        "alignment": [_alignment(a) for a in description.alignments],
        "allowedValue": list(description.allowed_values),
        "name": description.name,
        "requiredValue": description.required_value,
        "resultType": description.result_type,
        "valueMax": description.value_max,
        "valueMin": description.value_min,
    }


def _result(result: ResultInfo) -> dict[str, Any]:
    """OB 3.0 §Result."""
    return {
        "type": ["Result"],
        "achievedLevel": result.achieved_level,
        "alignment": [_alignment(a) for a in result.alignments],
        "resultDescription": result.result_description,
        "status": result.status,
        "value": result.value,
    }


def _evidence(item: EvidenceInfo) -> dict[str, Any]:
    """OB 3.0 §Evidence (``type`` array required)."""
    return {
        "id": item.url,
        "type": ["Evidence"],
        "narrative": item.narrative,
        "name": item.name,
        "description": item.description,
    }


def profile(issuer: IssuerInfo) -> dict[str, Any]:
    """The issuer as an OB 3.0 §Profile, for embedding as ``issuer`` or ``creator``.

    ``id`` is the OB 3.0 issuer id, the controller of the signing keys
    (FACTS §5.7).  The 1EdTech validator wants an embedded object whose
    ``type`` contains ``Profile`` (FACTS §5.11).
    """
    return prune(
        {
            "id": issuer.id,
            "type": ["Profile"],
            "name": issuer.name,
            "url": issuer.url,
            "email": issuer.email,
            "description": issuer.description,
            "image": _image(issuer.image_url),
        }
    )


def achievement(achievement: AchievementInfo, issuer: IssuerInfo) -> dict[str, Any]:
    """OB 3.0 §Achievement (FACTS §2.3), with the issuer embedded as ``creator``.

    ``creditsAvailable`` is a JSON number (FACTS §2.5, §5.17).  ``criteria``
    carries the narrative and, when there is one, the criteria page as ``id``.
    """
    return _achievement(achievement, issuer)


def _achievement(achievement: AchievementInfo, issuer: IssuerInfo) -> dict[str, Any]:
    credits = achievement.credits_available
    return prune(
        {
            "id": achievement.id,
            "type": ["Achievement"],
            "name": achievement.name,
            "description": achievement.description,
            "criteria": {
                "id": achievement.criteria_url,
                "narrative": achievement.criteria_narrative,
            },
            "image": _image(achievement.image_url),
            "achievementType": achievement.achievement_type,
            "creditsAvailable": json_number(credits) if credits is not None else None,
            "tag": list(achievement.tags),
            "alignment": [_alignment(a) for a in achievement.alignments],
            "resultDescription": [_result_description(d) for d in achievement.result_descriptions],
            "humanCode": achievement.human_code,
            "fieldOfStudy": achievement.field_of_study,
            "version": achievement.version,
            "creator": profile(issuer),
        }
    )


def subject_identity(recipient: RecipientInfo) -> dict[str, Any]:
    """``id`` when the learner has a DID, else one hashed email IdentityObject.

    OB 3.0 §AchievementSubject requires ``id`` or at least one ``identifier``
    (FACTS §2.2).  A DID is the subject itself (and becomes the VC-JWT
    ``sub``); an email is only ever published hashed and salted
    (OB 3.0 §IdentityObject).
    """
    if recipient.did:
        return {"id": recipient.did}
    if not recipient.email:  # pragma: no cover - RecipientInfo refuses a recipient with neither
        raise ValueError("The recipient has neither an email address nor a DID.")
    return {
        "identifier": [
            {
                "type": "IdentityObject",
                "hashed": True,
                "identityHash": identity_hash(recipient.email, recipient.salt),
                "identityType": "emailAddress",
                "salt": recipient.salt,
            }
        ]
    }


def walk_types(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        declared = value.get("type")
        if isinstance(declared, str):
            yield declared
        elif isinstance(declared, list):
            yield from (t for t in declared if isinstance(t, str))
        for key, item in value.items():
            if key != "@context":
                yield from walk_types(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_types(item)


def contexts_for(document: dict[str, Any]) -> list[str]:
    """The ``@context`` list for an OB 3.0 document, in the required order.

    VC 2.0 first and OB 3.0 second (FACTS §5.1), then ``extensions.json`` only
    when a 1EdTech-only type occurs anywhere in the document, so that safe-mode
    JSON-LD processors find every type defined (FACTS §5.2) and documents
    without such types carry no unneeded context.
    """
    contexts = [VC_V2_CONTEXT, OB3_CONTEXT]
    if any(t in ONE_EDTECH_TYPES for t in walk_types(document)):
        contexts.append(EXTENSIONS_CONTEXT)
    return contexts


def open_badge_credential(
    award: AwardInfo,
    achievement: AchievementInfo,
    issuer: IssuerInfo,
    recipient: RecipientInfo,
    *,
    status_purpose: StatusPurpose | None = "revocation",
    credential_schema: bool = True,
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential (OB 3.0 §AchievementCredential; FACTS §2.1-2.2).

    ``credentialStatus``: the OB JSON Schema allows a single status object
    with an ``id`` (FACTS §2.8, §5.4), while VC 2.0 would allow an array of
    entries.  A credential therefore carries ONE ``BitstringStatusListEntry``,
    chosen by ``status_purpose``:

    * ``"revocation"`` (the default): the award's revocation entry.  The
      1EdTech validator evaluates only this purpose, and DCC tools only
      Bitstring lists, so this is what every verifier checks.  A suspension
      bit the award may also have is not expressed in the credential.
    * ``"suspension"``: the award's suspension entry, for certification and
      renewal credentials whose standing can lapse and be restored.  Such a
      credential is revoked by setting its suspension bit for good; the
      trade-off is that the 1EdTech validator does not evaluate suspension.
    * ``None``: no ``credentialStatus`` (the credential can never be revoked;
      opt in explicitly).

    The chosen entry must exist on the award; a missing one is an error, not
    a silently unrevocable credential.

    ``credential_schema`` adds the OB ``credentialSchema`` entry (default on;
    FACTS §2.7), which brings ``extensions.json`` into ``@context``.
    """
    if status_purpose is None:
        status = None
    elif status_purpose in ("revocation", "suspension"):
        ref = award.revocation if status_purpose == "revocation" else award.suspension
        if ref is None:
            raise ValueError(
                f"The award has no {status_purpose} status entry; give it one or pass "
                "status_purpose=None to issue a credential without credentialStatus."
            )
        status = status_entry(ref.list_url, ref.index, status_purpose)
    else:
        raise ValueError(f"Unknown status_purpose {status_purpose!r}.")

    credits = award.credits_earned
    subject = {
        "type": ["AchievementSubject"],
        **subject_identity(recipient),
        "achievement": _achievement(achievement, issuer),
        "creditsEarned": json_number(credits) if credits is not None else None,
        "image": _image(award.image_url),
        "narrative": award.narrative,
        "result": [_result(r) for r in award.results],
    }
    body: dict[str, Any] = {
        "id": award.ob3_credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": award.name or achievement.name,
        "issuer": profile(issuer),
        "validFrom": format_datetime(award.valid_from),
        "validUntil": format_datetime(award.valid_until) if award.valid_until else None,
        "awardedDate": format_datetime(award.issued_on),
        "credentialSubject": subject,
        "evidence": [_evidence(item) for item in award.evidence],
        "credentialSchema": (
            [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}]
            if credential_schema
            else None
        ),
        "credentialStatus": status,
    }
    body = prune(body)
    return {"@context": contexts_for(body), **body}


# ---------------------------------------------------------------- renewal credentials
#
# A certification renewal is an OpenBadgeCredential whose achievement has
# ``achievementType`` ``Certification``, whose ``validFrom``/``validUntil`` are
# the new cycle and whose ``creditsEarned`` is the counted total (FACTS §2.5).
# It cites what counted: one Evidence entry per counted item (``id`` = the
# counted badge's credential id) and one Result per credit category, each
# against a ResultDescription on the achievement.  This mapping follows the
# FACTS §2.5 / §3.2 recommendation; it is not normative text.


def _credits_text(value: Decimal) -> str:
    """``Decimal("24.00")`` → ``"24"``, ``Decimal("1.50")`` → ``"1.5"`` (result values are strings)."""
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class CountedCredit:
    """One counted ledger line as the renewal credential cites it.

    A counted badge carries ``credential_id`` (its OB 3.0 credential ``id``);
    an approved activity that is not a credential carries ``activity_id``
    (its public id) and, if the learner gave one, ``url``.
    """

    name: str
    counted: Decimal
    earned: Decimal
    reason: str
    category: str | None = None
    credential_id: str | None = None
    activity_id: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.credential_id is None) == (self.activity_id is None):
            raise ValidationError(
                "counted", "a counted item is either a credential or an approved activity"
            )
        if not isinstance(self.counted, Decimal) or not self.counted > 0:
            raise ValidationError("counted", "only items that count (counted > 0) are cited")


def renewal_evidence(items: Sequence[CountedCredit]) -> tuple[EvidenceInfo, ...]:
    """OB 3.0 §Evidence for every counted item, in the given (ledger) order.

    A badge's entry has ``id`` = its credential id, so a verifier can match it
    to the credential (and the CLR holds that credential).  An activity has no
    credential: its entry names it, says how it counted and links the
    learner's own page when there is one.
    """
    out = []
    for item in items:
        where = f" in category {item.category}" if item.category else ""
        counted = (
            f"Counted {_credits_text(item.counted)} of {_credits_text(item.earned)} credits{where}."
        )
        if item.credential_id is not None:
            out.append(
                EvidenceInfo(
                    url=item.credential_id,
                    name=item.name,
                    narrative=f"{counted} {item.reason}".strip(),
                    description="Open Badges 3.0 credential counted toward this renewal.",
                )
            )
        else:
            url = item.url if item.url and item.url.startswith(("https://", "http://")) else None
            out.append(
                EvidenceInfo(
                    url=url,
                    name=item.name,
                    narrative=(
                        f"Approved activity {item.activity_id}. {counted} {item.reason}".strip()
                    ),
                    description="Approved continuing-education activity counted toward "
                    "this renewal.",
                )
            )
    return tuple(out)


def renewal_results(
    achievement_id: str, ledger: Ledger, policy: Policy
) -> tuple[tuple[ResultDescriptionInfo, ...], tuple[ResultInfo, ...]]:
    """ResultDescriptions for the achievement and the Results that fill them in.

    One ``RawScore`` pair for the total (``requiredValue`` = the policy's
    required total) and one per category that counted credit or has a minimum
    (``valueMax`` = its cap, ``requiredValue`` = its minimum).  Values are
    strings, as the data model wants (FACTS §2.5).  Ids are fragments of the
    achievement id, so they are absolute IRIs unique within it.
    """
    total_id = f"{achievement_id}#result-credits-total"
    descriptions = [
        ResultDescriptionInfo(
            id=total_id,
            name=f"Continuing-education credits counted under {policy.name} "
            f"(version {policy.version})",
            result_type="RawScore",
            required_value=_credits_text(ledger.required_total),
            value_min="0",
        )
    ]
    results = [ResultInfo(value=_credits_text(ledger.counted_total), result_description=total_id)]
    for total in ledger.categories:
        if not total.counted > 0 and total.minimum is None:
            continue
        rule = policy.category(total.name)
        ident = f"{achievement_id}#result-credits-{quote(total.name, safe='')}"
        descriptions.append(
            ResultDescriptionInfo(
                id=ident,
                name=f"Credits counted in {rule.label or total.name}"
                + (" (uncapped)" if total.cap is None else ""),
                result_type="RawScore",
                required_value=_credits_text(total.minimum) if total.minimum is not None else None,
                value_min="0",
                value_max=_credits_text(total.cap) if total.cap is not None else None,
            )
        )
        results.append(ResultInfo(value=_credits_text(total.counted), result_description=ident))
    return tuple(descriptions), tuple(results)
