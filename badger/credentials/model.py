"""What the document builders render: issuer, achievement, recipient and award values.

These frozen dataclasses sit between the store and the builders in
:mod:`badger.credentials.ob2` and :mod:`badger.credentials.ob3`.  They know
nothing about the database: a service maps rows to them, and the builders map
them to unsigned OB 2.0 / OB 3.0 documents.

Each value checks, when constructed, what would otherwise yield a document a
verifier rejects: required text present, date-times time-zone aware (OB 2.0
§DateTime, OB 3.0 §DateTimeZ), ``valid_until`` not before ``valid_from``
(FACTS §5.13), credits finite and non-negative, a recipient with an email or
a DID (OB 3.0 §AchievementSubject: ``id`` or ``identifier``).  Errors are the
domain's field-named :class:`~badger.domain.errors.ValidationError`.

The module also holds the rendering helpers both builders share:
:func:`format_datetime`, :func:`json_number`, :func:`prune` and
:func:`to_json_bytes`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from badger.domain.achievements import Alignment, validate_achievement_type
from badger.domain.errors import ValidationError
from badger.domain.recipients import IdentifierKind, normalize_email, parse_identifier

__all__ = [
    "ALIGNMENT_TARGET_TYPES",
    "RESULT_STATUSES",
    "RESULT_TYPES",
    "AchievementInfo",
    "Alignment",
    "AwardInfo",
    "EvidenceInfo",
    "IssuerInfo",
    "RecipientInfo",
    "ResultDescriptionInfo",
    "ResultInfo",
    "StatusRef",
    "format_datetime",
    "json_number",
    "prune",
    "to_json_bytes",
]

RESULT_STATUSES = frozenset(
    {"Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"}
)
"""OB 3.0 §B.2.6 ResultStatusType: a closed enumeration (FACTS §2.4)."""

RESULT_TYPES = frozenset(
    {
        "GradePointAverage",
        "LetterGrade",
        "Percent",
        "PerformanceLevel",
        "PredictedScore",
        "RawScore",
        "Result",
        "RubricCriterion",
        "RubricCriterionLevel",
        "RubricScore",
        "ScaledScore",
        "Status",
    }
)
"""OB 3.0 §B.2.5 ResultType, extensible with ``ext:`` names (FACTS §2.4)."""

ALIGNMENT_TARGET_TYPES = frozenset(
    {
        "ceasn:Competency",
        "ceterms:Credential",
        "CFItem",
        "CFRubric",
        "CFRubricCriterion",
        "CFRubricCriterionLevel",
        "CTDL",
    }
)
"""OB 3.0 §B.2.2 AlignmentTargetType, extensible with ``ext:`` names (FACTS §2.4)."""

_EXT_TERM = re.compile(r"^ext:[A-Za-z0-9.\-_]+$")
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def _require_text(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "is required")


def _require_aware(field: str, value: object) -> None:
    if not isinstance(value, datetime):
        raise ValidationError(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, "needs a time zone (OB date-times carry one)")


def _check_credits(field: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationError(field, "must be a finite, non-negative Decimal")


def _require_absolute_uri(field: str, value: object, schemes: tuple[str, ...] = ()) -> None:
    # DCC's verifier rejects credential and issuer ids that are not absolute URIs (FACTS §2.1).
    _require_text(field, value)
    text = str(value)
    if not _ABSOLUTE_URI.match(text):
        raise ValidationError(field, f"{text!r} is not an absolute URI")
    if schemes and not text.startswith(schemes):
        raise ValidationError(field, f"{text!r} must start with one of {', '.join(schemes)}")


def _check_term(field: str, value: str | None, allowed: frozenset[str]) -> None:
    # Extensible enumerations take ``ext:`` names (OB 3.0 §B.2, FACTS §2.4).
    if value is not None and value not in allowed and not _EXT_TERM.match(value):
        raise ValidationError(field, f"{value!r} is not a defined term or an ext: name")


def _check_alignments(alignments: tuple[Alignment, ...]) -> None:
    for alignment in alignments:
        _require_text("alignment.target_name", alignment.target_name)
        _require_text("alignment.target_url", alignment.target_url)
        _check_term("alignment.target_type", alignment.target_type, ALIGNMENT_TARGET_TYPES)


def _check_salt(salt: object) -> None:
    # An unsalted hash of an email address is a dictionary lookup away from the address.
    _require_text("salt", salt)


class StatusRef(NamedTuple):
    """Where an award's status bit lives: a status list URL and an index in it.

    A plain ``(list_url, index)`` tuple is accepted wherever a ``StatusRef`` is.
    """

    list_url: str
    index: int


@dataclass(frozen=True, slots=True)
class IssuerInfo:
    """The issuing organisation, in both formats' terms.

    ``id`` is the OB 3.0 issuer id (a ``did:key:``, ``did:web:`` or https URL);
    it must equal the controller of the keys that sign OB 3.0 proofs (FACTS
    §5.7).  ``ob2_profile_url`` is the hosted OB 2.0 Profile (OB 2.0 §Profile),
    which lists ``ob2_public_key_urls`` and ``ob2_revocation_list_url``.  The
    OB 2.0 reference validator requires ``name``, ``url`` and ``email`` for an
    issuer (FACTS §1.4); the OB 2.0 builder enforces that, OB 3.0 does not need
    them.
    """

    id: str
    ob2_profile_url: str
    name: str
    url: str | None = None
    email: str | None = None
    description: str | None = None
    image_url: str | None = None
    ob2_public_key_urls: tuple[str, ...] = ()
    ob2_revocation_list_url: str | None = None

    def __post_init__(self) -> None:
        _require_absolute_uri("issuer.id", self.id, ("did:", "https://", "http://"))
        _require_text("issuer.ob2_profile_url", self.ob2_profile_url)
        _require_text("issuer.name", self.name)
        object.__setattr__(self, "ob2_public_key_urls", tuple(self.ob2_public_key_urls))


@dataclass(frozen=True, slots=True)
class ResultDescriptionInfo:
    """OB 3.0 §ResultDescription: a result an achievement can report (e.g. credits by category)."""

    id: str
    name: str
    result_type: str
    allowed_values: tuple[str, ...] = ()
    required_value: str | None = None
    value_min: str | None = None
    value_max: str | None = None
    alignments: tuple[Alignment, ...] = ()

    def __post_init__(self) -> None:
        _require_text("result_description.id", self.id)
        _require_text("result_description.name", self.name)
        _require_text("result_description.result_type", self.result_type)
        _check_term("result_description.result_type", self.result_type, RESULT_TYPES)
        object.__setattr__(self, "allowed_values", tuple(self.allowed_values))
        object.__setattr__(self, "alignments", tuple(self.alignments))
        _check_alignments(self.alignments)


@dataclass(frozen=True, slots=True)
class AchievementInfo:
    """An achievement as published: OB 3.0 §Achievement and OB 2.0 §BadgeClass.

    ``id`` is the OB 3.0 achievement id (a URL); ``ob2_badgeclass_url`` the
    hosted OB 2.0 BadgeClass.  OB 2.0 requires ``image_url`` (a PNG or SVG);
    the OB 2.0 builder enforces it.  ``credits_available`` is a Decimal here
    and a JSON number in OB 3.0 (FACTS §2.5).
    """

    id: str
    ob2_badgeclass_url: str
    name: str
    description: str
    criteria_narrative: str
    criteria_url: str | None = None
    image_url: str | None = None
    achievement_type: str | None = None
    tags: tuple[str, ...] = ()
    alignments: tuple[Alignment, ...] = ()
    credits_available: Decimal | None = None
    human_code: str | None = None
    field_of_study: str | None = None
    version: str | None = None
    result_descriptions: tuple[ResultDescriptionInfo, ...] = ()

    def __post_init__(self) -> None:
        _require_text("achievement.id", self.id)
        _require_text("achievement.ob2_badgeclass_url", self.ob2_badgeclass_url)
        _require_text("name", self.name)
        _require_text("description", self.description)
        _require_text("criteria_narrative", self.criteria_narrative)
        if self.achievement_type is not None:
            validate_achievement_type(self.achievement_type)
        _check_credits("credits_available", self.credits_available)
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "alignments", tuple(self.alignments))
        _check_alignments(self.alignments)
        object.__setattr__(self, "result_descriptions", tuple(self.result_descriptions))


@dataclass(frozen=True, slots=True)
class RecipientInfo:
    """Who receives the award: a normalised email, a DID, or both, and the hash salt.

    Identifiers are hashed verbatim (OB 2.0 §IdentityObject, FACTS §5.24), so
    the email must already be normalised by
    :func:`badger.domain.recipients.normalize_email`; a non-normalised one is
    refused rather than silently producing a hash the learner cannot match.
    """

    salt: str
    email: str | None = None
    did: str | None = None

    def __post_init__(self) -> None:
        _check_salt(self.salt)
        if self.email is None and self.did is None:
            raise ValidationError("recipient", "needs an email address or a DID")
        if self.email is not None and normalize_email(self.email) != self.email:
            raise ValidationError("email", "must be normalised (trimmed, NFC, lower-case)")
        if self.did is not None and parse_identifier(self.did, IdentifierKind.DID).value != (
            self.did
        ):
            raise ValidationError("did", "must be a DID without surrounding space")


@dataclass(frozen=True, slots=True)
class EvidenceInfo:
    """OB 2.0 §Evidence / OB 3.0 §Evidence: a URL and/or a narrative, with optional labels."""

    url: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not (self.url and self.url.strip()) and not (self.narrative and self.narrative.strip()):
            raise ValidationError("evidence", "needs a URL or a narrative")


@dataclass(frozen=True, slots=True)
class ResultInfo:
    """OB 3.0 §Result: what the learner achieved against a ResultDescription."""

    value: str | None = None
    status: str | None = None
    result_description: str | None = None
    achieved_level: str | None = None
    alignments: tuple[Alignment, ...] = ()

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in RESULT_STATUSES:
            raise ValidationError("result.status", f"{self.status!r} is not a ResultStatusType")
        object.__setattr__(self, "alignments", tuple(self.alignments))
        _check_alignments(self.alignments)


@dataclass(frozen=True, slots=True)
class AwardInfo:
    """One award (recipient x achievement x time), the record every format renders.

    ``ob2_assertion_url`` is the hosted OB 2.0 Assertion id; the signed OB 2.0
    assertion uses ``urn:uuid:<public_id>``; ``ob3_credential_id`` is the OB
    3.0 credential ``id`` (e.g. ``urn:uuid:…``).  ``issued_on`` becomes OB 2.0
    ``issuedOn`` and OB 3.0 ``awardedDate``; ``valid_from``/``valid_until``
    become ``validFrom``/``validUntil`` (and OB 2.0 ``expires``).
    ``revocation`` and ``suspension`` point at bits in Bitstring Status Lists.
    """

    public_id: str
    ob2_assertion_url: str
    ob3_credential_id: str
    issued_on: datetime
    valid_from: datetime
    valid_until: datetime | None = None
    credits_earned: Decimal | None = None
    narrative: str | None = None
    evidence: tuple[EvidenceInfo, ...] = ()
    results: tuple[ResultInfo, ...] = ()
    revocation: StatusRef | None = None
    suspension: StatusRef | None = None
    name: str | None = None
    image_url: str | None = None

    def __post_init__(self) -> None:
        try:
            public_id = str(uuid.UUID(self.public_id))
        except (TypeError, ValueError, AttributeError):
            raise ValidationError("public_id", f"{self.public_id!r} is not a UUID") from None
        object.__setattr__(self, "public_id", public_id)
        _require_text("ob2_assertion_url", self.ob2_assertion_url)
        _require_absolute_uri("ob3_credential_id", self.ob3_credential_id)
        _require_aware("issued_on", self.issued_on)
        _require_aware("valid_from", self.valid_from)
        if self.valid_until is not None:
            _require_aware("valid_until", self.valid_until)
            if self.valid_until < self.valid_from:
                raise ValidationError("valid_until", "is before valid_from")
            if self.valid_until < self.issued_on:
                raise ValidationError("valid_until", "is before issued_on (OB 2.0 expires)")
        _check_credits("credits_earned", self.credits_earned)
        for field in ("revocation", "suspension"):
            ref = getattr(self, field)
            if ref is None:
                continue
            list_url, index = ref
            _require_text(f"{field}.list_url", list_url)
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValidationError(f"{field}.index", "must be a non-negative integer")
            object.__setattr__(self, field, StatusRef(list_url, index))
        object.__setattr__(self, "evidence", tuple(self.evidence))
        object.__setattr__(self, "results", tuple(self.results))


# ------------------------------------------------------------------ rendering helpers


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, seconds precision.

    OB 3.0 §DateTimeZ and OB 2.0 §DateTime both need a time zone; ``Z`` is
    the form every verifier parses.  Sub-second digits are dropped (rounded
    down), which keeps ``validFrom`` from moving into the future.
    """
    _require_aware("date-time", value)
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_number(value: Decimal) -> int | float:
    """A credit amount as a JSON number (OB 3.0 §A.1: numbers are numbers; FACTS §2.5).

    Whole amounts become ints (``3``), others floats (``1.5``).  Under the
    OB context's ``xsd:float`` coercion both canonicalise the same, and
    credits have at most two decimal places, so the float is exact enough.
    """
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"A credit amount must be a finite Decimal, not {value!r}.")
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def prune(value: Any) -> Any:
    """Drop ``None``, empty strings, empty arrays and empty objects, recursively.

    OB 3.0 §A.1 (JSON binding): null values and empty arrays MUST be omitted
    (FACTS §2.6, §5.15).  An empty string or object in an optional property
    says no more than a null.  Required properties are checked non-empty by
    the model values before this runs, so pruning never hides one.  Tuples
    become lists; ``False`` and ``0`` are kept.
    """
    # One pass, no intermediate containers: this runs on every issued document.
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            item = prune(item)
            if not _is_empty(item):
                out[key] = item
        return out
    if isinstance(value, list | tuple):
        items = []
        for item in value:
            item = prune(item)
            if not _is_empty(item):
                items.append(item)
        return items
    return value


def to_json_bytes(doc: dict[str, Any]) -> bytes:
    """Serialise an issued document to the exact bytes badger stores and serves.

    One stable form: UTF-8 with non-ASCII characters kept (``ensure_ascii=False``),
    compact separators, keys in the builders' order (``@context``, ``id``,
    ``type`` first, as in the spec examples), no trailing newline.  NaN and
    infinities are refused (not JSON), as are values JSON cannot represent.
    The builders are deterministic, so the same inputs give the same bytes.
    This is not a canonicalisation for signing: Data Integrity proofs sign the
    RDF canonical form and JWS signs the payload bytes it is given.
    """
    try:
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("The document holds text that is not valid Unicode.") from exc
