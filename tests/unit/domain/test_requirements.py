from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from badger.domain.errors import ValidationError
from badger.domain.requirements import (
    ApprovedActivity,
    ApprovedEvidence,
    AtLeast,
    CompletionEvent,
    Earned,
    Facts,
    HeldAward,
    parse_rule,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def held(*slugs, days_ago=10):
    return tuple(HeldAward(s, NOW - timedelta(days=days_ago), f"a-{s}") for s in slugs)


def event(kind, days_ago=1, n=0, **data):
    return CompletionEvent(kind, NOW - timedelta(days=days_ago), f"e{n}-{kind}", data)


STACK = {
    "all_of": [
        {"earned": "a"},
        {"earned": "b"},
        {"at_least": 2, "of": [{"earned": "c"}, {"earned": "d"}, {"earned": "e"}]},
    ]
}


def test_stack_needs_a_b_and_two_of_c_d_e():
    rule = parse_rule(STACK)
    assert not rule.evaluate(Facts(awards=held("a", "b", "c")), NOW).met
    outcome = rule.evaluate(Facts(awards=held("a", "b", "c", "e")), NOW)
    assert outcome.met
    assert outcome.inputs == ("award:a-a", "award:a-b", "award:a-c", "award:a-e")
    assert outcome.reason == "all 3 of: 3 met"
    assert outcome.lines()[0] == "✓ all 3 of: 3 met"


def test_unmet_outcome_explains_each_part():
    outcome = parse_rule(STACK).evaluate(Facts(awards=held("a", "d")), NOW)
    assert not outcome.met
    text = "\n".join(outcome.lines())
    assert "✗ does not yet hold b" in text
    assert "✗ at least 2 of 3: 1 met" in text


def test_score_condition_on_a_completion_event():
    rule = parse_rule(
        {
            "event": "course.completed",
            "where": [
                {"field": "course", "op": "eq", "value": "ethics-101"},
                {"field": "result.score", "op": "gte", "value": 80},
            ],
        }
    )
    low = event("course.completed", course="ethics-101", result={"score": 79.5})
    high = event("course.completed", n=1, course="ethics-101", result={"score": "80"})
    other = event("course.completed", n=2, course="seo", result={"score": 99})
    assert not rule.evaluate(Facts(events=(low, other)), NOW).met
    outcome = rule.evaluate(Facts(events=(low, high, other)), NOW)
    assert outcome.met
    assert outcome.inputs == ("event:e1-course.completed",)
    assert "result.score ≥ 80" in outcome.reason


def test_non_numeric_data_never_satisfies_a_numeric_condition():
    rule = parse_rule({"event": "quiz", "where": [{"field": "score", "op": "gte", "value": 80}]})
    for bad in ("eighty", None, True, [90], {"v": 90}, "NaN"):
        assert not rule.evaluate(Facts(events=(event("quiz", score=bad),)), NOW).met


def test_one_of_and_not_equal_conditions():
    rule = parse_rule(
        {
            "event": "webinar.attended",
            "where": [
                {"field": "series", "op": "in", "value": ["monthly", "quarterly"]},
                {"field": "role", "op": "ne", "value": "host"},
            ],
        }
    )
    assert rule.evaluate(
        Facts(events=(event("webinar.attended", series="monthly", role="guest"),)), NOW
    ).met
    assert not rule.evaluate(
        Facts(events=(event("webinar.attended", series="monthly", role="host"),)), NOW
    ).met
    assert not rule.evaluate(Facts(events=(event("webinar.attended", series="yearly"),)), NOW).met


def test_attended_three_sessions_within_ninety_days():
    rule = parse_rule({"event": "session.attended", "count": 3, "within_days": 90})
    recent = tuple(event("session.attended", days_ago=d, n=d) for d in (5, 30, 60))
    old = (event("session.attended", days_ago=200, n=200),)
    assert rule.evaluate(Facts(events=recent), NOW).met
    outcome = rule.evaluate(Facts(events=recent[:2] + old), NOW)
    assert not outcome.met
    assert outcome.reason == "3 x session.attended within the last 90 days: 2 of 3 so far"


def test_before_and_after_dates_bound_the_window():
    rule = parse_rule(
        {"earned": "a", "after": "2026-01-01T00:00:00+00:00", "before": "2026-05-01T00:00:00Z"}
    )
    assert rule.evaluate(Facts(awards=held("a", days_ago=60)), NOW).met
    assert not rule.evaluate(Facts(awards=held("a", days_ago=10)), NOW).met
    assert not rule.evaluate(Facts(awards=held("a", days_ago=400)), NOW).met


def test_future_facts_never_count():
    rule = parse_rule({"earned": "a"})
    assert not rule.evaluate(Facts(awards=held("a", days_ago=-1)), NOW).met


def test_evidence_approved_rule():
    rule = parse_rule({"evidence_approved": "conference-2026"})
    evidence = ApprovedEvidence("conference-2026", NOW - timedelta(days=1), "s9")
    outcome = rule.evaluate(Facts(evidence=(evidence,)), NOW)
    assert outcome.met
    assert outcome.inputs == ("evidence:s9",)
    assert not rule.evaluate(Facts(), NOW).met


def test_activity_credits_by_category():
    rule = parse_rule({"activity_credits": 2.5, "category": "ethics"})
    acts = (
        ApprovedActivity("x1", NOW, Decimal("1.5"), "ethics"),
        ApprovedActivity("x2", NOW, Decimal("5"), "analytics"),
    )
    outcome = rule.evaluate(Facts(activities=acts), NOW)
    assert not outcome.met
    assert outcome.reason.startswith("1.5 of 2.5 credits in ethics")
    more = (*acts, ApprovedActivity("x3", NOW, Decimal("1"), "ethics"))
    assert rule.evaluate(Facts(activities=more), NOW).met


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"all_of": []}, "rules.all_of"),
        ({"any_of": []}, "rules.any_of"),
        ({"at_least": 3, "of": [{"earned": "a"}, {"earned": "b"}]}, "rules.at_least"),
        ({"at_least": 0, "of": [{"earned": "a"}]}, "rules.at_least"),
        ({"all_of": [{"earned": ""}]}, "rules.all_of[0].earned"),
        ({"all_of": [{"earned": "a", "colour": 1}]}, "rules.all_of[0].colour"),
        ({"earned": "a", "event": "x"}, "rules"),
        ({}, "rules"),
        ([], "rules"),
        (
            {"event": "quiz", "where": [{"field": "s", "op": "approx", "value": 1}]},
            "rules.where[0].op",
        ),
        (
            {"event": "quiz", "where": [{"field": "s", "op": "gte", "value": "high"}]},
            "rules.where[0].value",
        ),
        (
            {"event": "quiz", "where": [{"field": "s", "op": "in", "value": "a"}]},
            "rules.where[0].value",
        ),
        ({"event": "quiz", "count": 0}, "rules.count"),
        ({"earned": "a", "within_days": 0}, "rules.within_days"),
        ({"earned": "a", "before": "2026-01-01"}, "rules.before"),
        (
            {"earned": "a", "after": "2026-02-01T00:00:00Z", "before": "2026-01-01T00:00:00Z"},
            "rules.before",
        ),
        ({"activity_credits": -1}, "rules.activity_credits"),
    ],
)
def test_bad_rules_name_the_path(data, path):
    with pytest.raises(ValidationError) as info:
        parse_rule(data)
    assert info.value.field == path


def test_rules_round_trip_through_json():
    data = {
        "all_of": [
            {"earned": "a", "within_days": 365},
            {
                "any_of": [
                    {"evidence_approved": "b"},
                    {
                        "event": "quiz",
                        "where": [{"field": "score", "op": "gte", "value": 80}],
                        "count": 2,
                    },
                ]
            },
            {"at_least": 1, "of": [{"activity_credits": 1.5, "category": "ethics"}]},
        ]
    }
    assert parse_rule(parse_rule(data).to_json()).to_json() == parse_rule(data).to_json()


def test_dependencies_name_what_can_change_the_outcome():
    deps = parse_rule(
        {"all_of": [STACK, {"event": "quiz"}, {"evidence_approved": "z"}]}
    ).dependencies()
    assert deps.achievements == {"a", "b", "c", "d", "e"}
    assert deps.event_kinds == {"quiz"}
    assert deps.evidence_for == {"z"}
    assert not deps.activities


@given(n=st.integers(1, 6), held_mask=st.lists(st.booleans(), min_size=1, max_size=6))
def test_at_least_agrees_with_counting(n, held_mask):
    slugs = [f"s{i}" for i in range(len(held_mask))]
    if n > len(slugs):
        with pytest.raises(ValidationError):
            AtLeast(n, tuple(Earned(s) for s in slugs))
        return
    rule = AtLeast(n, tuple(Earned(s) for s in slugs))
    facts = Facts(awards=held(*(s for s, h in zip(slugs, held_mask, strict=True) if h)))
    assert rule.evaluate(facts, NOW).met == (sum(held_mask) >= n)


def test_outcomes_name_the_achievements_they_are_about_for_people():
    rule = parse_rule(
        {"all_of": [{"earned": "a"}, {"evidence_approved": "ab"}, {"event": "x.done"}]}
    )
    outcome = rule.evaluate(Facts(awards=held("a")), NOW)
    assert outcome.abouts() == {"a", "ab"}
    named = outcome.named({"a": "Alpha", "ab": "Alpha Beta"})
    assert [c.reason for c in named.children] == [
        "holds Alpha",
        "no approved evidence for Alpha Beta",
        outcome.children[2].reason,  # an event rule is about no achievement
    ]
    assert named.as_json()["children"][0]["about"] == "a"  # the slug is kept for records
    assert outcome.named({}).reason == outcome.reason
    # The slug is replaced where the reason names it, not where its text first appears.
    tricky = parse_rule({"earned": "hold", "within_days": 30}).evaluate(Facts(), NOW)
    assert tricky.named({"hold": "Hold Music"}).reason.startswith("does not yet hold Hold Music")
