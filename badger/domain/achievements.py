"""Achievement definitions: the OB 3.0 Achievement fields plus badger's own.

A microcredential is a small stackable Achievement with a credit value and a
credit category; a certification is an Achievement of type ``Certification``
that a renewal policy stacks them into.  Values here are plain, frozen and
validated; persistence and rendering live elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from badger.domain.errors import ValidationError
from badger.domain.requirements import parse_rule

# OB 3.0 §B.2.3 AchievementType (extensible: ``ext:`` + [A-Za-z0-9.-_]).
ACHIEVEMENT_TYPES: frozenset[str] = frozenset(
    {
        "Achievement",
        "ApprenticeshipCertificate",
        "Assessment",
        "Assignment",
        "AssociateDegree",
        "Award",
        "Badge",
        "BachelorDegree",
        "Certificate",
        "CertificateOfCompletion",
        "Certification",
        "CommunityService",
        "Competency",
        "Course",
        "CoCurricular",
        "Degree",
        "Diploma",
        "DoctoralDegree",
        "Fieldwork",
        "GeneralEducationDevelopment",
        "JourneymanCertificate",
        "LearningProgram",
        "License",
        "Membership",
        "ProfessionalDoctorate",
        "QualityAssuranceCredential",
        "MasterCertificate",
        "MasterDegree",
        "MicroCredential",
        "ResearchDoctorate",
        "SecondarySchoolDiploma",
    }
)
_EXT_TYPE = re.compile(r"^ext:[A-Za-z0-9.\-_]+$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MAX_CREDITS = Decimal("1000")


def validate_achievement_type(value: str) -> str:
    if value in ACHIEVEMENT_TYPES or _EXT_TYPE.match(value):
        return value
    raise ValidationError(
        "achievement_type", f"{value!r} is not an OB 3.0 AchievementType (or ext:Name)"
    )


def validate_slug(value: str, field_name: str = "slug") -> str:
    if not _SLUG.match(value):
        raise ValidationError(field_name, "use 1-80 lower-case letters, digits and inner hyphens")
    return value


def parse_credits(value: object, field_name: str = "credits_available") -> Decimal:
    """Credits are Decimal, never float: ``0.5`` CEU stays exactly 0.5."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(field_name, "must be a number")
    try:
        credits = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(field_name, f"{value!r} is not a number") from None
    if not credits.is_finite() or credits < 0 or credits > MAX_CREDITS:
        raise ValidationError(field_name, f"must be between 0 and {MAX_CREDITS}")
    if credits.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(field_name, "at most two decimal places")
    return credits


@dataclass(frozen=True, slots=True)
class Alignment:
    """OB 3.0 Alignment: required targetName and targetUrl."""

    target_name: str
    target_url: str
    target_code: str | None = None
    target_description: str | None = None
    target_framework: str | None = None
    target_type: str | None = None


@dataclass(frozen=True, slots=True)
class AchievementSpec:
    """What an admin defines; validated on construction."""

    slug: str
    name: str
    description: str
    criteria_narrative: str
    achievement_type: str = "MicroCredential"
    criteria_url: str | None = None
    image_uri: str | None = None
    tags: tuple[str, ...] = ()
    alignments: tuple[Alignment, ...] = ()
    credits_available: Decimal | None = None
    credit_category: str | None = None
    provider: str | None = None
    series: str | None = None
    validity_days: int | None = None
    human_code: str | None = None
    field_of_study: str | None = None
    # Requirement rules in their JSON form (badger.domain.requirements); None =
    # awarded only by hand or by bulk issue.
    rules: dict[str, object] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_slug(self.slug)
        for name in ("name", "description", "criteria_narrative"):
            text = getattr(self, name)
            if not isinstance(text, str) or not text.strip():
                raise ValidationError(name, "is required")
        if len(self.name) > 200:
            raise ValidationError("name", "at most 200 characters")
        validate_achievement_type(self.achievement_type)
        if self.validity_days is not None and not 1 <= self.validity_days <= 36500:
            raise ValidationError("validity_days", "must be between 1 and 36500")
        if self.credit_category is not None and self.credits_available is None:
            raise ValidationError("credits_available", "required when a credit category is set")
        if self.rules is not None:
            rule = parse_rule(self.rules)
            if self.slug in rule.dependencies().achievements:
                raise ValidationError("rules", f"{self.slug} cannot require itself")
