"""Comprehensive Learner Record 2.0: the ``ClrCredential`` that bundles signed badges.

CLR 2.0 (FACTS §3.1-3.2).  The builder is pure: it takes OB 3.0 credentials
*as issued* (already signed, each with its own ``@context`` and ``proof``) and
returns an unsigned ClrCredential; the Data Integrity proof is added in
``badger.proofs`` like every other document.

Shape (the ClrCredential JSON Schema in ``shared/spec/clr_v2p0`` accepts it;
the unit tests prove it):

* ``@context``: VC 2.0, then the CLR context ``context-2.0.1.json``, then the
  OB context ``context-3.0.3.json`` (FACTS §3.1; the schema checks the
  order), then ``extensions.json`` when a 1EdTech-only type occurs anywhere,
  embedded credentials included (FACTS §5.2).
* ``credentialSubject`` is a ``ClrSubject``: the learner (``id`` for a DID,
  else one hashed, salted email ``identifier``), ``verifiableCredential`` = the
  embedded credentials, ``achievement`` = every achievement those credentials
  assert (as they assert them), and ``association`` entries.
* Associations (FACTS §3.1): for a certification renewal, one
  ``isPartOf`` entry per constituent achievement with ``sourceId`` = the
  constituent and ``targetId`` = the certification (FACTS §3.2, "Mapping for
  CEU renewal").  ``Association.type`` is the single string ``"Association"``
  (the schema's enum), unlike every other class's ``type`` array.
* ``issuer`` is an embedded Profile, ``validFrom`` ends in ``Z``, ``type``,
  ``proof`` and ``credentialSchema`` are arrays, nulls and empty arrays are
  omitted (OB 3.0 §A.1 applies to CLR 2.0 too).
* ``credentialStatus``: at most one ``BitstringStatusListEntry``; a renewal
  CLR shares the renewal credential's suspension bit, so suspending the
  certification suspends the record that bundles it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from badger.credentials import ob3
from badger.credentials.model import (
    IssuerInfo,
    RecipientInfo,
    StatusRef,
    format_datetime,
    prune,
)
from badger.credentials.status_list import status_entry
from badger.domain.errors import ValidationError

__all__ = [
    "ASSOCIATION_TYPES",
    "CLR_CONTEXT",
    "CLR_CREDENTIAL_SCHEMA",
    "Association",
    "ClrInfo",
    "clr_credential",
    "contexts_for",
    "part_of_associations",
]

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
"""Second ``@context`` entry of a ClrCredential, before the OB one (FACTS §0, §3.1)."""

CLR_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)
"""``credentialSchema.id`` of the ClrCredential JSON Schema (FACTS §0, §3.1)."""

ASSOCIATION_TYPES = frozenset(
    {
        "exactMatchOf",
        "isChildOf",
        "isParentOf",
        "isPartOf",
        "isPeerOf",
        "isRelatedTo",
        "precedes",
        "replacedBy",
    }
)
"""CLR 2.0 AssociationType: a closed enumeration (FACTS §3.1)."""

StatusPurpose = Literal["revocation", "suspension"]

# DCC's verifier rejects credential ids that are not absolute URIs (FACTS §2.1).
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass(frozen=True, slots=True)
class Association:
    """CLR 2.0 §Association: ``source`` stands in ``association_type`` to ``target``."""

    association_type: str
    source_id: str
    target_id: str

    def __post_init__(self) -> None:
        if self.association_type not in ASSOCIATION_TYPES:
            raise ValidationError(
                "association.association_type",
                f"{self.association_type!r} is not a CLR 2.0 AssociationType",
            )
        for field in ("source_id", "target_id"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(f"association.{field}", "is required")

    def as_json(self) -> dict[str, str]:
        return {
            "type": "Association",
            "associationType": self.association_type,
            "sourceId": self.source_id,
            "targetId": self.target_id,
        }


@dataclass(frozen=True, slots=True)
class ClrInfo:
    """The record itself: its id, name, dates and status bit.

    ``issued_on`` becomes ``awardedDate``; ``valid_from``/``valid_until``
    become ``validFrom``/``validUntil``.  ``partial`` is true for a snapshot
    that does not hold every credential known for the learner (CLR 2.0
    ``partial``; FACTS §3.1).
    """

    id: str
    name: str
    issued_on: datetime
    valid_from: datetime
    valid_until: datetime | None = None
    description: str | None = None
    partial: bool = False
    status: StatusRef | None = None
    status_purpose: StatusPurpose = "suspension"

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ABSOLUTE_URI.match(self.id):
            raise ValidationError("clr.id", f"{self.id!r} is not an absolute URI")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError("clr.name", "is required")
        for field in ("issued_on", "valid_from", "valid_until"):
            value = getattr(self, field)
            if value is None and field == "valid_until":
                continue
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise ValidationError(f"clr.{field}", "needs a time zone")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValidationError("clr.valid_until", "is before valid_from")
        if self.status_purpose not in ("revocation", "suspension"):
            raise ValidationError("clr.status_purpose", "revocation or suspension")
        if self.status is not None:
            object.__setattr__(self, "status", StatusRef(*self.status))


def contexts_for(document: Mapping[str, Any]) -> list[str]:
    """VC 2.0, CLR 2.0.1, OB 3.0.3 in that order, then ``extensions.json`` if needed."""
    contexts = [ob3.VC_V2_CONTEXT, CLR_CONTEXT, ob3.OB3_CONTEXT]
    if any(t in ob3.ONE_EDTECH_TYPES for t in ob3.walk_types(document)):
        contexts.append(ob3.EXTENSIONS_CONTEXT)
    return contexts


def _achievement_of(credential: Mapping[str, Any]) -> Mapping[str, Any] | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    if not isinstance(subject, Mapping):
        return None
    achievement = subject.get("achievement")
    return achievement if isinstance(achievement, Mapping) else None


def _check_embedded(credentials: Sequence[Mapping[str, Any]]) -> None:
    if not credentials:
        raise ValidationError("verifiableCredential", "a CLR holds at least one credential")
    seen: set[str] = set()
    for i, credential in enumerate(credentials):
        where = f"verifiableCredential[{i}]"
        if not isinstance(credential, Mapping):
            raise ValidationError(where, "must be a credential object")
        if not isinstance(credential.get("id"), str) or not credential.get("@context"):
            raise ValidationError(where, "needs its @context and id")
        if not credential.get("proof"):
            # CLR 2.0: each credential keeps its own proof; an unsigned one would
            # be covered only by the CLR issuer's signature (FACTS §3.1).
            raise ValidationError(where, "must be signed (embed the credential as issued)")
        if credential["id"] in seen:
            raise ValidationError(where, f"{credential['id']} is embedded twice")
        seen.add(credential["id"])


def part_of_associations(
    credentials: Sequence[Mapping[str, Any]], whole_achievement_id: str
) -> tuple[Association, ...]:
    """``isPartOf`` from every other achievement the credentials assert to the whole.

    FACTS §3.2: for a renewal, ``sourceId`` = a counted microcredential's
    achievement, ``targetId`` = the certification achievement.
    """
    out: list[Association] = []
    seen: set[str] = set()
    for credential in credentials:
        achievement = _achievement_of(credential)
        ident = achievement.get("id") if achievement else None
        if not isinstance(ident, str) or ident == whole_achievement_id or ident in seen:
            continue
        seen.add(ident)
        out.append(Association("isPartOf", ident, whole_achievement_id))
    return tuple(out)


def clr_credential(
    info: ClrInfo,
    issuer: IssuerInfo,
    recipient: RecipientInfo,
    credentials: Sequence[Mapping[str, Any]],
    *,
    associations: Sequence[Association] = (),
    credential_schema: bool = True,
) -> dict[str, Any]:
    """An unsigned ClrCredential holding ``credentials`` exactly as issued (FACTS §3.1).

    ``credentialSubject.achievement`` lists each distinct achievement the
    embedded credentials assert, copied from those credentials, so the record
    describes achievements exactly as the signed badges do.  Every
    association must name achievements in that list; a dangling one is an
    error, not a silently broken record.
    """
    _check_embedded(credentials)
    embedded = [copy.deepcopy(dict(c)) for c in credentials]
    achievements: list[dict[str, Any]] = []
    known: set[str] = set()
    for credential in embedded:
        achievement = _achievement_of(credential)
        ident = achievement.get("id") if achievement else None
        if isinstance(ident, str) and ident not in known:
            known.add(ident)
            achievements.append(copy.deepcopy(dict(achievement)))
    for association in associations:
        for end in (association.source_id, association.target_id):
            if end not in known:
                raise ValidationError(
                    "association", f"{end} is not an achievement of an embedded credential"
                )

    status = (
        status_entry(info.status.list_url, info.status.index, info.status_purpose)
        if info.status is not None
        else None
    )
    subject = {
        "type": ["ClrSubject"],
        **ob3.subject_identity(recipient),
        "verifiableCredential": embedded,
        "achievement": achievements,
        "association": [a.as_json() for a in associations],
    }
    body: dict[str, Any] = {
        "id": info.id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": info.name,
        "description": info.description,
        "issuer": ob3.profile(issuer),
        "validFrom": format_datetime(info.valid_from),
        "validUntil": format_datetime(info.valid_until) if info.valid_until else None,
        "awardedDate": format_datetime(info.issued_on),
        # CLR 2.0 ``partial``: a boolean, emitted only when true (absent = complete).
        "partial": True if info.partial else None,
        "credentialSubject": subject,
        "credentialSchema": (
            [{"id": CLR_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}]
            if credential_schema
            else None
        ),
        "credentialStatus": status,
    }
    # Prune the envelope only: the embedded credentials are signed and must stay
    # exactly what their issuers signed (they were pruned when they were built).
    pruned = prune({**body, "credentialSubject": None})
    pruned_subject = prune({**subject, "verifiableCredential": None})
    ordered: dict[str, Any] = {}
    for key in body:
        if key == "credentialSubject":
            ordered[key] = {**pruned_subject, "verifiableCredential": embedded}
        elif key in pruned:
            ordered[key] = pruned[key]
    return {"@context": contexts_for(ordered), **ordered}
