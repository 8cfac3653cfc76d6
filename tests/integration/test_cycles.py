"""Certification cycles in the database: policy versions, extensions, hiatus, requests,
the daily tick, what-if, renewal and the revocation cascade.

Seed numbers of the issue: a 5-CEU category cap with the exempt training
library, one monthly series attended 20 times (6 count), a conference day of
8 hours with 3 hours of sessions, an extension, a hiatus that pauses the clock
then reactivation.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest
from sqlalchemy import select

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.services import awarding, catalog, cycles, status
from badger.services.issue import IssueRequest, issue_award
from badger.services.verification import verify_input
from badger.store.models import AuditEntry, Award, CycleReminder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
START = datetime(2025, 1, 1, tzinfo=UTC)
DEADLINE = datetime(2028, 1, 1, tzinfo=UTC)
ADA = "ada@example.org"


def policy_doc(**changes):
    return {**json.loads((EXAMPLES / "csms-policy.json").read_text()), **changes}


def spec(slug, credits, category, **kw):
    return AchievementSpec(
        slug=slug,
        name=kw.pop("name", slug.replace("-", " ").title()),
        description=f"{slug}.",
        criteria_narrative=f"Complete {slug}.",
        credits_available=D(credits) if credits is not None else None,
        credit_category=category,
        **kw,
    )


CATALOGUE = [
    spec("csms", None, None, achievement_type="Certification", name="Certified Strategist"),
    spec("ethics-disclosure", "2", "ethics"),
    *(spec(f"library-{n}", "4", "training-library") for n in range(1, 5)),
    spec("analytics-a", "3", "analytics"),
    spec("analytics-b", "3", "analytics"),
    spec("content-a", "2", "content-strategy"),
    spec("content-b", "2", "content-strategy"),
    spec("content-c", "1.5", "content-strategy"),
    spec(
        "webinar",
        "0.5",
        "webinars",
        series="monthly-strategy-webinar",
        tags=("webinar", "recurring"),
    ),
]
# Worth exactly 30 counted credits under the example policy: ethics 2, library 16
# (exempt), analytics 5 of 6 (cap), webinars 3 (6 of 20 attendances), content 4.
FULL = [
    "ethics-disclosure",
    "library-1",
    "library-2",
    "library-3",
    "library-4",
    "analytics-a",
    "analytics-b",
    "content-a",
    "content-b",
]


@pytest.fixture
def ctx(initialized):
    catalog.create_achievements(initialized, issuer_slug="default", specs=CATALOGUE, actor="test")
    return initialized


@pytest.fixture
def ada(ctx, create_account):
    return create_account(ADA, name="Ada Strategist").learner_public_id


@pytest.fixture
def policy(ctx):
    return cycles.import_policy(ctx, policy_doc(), actor="test")


@pytest.fixture
def cycle(ctx, ada, policy):
    return cycles.start_cycle(ctx, recipient=ADA, policy_key="csms", start=START, actor="test")


def earn(ctx, slug, when, *, cycle_key=""):
    return issue_award(
        ctx, IssueRequest(slug, ADA, issued_on=when, cycle_key=cycle_key), actor="test"
    ).public_id


def earn_full(ctx, webinars=6):
    """30 counted credits (the 20-attendance series seed is tested on its own)."""
    ids = {}
    for n, slug in enumerate(FULL):
        ids[slug] = earn(ctx, slug, START + timedelta(days=10 + n))
    for n in range(webinars):
        earn(ctx, "webinar", START + timedelta(days=40 + 20 * n), cycle_key=f"session-{n}")
    return ids


def overview(ctx, ada):
    (first, *_) = cycles.learner_cycles(ctx, ada)
    return first


# ---------------------------------------------------------------- policies


def test_policy_versions_are_kept_and_identical_reimport_is_a_no_op(ctx):
    first = cycles.import_policy(ctx, policy_doc(), actor="test")
    assert (first.key, first.version, first.created) == ("csms", 1, True)
    again = cycles.import_policy(ctx, policy_doc(), actor="test")
    assert (again.created, again.sha256) == (False, first.sha256)
    with pytest.raises(Conflict, match="different content"):
        cycles.import_policy(ctx, policy_doc(required_total=40), actor="test")
    second = cycles.import_policy(
        ctx, policy_doc(version=2, required_total=40, auto_renew=True), actor="test"
    )
    assert (second.version, second.required_total, second.auto_renew) == (2, 40, True)
    assert [(p.key, p.version) for p in cycles.list_policies(ctx)] == [("csms", 1), ("csms", 2)]
    assert cycles.get_policy(ctx, "csms").version == 2
    assert cycles.get_policy(ctx, "csms", 1).required_total == 30


@pytest.mark.parametrize(
    ("change", "field"),
    [({"on_shortfall": "shrug"}, "on_shortfall"), ({"auto_renew": "yes"}, "auto_renew")],
)
def test_bad_policy_fields_are_named(ctx, change, field):
    with pytest.raises(ValidationError) as info:
        cycles.import_policy(ctx, policy_doc(**change), actor="test")
    assert info.value.field == field


def test_a_cycle_keeps_the_policy_version_it_started_under(ctx, cycle):
    cycles.import_policy(ctx, policy_doc(version=2, required_total=40), actor="test")
    assert cycles.get_cycle(ctx, cycle.public_id).policy_version == 1
    assert overview(ctx, cycle.learner_public_id).ledger.required_total == 30


def test_staff_can_migrate_an_open_cycle_to_a_newer_version(ctx, cycle):
    cycles.import_policy(ctx, policy_doc(version=2, cycle_months=48), actor="test")
    view = cycles.migrate_cycle(
        ctx, cycle.public_id, version=2, reason="board adopted v2", actor="staff"
    )
    assert (view.policy_version, view.base_deadline) == (2, datetime(2029, 1, 1, tzinfo=UTC))
    with pytest.raises(Conflict, match="already under csms v2"):
        cycles.migrate_cycle(ctx, cycle.public_id, version=2, reason="again", actor="staff")
    with pytest.raises(NotFound):
        cycles.migrate_cycle(ctx, cycle.public_id, version=9, reason="typo", actor="staff")


# ---------------------------------------------------------------- cycles


def test_a_cycle_runs_three_years_under_the_newest_version(ctx, cycle):
    assert (cycle.status, cycle.policy_key, cycle.policy_version) == ("active", "csms", 1)
    assert (cycle.starts_at, cycle.base_deadline, cycle.effective_deadline) == (
        START,
        DEADLINE,
        DEADLINE,
    )
    assert cycle.certification == "csms"
    assert cycle.days_left == (DEADLINE - ctx.now()).days + 1


def test_one_open_cycle_per_learner_and_policy(ctx, cycle):
    with pytest.raises(Conflict, match="already has an open csms cycle"):
        cycles.start_cycle(ctx, recipient=ADA, policy_key="csms", start=START, actor="test")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"recipient": "nobody@example.org"}, NotFound),
        ({"policy_key": "unknown"}, NotFound),
        ({"certification": "ethics-disclosure"}, ValidationError),
        ({"start": datetime(2025, 1, 1)}, ValidationError),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_start_cycle_refuses_bad_input(ctx, ada, policy, kwargs, error):
    args = {"recipient": ADA, "policy_key": "csms", "start": START, "actor": "test", **kwargs}
    with pytest.raises(error):
        cycles.start_cycle(ctx, **args)


def test_learner_cycles_carry_the_ledger_with_the_seed_rules(ctx, cycle):
    earn(ctx, "analytics-a", START + timedelta(days=5))
    earn(ctx, "analytics-b", START + timedelta(days=6))
    earn(ctx, "library-1", START + timedelta(days=7))
    earn(ctx, "library-2", START + timedelta(days=8))
    for n in range(20):
        earn(ctx, "webinar", START + timedelta(days=30 + 20 * n), cycle_key=f"s{n}")
    (view,) = cycles.learner_cycles(ctx, cycle.learner_public_id)
    totals = {t.name: t for t in view.ledger.categories}
    assert totals["analytics"].counted == 5  # 6 earned, 5-CEU cap
    assert totals["training-library"].counted == 8  # exempt
    assert totals["webinars"].counted == 3  # 6 of 20 attendances
    assert sum(1 for line in view.ledger.lines if line.rule == "series_cap") == 14
    assert view.ledger.counted_total == 16
    assert not view.ledger.satisfied
    assert view.cycle.public_id == cycle.public_id
    assert view.pending_requests == ()


# ---------------------------------------------------------------- extension and hiatus


def test_an_extension_moves_the_deadline_and_is_audited(ctx, cycle, mailer):
    view = cycles.grant_extension(
        ctx, cycle.public_id, days=60, reason="medical leave", actor="staff"
    )
    assert view.effective_deadline == DEADLINE + timedelta(days=60)
    assert view.base_deadline == DEADLINE
    assert [(e.days, e.reason, e.granted_by) for e in view.extensions] == [
        (60, "medical leave", "staff")
    ]
    assert mailer.sent[-1].subject.startswith("Deadline extended")
    with ctx.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == cycle.public_id)
        ).all()
    assert "cycle.extend" in actions


@pytest.mark.parametrize(("days", "reason", "field"), [(0, "x", "days"), (10, " ", "reason")])
def test_extension_input_is_checked(ctx, cycle, days, reason, field):
    with pytest.raises(ValidationError) as info:
        cycles.grant_extension(ctx, cycle.public_id, days=days, reason=reason, actor="staff")
    assert info.value.field == field


def test_hiatus_pauses_the_clock_then_reactivation_moves_the_deadline(ctx, cycle, clock):
    cert = earn(ctx, "csms", START)
    view = cycles.start_hiatus(ctx, cycle.public_id, reason="parental leave", actor="staff")
    assert view.status == "inactive"
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Award.status).where(Award.public_id == cert)) == (
            "suspended"
        )
    clock.now += timedelta(days=120)
    paused = cycles.get_cycle(ctx, cycle.public_id)
    assert paused.effective_deadline == DEADLINE + timedelta(days=120)
    with pytest.raises(Conflict, match="already on hiatus"):
        cycles.start_hiatus(ctx, cycle.public_id, reason="again", actor="staff")
    back = cycles.end_hiatus(ctx, cycle.public_id, actor="staff")
    assert back.status == "active"
    assert back.paused_days == 120
    assert back.effective_deadline == DEADLINE + timedelta(days=120)
    assert back.hiatus[0].ended_at == clock.now
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Award.status).where(Award.public_id == cert)) == "active"
    clock.now += timedelta(days=30)
    assert cycles.get_cycle(ctx, cycle.public_id).effective_deadline == DEADLINE + timedelta(
        days=120
    )


def test_credit_earned_during_hiatus_does_not_count(ctx, cycle, clock):
    cycles.start_hiatus(ctx, cycle.public_id, reason="leave", actor="staff")
    clock.now += timedelta(days=10)
    earn(ctx, "analytics-a", clock.now - timedelta(days=5))
    cycles.end_hiatus(ctx, cycle.public_id, actor="staff")
    (line,) = overview(ctx, cycle.learner_public_id).ledger.lines
    assert line.rule == "hiatus"


# ---------------------------------------------------------------- requests


def test_learner_asks_for_an_extension_and_staff_approve_with_fewer_days(ctx, cycle, mailer):
    request = cycles.request_change(
        ctx,
        learner_public_id=cycle.learner_public_id,
        cycle_public_id=cycle.public_id,
        kind="extension",
        reason="conference cancelled",
        days=90,
    )
    assert request.status == "pending"
    assert [r.public_id for r in cycles.list_requests(ctx)] == [request.public_id]
    assert overview(ctx, cycle.learner_public_id).pending_requests[0].public_id == (
        request.public_id
    )
    with pytest.raises(Conflict, match="already waiting"):
        cycles.request_change(
            ctx,
            learner_public_id=cycle.learner_public_id,
            cycle_public_id=cycle.public_id,
            kind="extension",
            reason="again",
            days=10,
        )
    decided = cycles.decide_request(
        ctx, request.public_id, decision="approve", actor="staff", days=45, comment="45 is enough"
    )
    assert (decided.status, decided.days, decided.decided_by) == ("approved", 45, "staff")
    assert cycles.get_cycle(ctx, cycle.public_id).effective_deadline == DEADLINE + timedelta(
        days=45
    )
    assert cycles.list_requests(ctx) == []
    assert mailer.sent[-1].to == ADA
    assert "approved" in mailer.sent[-1].subject
    with pytest.raises(Conflict, match="already approved"):
        cycles.decide_request(ctx, request.public_id, decision="reject", actor="x", comment="no")


def test_hiatus_and_reactivation_requests_apply_when_approved(ctx, cycle, clock):
    ask = {"learner_public_id": cycle.learner_public_id, "cycle_public_id": cycle.public_id}
    with pytest.raises(ValidationError, match="not on hiatus"):
        cycles.request_change(ctx, **ask, kind="reactivation", reason="ready")
    hiatus = cycles.request_change(ctx, **ask, kind="hiatus", reason="caring for a parent")
    cycles.decide_request(ctx, hiatus.public_id, decision="approve", actor="staff")
    assert cycles.get_cycle(ctx, cycle.public_id).status == "inactive"
    clock.now += timedelta(days=200)
    back = cycles.request_change(ctx, **ask, kind="reactivation", reason="back at work")
    cycles.decide_request(ctx, back.public_id, decision="approve", actor="staff")
    view = cycles.get_cycle(ctx, cycle.public_id)
    assert (view.status, view.effective_deadline) == ("active", DEADLINE + timedelta(days=200))
    assert [r.kind for r in cycles.requests_of(ctx, cycle.learner_public_id)] == [
        "reactivation",
        "hiatus",
    ]


def test_a_rejection_needs_a_comment_and_changes_nothing(ctx, cycle):
    request = cycles.request_change(
        ctx,
        learner_public_id=cycle.learner_public_id,
        cycle_public_id=cycle.public_id,
        kind="extension",
        reason="busy",
        days=30,
    )
    with pytest.raises(ValidationError) as info:
        cycles.decide_request(ctx, request.public_id, decision="reject", actor="staff")
    assert info.value.field == "comment"
    rejected = cycles.decide_request(
        ctx, request.public_id, decision="reject", actor="staff", comment="plenty of time left"
    )
    assert rejected.status == "rejected"
    assert cycles.get_cycle(ctx, cycle.public_id).extensions == ()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "holiday"}, "kind"),
        ({"kind": "extension"}, "days"),
        ({"kind": "hiatus", "days": 5}, "days"),
        ({"kind": "extension", "days": 5, "reason": ""}, "reason"),
    ],
)
def test_bad_requests_name_the_field(ctx, cycle, kwargs, field):
    args = {
        "learner_public_id": cycle.learner_public_id,
        "cycle_public_id": cycle.public_id,
        "reason": "because",
        **kwargs,
    }
    with pytest.raises(ValidationError) as info:
        cycles.request_change(ctx, **args)
    assert info.value.field == field


def test_a_learner_cannot_ask_about_someone_elses_cycle(ctx, cycle, create_account):
    grace = create_account("grace@example.org").learner_public_id
    with pytest.raises(NotFound):
        cycles.request_change(
            ctx,
            learner_public_id=grace,
            cycle_public_id=cycle.public_id,
            kind="hiatus",
            reason="mine now",
        )


# ---------------------------------------------------------------- the daily tick


def test_tick_moves_past_the_deadline_to_grace_then_lapsed_idempotently(ctx, cycle, mailer):
    late = DEADLINE + timedelta(days=1)
    first = cycles.tick(ctx, now=late)
    assert [(c.from_status, c.to_status) for c in first.changes] == [("active", "grace")]
    assert "grace period of 30 days" in first.changes[0].reason
    assert cycles.tick(ctx, now=late).changes == ()
    assert cycles.get_cycle(ctx, cycle.public_id).status == "grace"
    lapsed = cycles.tick(ctx, now=DEADLINE + timedelta(days=31))
    assert [(c.from_status, c.to_status) for c in lapsed.changes] == [("grace", "lapsed")]
    assert cycles.tick(ctx, now=DEADLINE + timedelta(days=40)).examined == 0
    assert [m.subject for m in mailer.sent[-2:]] == [
        "Certified Strategist: grace period",
        "Certified Strategist: lapsed",
    ]


def test_an_extension_reinstates_a_lapsed_cycle(ctx, cycle, clock):
    cycles.tick(ctx, now=DEADLINE + timedelta(days=31))
    clock.now = DEADLINE + timedelta(days=35)
    view = cycles.grant_extension(
        ctx, cycle.public_id, days=90, reason="appeal upheld", actor="staff"
    )
    assert (view.status, view.effective_deadline) == ("active", DEADLINE + timedelta(days=90))
    with pytest.raises(Conflict, match="already has an open csms cycle"):
        cycles.start_cycle(ctx, recipient=ADA, policy_key="csms", start=DEADLINE, actor="t")


def test_reminders_go_90_30_and_7_days_before_once_each(ctx, cycle, mailer):
    sent = []
    for days in (100, 90, 89, 30, 30, 7, 6):
        report = cycles.tick(ctx, now=DEADLINE - timedelta(days=days))
        sent += [r.kind for r in report.reminders]
    assert sent == ["90d:2028-01-01", "30d:2028-01-01", "7d:2028-01-01"]
    with ctx.uow() as uow:
        assert len(uow.session.scalars(select(CycleReminder)).all()) == 3
    reminders = [m for m in mailer.sent if m.subject.startswith("Renewal due")]
    assert [m.subject for m in reminders] == [
        "Renewal due in 90 days: Certified Strategist",
        "Renewal due in 30 days: Certified Strategist",
        "Renewal due in 7 days: Certified Strategist",
    ]
    assert "0 of 30 credits; 30 to go" in reminders[0].body
    assert reminders[0].to == ADA


def test_one_failing_cycle_does_not_stop_the_tick(ctx, cycle, create_account, monkeypatch):
    create_account("grace@example.org", name="Grace")
    other = cycles.start_cycle(
        ctx, recipient="grace@example.org", policy_key="csms", start=START, actor="test"
    )
    real = cycles._tick_one

    def flaky(ctx_, uow, public_id, *args):
        if public_id == cycle.public_id:
            raise Conflict("simulated failure")
        return real(ctx_, uow, public_id, *args)

    monkeypatch.setattr(cycles, "_tick_one", flaky)
    report = cycles.tick(ctx, now=DEADLINE + timedelta(days=1))
    assert report.failures == ((cycle.public_id, "simulated failure"),)
    assert [c.cycle_public_id for c in report.changes] == [other.public_id]


def test_a_cycle_on_hiatus_does_not_advance(ctx, cycle):
    cycles.start_hiatus(ctx, cycle.public_id, reason="leave", actor="staff")
    report = cycles.tick(ctx, now=DEADLINE + timedelta(days=100))
    assert (report.examined, report.changes, report.reminders) == (0, (), ())
    assert cycles.get_cycle(ctx, cycle.public_id).status == "inactive"


def test_at_risk_lists_unsatisfied_cycles_near_their_deadline(ctx, cycle, create_account):
    assert cycles.at_risk(ctx, now=DEADLINE - timedelta(days=200)) == []
    (risk,) = cycles.at_risk(ctx, now=DEADLINE - timedelta(days=60))
    assert (risk.cycle.public_id, risk.remaining) == (cycle.public_id, 30)
    assert any("ethics-disclosure" in reason for reason in risk.unmet)
    assert cycles.at_risk(ctx, now=DEADLINE - timedelta(days=200), within_days=365)


# ---------------------------------------------------------------- what-if and suggestions


def test_what_if_a_conference_day_counts_its_three_hours_of_sessions(ctx, cycle):
    result = cycles.what_if(
        ctx,
        cycle.public_id,
        {
            "credits": 8,
            "category": "conferences",
            "activity_type": "conference",
            "learning_minutes": 180,
        },
    )
    assert (result.gain, result.line.counted, result.capped_by) == (3, 3, None)
    assert "learning sessions only: 180 min" in result.line.reason
    none = cycles.what_if(
        ctx,
        cycle.public_id,
        {"credits": 8, "category": "conferences", "activity_type": "conference"},
    )
    assert (none.gain, none.capped_by) == (0, "learning_time")


def test_what_if_names_the_cap_that_bites(ctx, cycle):
    earn(ctx, "analytics-a", START + timedelta(days=3))
    earn(ctx, "analytics-b", START + timedelta(days=4))
    for n in range(20):
        earn(ctx, "webinar", START + timedelta(days=30 + 20 * n), cycle_key=f"s{n}")
    capped = cycles.what_if(ctx, cycle.public_id, {"credits": "2", "category": "analytics"})
    assert (capped.gain, capped.capped_by) == (0, "category_cap")
    exempt = cycles.what_if(ctx, cycle.public_id, {"credits": 10, "category": "training-library"})
    assert (exempt.gain, exempt.capped_by) == (10, None)
    series = cycles.what_if(
        ctx,
        cycle.public_id,
        {
            "credits": "0.5",
            "category": "webinars",
            "series": "monthly-strategy-webinar",
            "activity_type": "webinar",
        },
    )
    assert (series.gain, series.capped_by) == (0, "series_cap")
    assert series.before.counted_total == series.after.counted_total == 8


@pytest.mark.parametrize(
    ("activity", "field"),
    [
        ({"credits": "lots", "category": "x"}, "credits"),
        ({"credits": -1, "category": "x"}, "credits"),
        ({"credits": 1}, "category"),
        ({"credits": 1, "category": "x", "learning_minutes": "long"}, "learning_minutes"),
        ({"credits": 1, "category": "x", "earned_at": "yesterday"}, "earned_at"),
    ],
)
def test_what_if_input_errors_name_the_field(ctx, cycle, activity, field):
    with pytest.raises(ValidationError) as info:
        cycles.what_if(ctx, cycle.public_id, activity)
    assert info.value.field == field


def test_suggestions_skip_full_categories_and_held_badges_best_gain_first(ctx, cycle):
    earn(ctx, "analytics-a", START + timedelta(days=3))
    earn(ctx, "analytics-b", START + timedelta(days=4))
    earn(ctx, "library-1", START + timedelta(days=5))
    found = cycles.suggestions(ctx, cycle.public_id, limit=20)
    slugs = [s.achievement_slug for s in found]
    assert slugs[:3] == ["library-2", "library-3", "library-4"]
    assert all(s.exempt and s.gain == 4 for s in found[:3])
    assert not {"analytics-a", "analytics-b", "library-1", "csms"} & set(slugs)
    assert {"ethics-disclosure", "content-a", "webinar"} <= set(slugs)
    assert [s.gain for s in found] == sorted((s.gain for s in found), reverse=True)
    assert len(cycles.suggestions(ctx, cycle.public_id, limit=2)) == 2


# ---------------------------------------------------------------- renewal and the revocation cascade


def award_status(ctx, public_id):
    with ctx.uow() as uow:
        return uow.session.scalar(select(Award.status).where(Award.public_id == public_id))


def test_renewal_is_refused_with_the_unmet_requirements(ctx, cycle):
    earn(ctx, "library-1", START + timedelta(days=3))
    with pytest.raises(
        Conflict, match=r"not satisfied yet: 4.00 of 30 credits counted; 26.00 to go"
    ):
        cycles.renew(ctx, cycle.public_id, actor="staff")
    assert cycles.get_cycle(ctx, cycle.public_id).status == "active"


def test_a_satisfied_cycle_renews_once_and_opens_the_next_cycle(ctx, cycle, mailer):
    earn_full(ctx)
    result = cycles.renew(ctx, cycle.public_id, actor="staff")
    assert result.cycle.status == "renewed"
    assert result.cycle.renewal_award_id == result.award_public_id
    assert result.clr_url.endswith("/clr-ldp.json")
    assert award_status(ctx, result.award_public_id) == "active"
    nxt = result.next_cycle
    assert (nxt.status, nxt.starts_at, nxt.previous_cycle_id) == (
        "active",
        DEADLINE,
        cycle.public_id,
    )
    assert nxt.base_deadline == datetime(2031, 1, 1, tzinfo=UTC)
    assert cycles.get_cycle(ctx, cycle.public_id).next_cycle_id == nxt.public_id
    assert any(m.subject.startswith("Certification renewed") for m in mailer.sent)
    with pytest.raises(Conflict, match="already renewed"):
        cycles.renew(ctx, cycle.public_id, actor="staff")


def test_an_early_renewal_is_in_force_from_today_and_verifies(ctx, cycle):
    # The next cycle starts at the old deadline; the credential must not carry
    # a future validFrom, which verifiers read as "not yet valid".
    earn_full(ctx)
    result = cycles.renew(ctx, cycle.public_id, actor="staff")
    assert ctx.now() < DEADLINE
    with ctx.uow() as uow:
        award = uow.session.scalar(select(Award).where(Award.public_id == result.award_public_id))
        assert (award.valid_from, award.valid_until) == (
            ctx.now(),
            datetime(2031, 1, 1, tzinfo=UTC),
        )
        ldp = next(d.content for d in award.documents if d.format == "ob3-ldp")
    credential = json.loads(ldp)
    assert credential["validFrom"] == ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    report = verify_input(ctx, ldp, offline=True)
    assert report.verdict.value == "valid", report.as_json()


def test_the_next_cycle_uses_the_newest_policy_version(ctx, cycle):
    cycles.import_policy(ctx, policy_doc(version=2, cycle_months=24), actor="test")
    earn_full(ctx)
    nxt = cycles.renew(ctx, cycle.public_id, actor="staff").next_cycle
    assert (nxt.policy_version, nxt.base_deadline) == (2, datetime(2030, 1, 1, tzinfo=UTC))


def test_renewing_the_next_cycle_supersedes_the_previous_renewal(ctx, cycle, clock):
    earn_full(ctx)
    first = cycles.renew(ctx, cycle.public_id, actor="staff")
    clock.now = DEADLINE + timedelta(days=500)
    for n, slug in enumerate(FULL):
        earn(ctx, slug, DEADLINE + timedelta(days=10 + n), cycle_key="c2")
    for n in range(6):
        earn(ctx, "webinar", DEADLINE + timedelta(days=40 + 20 * n), cycle_key=f"c2-{n}")
    second = cycles.renew(ctx, first.next_cycle.public_id, actor="staff")
    old = cycles.get_cycle(ctx, cycle.public_id)
    assert old.superseded_at == clock.now
    assert award_status(ctx, first.award_public_id) == "active"  # superseded, never deleted
    assert second.next_cycle.previous_cycle_id == first.next_cycle.public_id


def test_auto_renew_policies_renew_on_tick(ctx, ada):
    # The badges were earned before the cycle was recorded (an award renews an
    # auto-renewing cycle at once; a cycle satisfied otherwise waits for tick).
    earn_full(ctx)
    cycles.import_policy(ctx, policy_doc(key="csms-auto", auto_renew=True), actor="test")
    auto = cycles.start_cycle(
        ctx,
        recipient=ADA,
        policy_key="csms-auto",
        certification="csms",
        start=START,
        actor="test",
    )
    report = cycles.tick(ctx, now=ctx.now())
    assert report.renewed == (auto.public_id,)
    assert cycles.get_cycle(ctx, auto.public_id).status == "renewed"
    assert cycles.tick(ctx, now=ctx.now()).renewed == ()


def test_after_award_renews_a_satisfied_auto_renew_cycle(ctx, ada):
    earn_full(ctx)  # before the cycle exists, so no award has renewed it yet
    cycles.import_policy(ctx, policy_doc(key="csms-auto", auto_renew=True), actor="test")
    auto = cycles.start_cycle(
        ctx, recipient=ADA, policy_key="csms-auto", certification="csms", start=START, actor="t"
    )
    with ctx.uow() as uow:
        learner_id = uow.session.scalar(select(Award.learner_id).limit(1))
        assert cycles.after_award(ctx, uow, learner_id, actor="engine") == [auto.public_id]


def test_an_event_completing_the_last_unit_renews_an_auto_renew_cycle(ctx, ada):
    # Event -> award -> ledger satisfied -> renewal credential, in one transaction.
    cycles.import_policy(ctx, policy_doc(key="csms-auto", auto_renew=True), actor="test")
    auto = cycles.start_cycle(
        ctx, recipient=ADA, policy_key="csms-auto", certification="csms", start=START, actor="t"
    )
    catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=spec("content-live", "2", "content-strategy", rules={"event": "course.done"}),
    )
    for n, slug in enumerate(s for s in FULL if s != "content-b"):
        earn(ctx, slug, START + timedelta(days=10 + n))
    for n in range(6):
        earn(ctx, "webinar", START + timedelta(days=40 + 20 * n), cycle_key=f"session-{n}")
    assert cycles.get_cycle(ctx, auto.public_id).status == "active"
    result = awarding.record_event(
        ctx,
        {"recipient": ADA, "kind": "course.done", "data": {}},
        idempotency_key="live-1",
        source="lms",
        actor="engine",
    )
    assert [a.achievement_slug for a in result.awarded] == ["content-live"]
    renewed = cycles.get_cycle(ctx, auto.public_id)
    assert renewed.status == "renewed"
    assert award_status(ctx, renewed.renewal_award_id) == "active"


def test_revoking_a_counted_badge_suspends_the_renewal_pending_review(ctx, cycle):
    ids = earn_full(ctx)
    renewed = cycles.renew(ctx, cycle.public_id, actor="staff")
    status.revoke(ctx, ids["content-b"], reason="plagiarised assignment", actor="staff")
    assert award_status(ctx, renewed.award_public_id) == "suspended"
    (item,) = cycles.review_queue(ctx)
    assert item.cycle.public_id == cycle.public_id
    assert item.renewal_award_status == "suspended"
    assert item.counted_total == 28
    assert "28.00 of 30 credits counted; 2.00 to go" in item.cycle.review_reason
    view = cycles.resolve_review(
        ctx, cycle.public_id, decision="reinstate", actor="staff", comment="made up later"
    )
    assert view.review_state == "reinstated"
    assert award_status(ctx, renewed.award_public_id) == "active"
    assert cycles.review_queue(ctx) == []


def test_review_can_revoke_the_renewal_credential(ctx, cycle):
    ids = earn_full(ctx)
    renewed = cycles.renew(ctx, cycle.public_id, actor="staff")
    status.revoke(ctx, ids["library-1"], reason="course withdrawn", actor="staff")
    with pytest.raises(ValidationError) as info:
        cycles.resolve_review(ctx, cycle.public_id, decision="revoke", actor="staff")
    assert info.value.field == "comment"
    cycles.resolve_review(
        ctx, cycle.public_id, decision="revoke", actor="staff", comment="short of credit"
    )
    assert award_status(ctx, renewed.award_public_id) == "revoked"


def test_on_shortfall_keep_queues_for_review_without_suspending(ctx, ada):
    cycles.import_policy(ctx, policy_doc(key="csms-keep", on_shortfall="keep"), actor="test")
    keep = cycles.start_cycle(
        ctx, recipient=ADA, policy_key="csms-keep", certification="csms", start=START, actor="t"
    )
    ids = earn_full(ctx)
    renewed = cycles.renew(ctx, keep.public_id, actor="staff")
    status.revoke(ctx, ids["ethics-disclosure"], reason="withdrawn", actor="staff")
    assert award_status(ctx, renewed.award_public_id) == "active"
    (item,) = cycles.review_queue(ctx)
    assert item.renewal_award_status == "active"
    assert "required achievement ethics-disclosure" in item.cycle.review_reason


def test_revoking_a_badge_the_renewal_did_not_count_changes_nothing(ctx, cycle):
    earn_full(ctx)
    extra = earn(ctx, "content-c", START + timedelta(days=300))  # content is already at 4 + 1
    renewed = cycles.renew(ctx, cycle.public_id, actor="staff")
    status.revoke(ctx, extra, reason="duplicate", actor="staff")
    # Still satisfied without it: rechecked, not queued.
    assert cycles.review_queue(ctx) == []
    assert award_status(ctx, renewed.award_public_id) == "active"
