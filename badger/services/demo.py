"""Demo data: a social-media-strategist certification body.

Realistic rather than minimal: continuing-education categories capped at
5 CEUs with one exempt sibling (the training library), a recurring monthly
webinar series, a conference whose learning sessions count, an ethics unit,
short microcredentials (two awarded on a course's completion event with a
score, one on reviewed evidence) that stack into a microcredential, the
certification itself, two learners, and one completion event that awards Ada
her first badge automatically.  Loading it twice changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import NotFound
from badger.domain.recipients import normalize_email
from badger.services import accounts, awarding, catalog, cycles
from badger.services.context import Context
from badger.services.setup import InitReport
from badger.store.models import Account, Achievement, Issuer

DEMO_ISSUER = {
    "name": "Institute of Social Media Strategists",
    "url": "https://ismsx.example.org",
    "email": "certification@ismsx.example.org",
    "description": "Certifies social media strategists and keeps them current through continuing education.",
}


def _spec(
    slug: str, name: str, credits: str | None, category: str | None, **kw: object
) -> AchievementSpec:
    description = str(kw.pop("description", f"{name}."))
    criteria = str(kw.pop("criteria", f"Complete {name} and pass its knowledge check."))
    return AchievementSpec(
        slug=slug,
        name=name,
        description=description,
        criteria_narrative=criteria,
        credits_available=Decimal(credits) if credits is not None else None,
        credit_category=category,
        **kw,  # type: ignore[arg-type]
    )


def _course_passed(course: str, score: int) -> dict[str, Any]:
    """Awarded on the learning platform's completion event for ``course`` with that score."""
    return {
        "event": "course.completed",
        "where": [
            {"field": "course", "op": "eq", "value": course},
            {"field": "score", "op": "gte", "value": score},
        ],
    }


DEMO_ACHIEVEMENTS: tuple[AchievementSpec, ...] = (
    _spec(
        "csms",
        "Certified Social Media Strategist",
        None,
        None,
        achievement_type="Certification",
        description="The certification: renewed every 3 years with 30 CEUs.",
        criteria="Hold the certification and earn 30 CEUs per 3-year cycle under the renewal policy.",
        validity_days=3 * 365,
        tags=("certification",),
    ),
    _spec(
        "content-calendar-basics",
        "Content Calendar Basics",
        "1.5",
        "content-strategy",
        provider="ISMS Academy",
        tags=("content", "planning"),
        criteria="Complete the course in the ISMS Academy and score 70% or more in its final quiz.",
        rules=_course_passed("content-calendar-basics", 70),
    ),
    _spec(
        "audience-research",
        "Audience Research Methods",
        "2",
        "content-strategy",
        provider="ISMS Academy",
        tags=("content", "research"),
        criteria="Submit an audience research brief for a real account; a reviewer approves it.",
        rules={"evidence_approved": "audience-research"},
    ),
    _spec(
        "social-analytics-101",
        "Social Analytics 101",
        "3",
        "analytics",
        provider="Metrics Lab",
        tags=("analytics",),
        criteria="Complete the course with Metrics Lab and score 80% or more in its final quiz.",
        rules=_course_passed("social-analytics-101", 80),
    ),
    _spec(
        "attribution-models",
        "Attribution Models in Practice",
        "3",
        "analytics",
        provider="Metrics Lab",
        tags=("analytics",),
    ),
    _spec(
        "ethics-disclosure",
        "Ethics and Disclosure in Influencer Marketing",
        "2",
        "ethics",
        provider="ISMS Academy",
        description="The required ethics unit of every renewal cycle.",
        tags=("ethics", "required"),
    ),
    _spec(
        "training-library-video-strategy",
        "Training Library: Short-form Video Strategy",
        "4",
        "training-library",
        provider="ISMS Training Library",
        description="From the training library; its category is exempt from the 5-CEU cap.",
        tags=("training-library",),
    ),
    _spec(
        "training-library-crisis-comms",
        "Training Library: Crisis Communication",
        "4",
        "training-library",
        provider="ISMS Training Library",
        tags=("training-library",),
    ),
    _spec(
        "monthly-webinar",
        "Monthly Strategy Webinar",
        "0.5",
        "webinars",
        provider="ISMS",
        series="monthly-strategy-webinar",
        description="One session of the recurring monthly webinar; repeat attendance counts up to the series cap.",
        criteria="Attend the live session and submit the short quiz or a reflection as proof of learning.",
        tags=("webinar", "recurring"),
    ),
    _spec(
        "content-strategy-foundations",
        "Content Strategy Foundations",
        None,
        None,
        achievement_type="MicroCredential",
        provider="ISMS Academy",
        description="A stacked microcredential: the two content units and one analytics unit.",
        criteria="Earn Content Calendar Basics and Audience Research Methods, and one of Social "
        "Analytics 101 or Attribution Models in Practice. Awarded the moment the last one is.",
        tags=("content", "stack"),
        rules={
            "all_of": [
                {"earned": "content-calendar-basics"},
                {"earned": "audience-research"},
                {
                    "at_least": 1,
                    "of": [{"earned": "social-analytics-101"}, {"earned": "attribution-models"}],
                },
            ]
        },
    ),
    _spec(
        "social-summit-2026",
        "Social Summit 2026: Learning Sessions",
        "3",
        "conferences",
        provider="Social Summit",
        description="Only the documented learning sessions of the conference count (3 of 8 hours).",
        criteria="Attend the learning sessions listed in the conference outline (180 minutes).",
        tags=("conference",),
    ),
)

# The renewal policy of the certification (the same as examples/csms-policy.json,
# which a test keeps equal): ada@example.org gets an open cycle under it.
DEMO_POLICY: dict[str, Any] = {
    "key": "csms",
    "version": 1,
    "name": "Certified Social Media Strategist renewal",
    "required_total": 30,
    "cycle_months": 36,
    "default_category_cap": 5,
    "categories": [
        {"name": "ethics", "label": "Ethics", "cap": 5, "minimum": 2},
        {"name": "training-library", "label": "Training library", "cap": None},
        {"name": "content-strategy", "label": "Content strategy", "cap": 5},
        {"name": "analytics", "label": "Analytics", "cap": 5},
        {"name": "webinars", "label": "Webinars", "cap": 5},
        {"name": "conferences", "label": "Conferences", "cap": 5},
    ],
    "series_caps": [{"series": "monthly-strategy-webinar", "max_items": 6}],
    "min_distinct_categories": 3,
    "required_achievements": ["ethics-disclosure"],
    "proof_required_types": ["webinar"],
    "minutes_per_credit": 60,
    "minute_based_types": ["conference"],
    "credit_during_hiatus": False,
    "grace_days": 30,
}
DEMO_CYCLE_LEARNER = "ada@example.org"

# What the learning platform reported (POST /api/v1/events in a real deployment):
# Ada passed a course, which awards its badge automatically and starts her on
# the stacked microcredential.  (recipient, days ago, event data)
DEMO_EVENTS = (("ada@example.org", 20, {"course": "content-calendar-basics", "score": 88}),)

DEMO_LEARNERS = (
    ("Ada Strategist", "ada@example.org"),
    ("Grace Analyst", "grace@example.org"),
)


def load_demo(ctx: Context, *, learner_password: str) -> InitReport:
    """Add the demo catalogue and learners to the deployment's issuer."""
    report = InitReport()
    now = ctx.now()
    slug = ctx.settings.issuer_slug
    with ctx.uow() as uow:
        issuer = uow.session.scalar(select(Issuer).where(Issuer.slug == slug))
        if issuer is None:
            raise NotFound(f"issuer {slug!r} does not exist; run `badger init` first")
        if issuer.name in {"", "Badger issuer"}:
            for key, value in DEMO_ISSUER.items():
                setattr(issuer, key, value)
            catalog.definitions_changed(uow)
            report.say(f"issuer {slug!r} renamed to {DEMO_ISSUER['name']}")
        existing = set(
            uow.session.scalars(select(Achievement.slug).where(Achievement.issuer_id == issuer.id))
        )
        added = 0
        for spec in DEMO_ACHIEVEMENTS:
            if spec.slug in existing:
                continue
            catalog.add_achievement(uow, issuer_slug=slug, spec=spec, actor="demo", now=now)
            added += 1
        report.say(f"{added} demo achievements added ({len(DEMO_ACHIEVEMENTS) - added} existed)")
        for name, email in DEMO_LEARNERS:
            email = normalize_email(email)
            if uow.session.scalar(select(Account.id).where(Account.email == email)):
                report.say(f"learner {email} exists")
                continue
            accounts.add_account(
                uow,
                now=now,
                email=email,
                password=learner_password,
                display_name=name,
                email_verified=True,
                actor="demo",
            )
            report.say(f"learner {email} created")
    policy = cycles.import_policy(ctx, DEMO_POLICY, actor="demo")
    report.say(
        f"renewal policy {policy.key} v{policy.version} "
        + ("imported" if policy.created else "exists")
    )
    learner = cycles.find_learner(ctx, DEMO_CYCLE_LEARNER)
    if any(
        o.cycle.is_open and o.cycle.policy_key == policy.key
        for o in cycles.learner_cycles(ctx, learner)
    ):
        report.say(f"{DEMO_CYCLE_LEARNER} has an open {policy.key} cycle")
    else:
        view = cycles.start_cycle(
            ctx,
            recipient=DEMO_CYCLE_LEARNER,
            policy_key=policy.key,
            start=datetime(now.year - 1, 1, 1, tzinfo=UTC),
            actor="demo",
        )
        report.say(
            f"{DEMO_CYCLE_LEARNER}: {policy.key} cycle {view.starts_at:%Y-%m-%d} → "
            f"{view.effective_deadline:%Y-%m-%d} started"
        )
    for recipient, days_ago, data in DEMO_EVENTS:
        result = awarding.record_event(
            ctx,
            {
                "recipient": recipient,
                "kind": "course.completed",
                "occurred_at": (now - timedelta(days=days_ago)).isoformat(),
                "data": data,
            },
            idempotency_key=f"demo:{recipient}:{data['course']}",
            source="demo",
            actor="demo",
        )
        awarded = ", ".join(a.achievement_slug for a in result.awarded)
        report.say(
            f"{recipient}: course.completed {data['course']} "
            + ("recorded" if result.recorded else "known")
            + (f", awarded {awarded}" if awarded else "")
        )
    return report
