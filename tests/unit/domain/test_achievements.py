from decimal import Decimal

import pytest

from badger.domain.achievements import AchievementSpec, parse_credits, validate_achievement_type
from badger.domain.errors import ValidationError


def spec(**kw):
    base = {
        "slug": "ethics-1",
        "name": "Ethics",
        "description": "Ethics unit",
        "criteria_narrative": "Pass the quiz",
    }
    base.update(kw)
    return AchievementSpec(**base)


def test_credits_are_exact_decimals():
    assert parse_credits("0.1") + parse_credits(0.2) == Decimal("0.3")


@pytest.mark.parametrize("bad", [-1, "abc", True, None, "1.234", "NaN", "Infinity", 5000])
def test_bad_credits_are_rejected_with_the_field_name(bad):
    with pytest.raises(ValidationError) as info:
        parse_credits(bad)
    assert info.value.field == "credits_available"


@pytest.mark.parametrize("value", ["MicroCredential", "Certification", "ext:CEUnit"])
def test_ob3_and_extension_achievement_types_are_accepted(value):
    assert validate_achievement_type(value) == value


@pytest.mark.parametrize("value", ["Microcredential", "ext:", "ext:bad space", ""])
def test_unknown_achievement_types_are_rejected(value):
    with pytest.raises(ValidationError):
        validate_achievement_type(value)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"name": "  "}, "name"),
        ({"criteria_narrative": ""}, "criteria_narrative"),
        ({"validity_days": 0}, "validity_days"),
        ({"credit_category": "ethics"}, "credits_available"),
    ],
)
def test_invalid_definitions_name_the_field(kw, field):
    with pytest.raises(ValidationError) as info:
        spec(**kw)
    assert info.value.field == field


def test_valid_definition_keeps_its_values():
    s = spec(credits_available=Decimal("1.5"), credit_category="ethics", series="monthly")
    assert s.credits_available == Decimal("1.5")
    assert s.achievement_type == "MicroCredential"
