"""Events in, awards out: rules, cascades, idempotency and exactly-once under concurrency."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, update

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import ValidationError
from badger.services import awarding, catalog
from badger.services.issue import AlreadyHeld, IssueRequest, add_award, learner_for
from badger.store.models import Achievement as AchievementRow
from badger.store.models import (
    AuditEntry,
    Award,
    CatalogState,
    CompletionEvent,
    Learner,
    LearnerIdentifier,
    StatusAllocation,
    StatusList,
)
from tests.fakes import race, statements_sent

QUIZ_RULE = {
    "event": "course.completed",
    "where": [
        {"field": "course", "op": "eq", "value": "ethics-101"},
        {"field": "score", "op": "gte", "value": 80},
    ],
}


def spec(slug, rules=None, credits="1", name=None):
    return AchievementSpec(
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        description=f"{slug} unit",
        criteria_narrative="See the rules.",
        credits_available=Decimal(credits),
        credit_category="general",
        rules=rules,
    )


def define(ctx, slug, rules=None, credits="1"):
    catalog.create_achievement(ctx, issuer_slug="default", spec=spec(slug, rules, credits))


def rename_issuer(ctx, name):
    catalog.update_issuer(
        ctx,
        name=name,
        url="https://institute.example.org",
        email="office@institute.example.org",
        actor="test",
    )


def send(ctx, key, kind="course.completed", recipient="ada@example.org", **data):
    payload = {"recipient": recipient, "kind": kind, "data": data}
    return awarding.record_event(ctx, payload, idempotency_key=key, source="lms", actor="test")


def awards(ctx):
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(Award.id)))


def learners(ctx):
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(Learner.id)))


def test_a_passing_event_awards_the_badge_with_its_basis(initialized):
    define(initialized, "ethics", QUIZ_RULE)
    low = send(initialized, "k1", course="ethics-101", score=70)
    assert low.recorded
    assert low.awarded == ()
    result = send(initialized, "k2", course="ethics-101", score=91)
    (award,) = result.awarded
    assert award.achievement_slug == "ethics"
    with initialized.uow() as uow:
        row = uow.session.scalar(select(Award))
        assert row.basis["rule"] == "automatic"
        assert row.basis["inputs"] == [f"event:{result.event_id}"]
        assert "score ≥ 80" in row.basis["outcome"]["reason"]


def test_the_same_idempotency_key_is_recorded_once(initialized):
    define(initialized, "ethics", QUIZ_RULE)
    first = send(initialized, "same", course="ethics-101", score=95)
    again = send(initialized, "same", course="ethics-101", score=95)
    assert again.recorded is False
    assert again.event_id == first.event_id
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count(CompletionEvent.id))) == 1
    assert awards(initialized) == 1


def test_a_repeated_key_rolls_back_what_its_recipient_would_have_created(initialized):
    first = send(initialized, "same", course="ethics-101", score=95)
    before = learners(initialized)
    again = send(initialized, "same", course="ethics-101", recipient="new@example.org")
    assert (again.recorded, again.event_id) == (False, first.event_id)
    assert learners(initialized) == before  # new@example.org was not kept


@pytest.mark.slow
def test_concurrent_events_with_one_key_record_it_once(committed_context):
    ctx = committed_context
    define(ctx, "ethics", QUIZ_RULE)
    results, errors = race(6, lambda _: send(ctx, "one-key", course="ethics-101", score=90))
    assert errors == []
    assert sorted(r.recorded for r in results) == [False] * 5 + [True]
    assert len({r.event_id for r in results}) == 1
    assert awards(ctx) == 1


def test_awards_cascade_into_a_stacked_badge(initialized):
    for slug in ("a", "b", "c", "d"):
        define(initialized, slug, {"event": f"{slug}.done"})
    define(
        initialized,
        "stack",
        {
            "all_of": [
                {"earned": "a"},
                {"earned": "b"},
                {"at_least": 2, "of": [{"earned": "c"}, {"earned": "d"}]},
            ]
        },
        credits="0",
    )
    for slug in ("a", "b", "c"):
        assert [
            x.achievement_slug for x in send(initialized, slug, kind=f"{slug}.done").awarded
        ] == [slug]
    result = send(initialized, "d", kind="d.done")
    assert sorted(x.achievement_slug for x in result.awarded) == ["d", "stack"]
    assert awards(initialized) == 5


def test_an_event_only_touches_rules_that_read_it(initialized):
    define(initialized, "ethics", QUIZ_RULE)
    define(initialized, "webinar", {"event": "webinar.attended", "count": 2})
    result = send(initialized, "w1", kind="webinar.attended")
    assert result.awarded == ()
    with initialized.uow() as uow:
        index = awarding.rule_index(initialized, uow)
    webinar = {i for i, (slug, _) in index.rules.items() if slug == "webinar"}
    kinds = frozenset({"webinar.attended"})
    assert index.affected(awarding.Dependencies(event_kinds=kinds)) == webinar
    second = send(initialized, "w2", kind="webinar.attended")
    assert [a.achievement_slug for a in second.awarded] == ["webinar"]


def test_a_known_learners_event_is_recorded_whole_with_its_facts_read_alongside(initialized):
    # On PostgreSQL the event's insert and the facts its rules read (badges,
    # events of their kinds, open cycles) are one statement; the event itself
    # still counts (two attendances of two make the badge).
    define(initialized, "webinar", {"event": "webinar.attended", "count": 2})
    send(initialized, "k1", kind="webinar.attended", topic="one")
    with statements_sent(initialized.engine) as statements:
        second = send(initialized, "k2", kind="webinar.attended", topic="two")
    assert [a.achievement_slug for a in second.awarded] == ["webinar"]
    inserts = [s for s in statements if "INSERT INTO completion_event" in s]
    if initialized.engine.dialect.name == "postgresql":
        # The lookup, which would have made a learner first seen and its
        # event; then the event with the facts.
        first_sighting, inserts = inserts[0], inserts[1:]
        assert first_sighting.startswith("WITH new_learner AS")
        assert inserts[0].startswith("WITH new_event AS")
        assert "UNION ALL" in inserts[0]
    assert len(inserts) == 1
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count(CompletionEvent.id))) == 2
        row = uow.session.scalar(
            select(CompletionEvent).where(CompletionEvent.public_id == second.event_id)
        )
        assert (row.kind, row.data, row.source, row.idempotency_key) == (
            "webinar.attended",
            {"topic": "two"},
            "lms",
            "lms:k2",
        )
        assert row.occurred_at == row.received_at == initialized.now()
        (award,) = uow.session.scalars(select(Award))
    assert sorted(award.basis["inputs"]) == sorted(
        f"event:{e}" for e in (second.event_id, _event_id(initialized, "lms:k1"))
    )


def test_a_first_sighting_records_the_learner_and_its_event_together(initialized):
    # On PostgreSQL the lookup, the learner, its identifier and the event are
    # one statement; either way the learner is whole and the event is theirs.
    define(initialized, "ethics", QUIZ_RULE)
    with statements_sent(initialized.engine) as statements:
        result = awarding.record_event(
            initialized,
            {
                "recipient": "New.Person@Example.org",
                "recipient_name": "New Person",
                "kind": "course.completed",
                "data": {"course": "ethics-101", "score": 91},
            },
            idempotency_key="first",
            source="lms",
            actor="test",
        )
    assert [a.achievement_slug for a in result.awarded] == ["ethics"]
    if initialized.engine.dialect.name == "postgresql":
        (together,) = [s for s in statements if "INSERT INTO completion_event" in s]
        assert "INSERT INTO learner " in together
        assert "INSERT INTO learner_identifier" in together
        assert "JOIN learner_identifier" in together  # the lookup
        before = statements[: statements.index(together)]
        assert not [s for s in before if "learner" in s]  # no lookup of its own first
    with initialized.uow() as uow:
        row = uow.session.scalar(
            select(CompletionEvent).where(CompletionEvent.public_id == result.event_id)
        )
        learner = uow.session.get(Learner, row.learner_id)
        assert learner.display_name == "New Person"
        assert [(i.kind, i.value, i.is_primary) for i in learner.identifiers] == [
            ("email", "new.person@example.org", True)
        ]
        assert (row.kind, row.data, row.idempotency_key) == (
            "course.completed",
            {"course": "ethics-101", "score": 91},
            "lms:first",
        )
    # The same key again, from someone else: nothing of theirs is kept.
    before = learners(initialized)
    again = send(initialized, "first", course="ethics-101", recipient="other@example.org")
    assert (again.recorded, again.event_id) == (False, result.event_id)
    assert learners(initialized) == before


def _event_id(ctx, key):
    with ctx.uow() as uow:
        return uow.session.scalar(
            select(CompletionEvent.public_id).where(CompletionEvent.idempotency_key == key)
        )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "x"}, "recipient"),
        ({"recipient": "ada@example.org"}, "kind"),
        ({"recipient": "ada@example.org", "kind": "has space"}, "kind"),
        ({"recipient": "ada@example.org", "kind": "x", "occurred_at": "yesterday"}, "occurred_at"),
        (
            {"recipient": "ada@example.org", "kind": "x", "occurred_at": "2026-01-01T00:00:00"},
            "occurred_at",
        ),
        (
            {"recipient": "ada@example.org", "kind": "x", "occurred_at": "2099-01-01T00:00:00Z"},
            "occurred_at",
        ),
        ({"recipient": "ada@example.org", "kind": "x", "colour": 1}, "colour"),
        ({"recipient": "not-an-email", "kind": "x"}, "email"),
    ],
)
def test_bad_events_name_the_field(initialized, payload, field):
    with pytest.raises(ValidationError) as info:
        awarding.record_event(initialized, payload, idempotency_key="k", source="lms", actor="t")
    assert info.value.field == field


def test_missing_idempotency_key_is_refused(initialized):
    with pytest.raises(ValidationError, match="idempotency_key"):
        awarding.record_event(
            initialized,
            {"recipient": "a@example.org", "kind": "x"},
            idempotency_key="",
            source="s",
            actor="t",
        )


def test_simulate_lists_who_would_gain_or_lose(initialized):
    define(initialized, "ethics", QUIZ_RULE)
    send(initialized, "e1", course="ethics-101", score=85)  # ada earns it
    send(initialized, "e2", course="ethics-101", score=75, recipient="grace@example.org")
    stricter = {
        **QUIZ_RULE,
        "where": [*QUIZ_RULE["where"][:1], {"field": "score", "op": "gte", "value": 90}],
    }
    lines = awarding.simulate_rules(initialized, "ethics", stricter)
    assert [(line.recipient, line.holds, line.would_hold) for line in lines] == [
        ("ada@example.org", True, False)
    ]
    looser = {
        **QUIZ_RULE,
        "where": [*QUIZ_RULE["where"][:1], {"field": "score", "op": "gte", "value": 70}],
    }
    lines = awarding.simulate_rules(initialized, "ethics", looser)
    assert [(line.recipient, line.would_hold) for line in lines] == [("grace@example.org", True)]
    assert awards(initialized) == 1  # a dry run writes nothing


def test_reevaluate_awards_after_a_rule_is_added(initialized):
    send(initialized, "before", course="ethics-101", score=88)
    define(initialized, "ethics", QUIZ_RULE)
    result = awarding.reevaluate(initialized, "ada@example.org", actor="t")
    assert [a.achievement_slug for a in result.awarded] == ["ethics"]


def test_an_automatic_award_already_held_is_refused_with_nothing_written(initialized):
    # The awarding engine's path (unheld=True): the award's insert skips a
    # (learner, achievement, cycle) that has one, and on PostgreSQL its status
    # entries, drawn in the same statement, are then not taken either.
    define(initialized, "ethics", QUIZ_RULE)
    assert send(initialized, "h1", course="ethics-101", score=90).awarded

    def written(uow):
        return (
            uow.session.scalar(select(func.count(Award.id))),
            uow.session.scalar(select(func.count(StatusAllocation.id))),
            sorted(uow.session.scalars(select(StatusList.allocated))),
        )

    with initialized.uow() as uow:
        before = written(uow)
        learner, identifier = learner_for(uow, "ada@example.org", None)
        with pytest.raises(AlreadyHeld):
            add_award(
                initialized,
                uow,
                IssueRequest("ethics", "ada@example.org"),
                actor="t",
                recipient=(learner, identifier),
                unheld=True,
            )
        assert written(uow) == before == (1, 2, [1, 1])
    # The transaction stayed usable and committed; the next award is whole.
    (second,) = send(initialized, "h2", course="ethics-101", score=90, recipient="b@x.org").awarded
    with initialized.uow() as uow:
        assert written(uow) == (2, 4, [2, 2])
        award = uow.session.scalar(select(Award).where(Award.public_id == second.public_id))
        assert (award.status, award.is_public, award.cycle_key) == ("active", True, "")
        assert award.created_at is not None


@pytest.mark.slow
@pytest.mark.parametrize("known_learner", [False, True])
def test_concurrent_events_award_exactly_once(committed_context, known_learner):
    """8 threads, each its own transaction and event, all completing the same badge.

    With a learner seen before, nothing serialises the eight transactions
    before the award itself: all of them race on its insert.
    """
    ctx = committed_context
    define(ctx, "ethics", QUIZ_RULE)
    if known_learner:
        assert send(ctx, "first", course="ethics-101", score=10).awarded == ()
    learners_before = learners(ctx)
    results, errors = race(8, lambda n: send(ctx, f"t{n}", course="ethics-101", score=90))
    assert errors == []
    assert len(results) == 8
    assert sum(len(r.awarded) for r in results) == 1
    assert awards(ctx) == 1
    # The awards that lost the race left no audit entry behind.
    with ctx.uow() as uow:
        issued = uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "award.issue")
        )
    assert issued == 1
    # Nor status entries: one award took one slot in each list.
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count(StatusAllocation.id))) == 2
        assert sorted(uow.session.scalars(select(StatusList.allocated))) == [1, 1]
    # Eight first sightings of one address leave one learner: the losers
    # deleted the learner rows they had inserted.
    assert learners(ctx) == learners_before + (0 if known_learner else 1)


@pytest.mark.slow
def test_parallel_awards_to_different_learners_share_the_status_lists(committed_context):
    """8 threads, 5 awards each, at once: every award gets its two status entries, no deadlock."""
    ctx = committed_context
    define(ctx, "ethics", QUIZ_RULE)

    def five_awards(n):
        for k in range(5):
            send(ctx, f"p{n}-{k}", course="ethics-101", score=90, recipient=f"l{n}-{k}@x.org")

    _, errors = race(8, five_awards, timeout=120)
    assert errors == []
    assert awards(ctx) == 40
    with ctx.uow() as uow:
        entries = uow.session.execute(
            select(StatusAllocation.status_list_id, StatusAllocation.index)
        ).all()
        counted = uow.session.scalars(select(StatusList.allocated)).all()
    assert len(entries) == len(set(entries)) == 80
    assert sorted(counted) == [40, 40]  # one list per purpose, every slot counted


def test_the_catalog_version_moves_once_per_transaction_that_changes_definitions(initialized):
    def version():
        with initialized.uow() as uow:
            return catalog.catalog_version(uow)

    before = version()
    specs = [
        AchievementSpec(slug=f"u{n}", name=f"U{n}", description="d", criteria_narrative="c")
        for n in range(3)
    ]
    catalog.create_achievements(initialized, issuer_slug="default", specs=specs, actor="t")
    assert version() == before + 1
    send(initialized, "v1", course="ethics-101", score=90)  # events do not move it
    assert version() == before + 1


def test_the_rule_index_notices_a_rule_another_process_changed(initialized):
    define(initialized, "ethics", QUIZ_RULE)
    assert send(initialized, "o1", course="ethics-101", score=85).awarded  # index built
    # Another process raises the bar: it writes the rule and bumps the
    # version; this process's own generation counter knows nothing of it.
    stricter = {**QUIZ_RULE, "where": [{"field": "score", "op": "gte", "value": 95}]}
    with initialized.uow() as uow:
        uow.session.execute(
            update(AchievementRow).where(AchievementRow.slug == "ethics").values(rules=stricter)
        )
        uow.increment(CatalogState.__table__, "id", 1, "version")
    index = initialized.extras["rule_index"]
    # Within the recheck interval the cached index still answers ...
    assert send(initialized, "o2", course="ethics-101", score=90, recipient="b@example.org").awarded
    # ... after it, the version read shows the change and the index is rebuilt.
    index.checked_at -= awarding.INDEX_RECHECK_SECONDS + 1
    assert not send(
        initialized, "o3", course="ethics-101", score=90, recipient="c@example.org"
    ).awarded
    assert initialized.extras["rule_index"] is not index


def _signed_names(ctx, award_id):
    """The issuer's and the achievement's name in an award's signed OB 3.0 credential."""
    import json

    from badger.store.models import IssuedDocument

    with ctx.uow() as uow:
        content = uow.session.scalar(
            select(IssuedDocument.content)
            .join(Award, IssuedDocument.award_id == Award.id)
            .where(Award.public_id == award_id, IssuedDocument.format == "ob3-ldp")
        )
    subject = json.loads(content)
    return subject["issuer"]["name"], subject["credentialSubject"]["achievement"]["name"]


def test_automatic_awards_carry_the_issuer_and_achievement_as_they_are_now(initialized):
    define(initialized, "ethics", QUIZ_RULE)
    (first,) = send(initialized, "n1", course="ethics-101", score=90).awarded
    assert _signed_names(initialized, first.public_id) == ("Test Institute", "Ethics")
    (again,) = send(initialized, "n1b", course="ethics-101", score=90, recipient="z@x.org").awarded
    assert _signed_names(initialized, again.public_id) == ("Test Institute", "Ethics")
    index = initialized.extras["rule_index"]
    assert [row.slug for row in index.rows.values()] == ["ethics"]  # kept from its first award
    version = index.version
    rename_issuer(initialized, "Renamed Institute")
    (second,) = send(
        initialized, "n2", course="ethics-101", score=90, recipient="b@example.org"
    ).awarded
    assert _signed_names(initialized, second.public_id) == ("Renamed Institute", "Ethics")
    view = catalog.get_definition(initialized, "ethics")
    catalog.update_achievement(
        initialized,
        view.public_id,
        spec=spec("ethics", QUIZ_RULE, name="Ethics, Revised"),
        actor="test",
    )
    (third,) = send(
        initialized, "n3", course="ethics-101", score=90, recipient="c@example.org"
    ).awarded
    assert _signed_names(initialized, third.public_id) == ("Renamed Institute", "Ethics, Revised")
    assert initialized.extras["rule_index"].version > version


def _noise_png_uri(side=48):
    """A PNG data URI far longer than awarding.SMALL_IMAGE_CHARS (random pixels do not compress)."""
    import base64
    import io
    import os

    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGBA", (side, side), os.urandom(side * side * 4)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _idat(png):
    from tests.unit.credentials.test_baking import chunk_types

    return b"".join(data for kind, data in chunk_types(png) if kind == b"IDAT")


def _document(ctx, award_id, fmt):
    from badger.store.models import IssuedDocument

    with ctx.uow() as uow:
        return uow.session.scalar(
            select(IssuedDocument.content)
            .join(Award, IssuedDocument.award_id == Award.id)
            .where(Award.public_id == award_id, IssuedDocument.format == fmt)
        )


def test_first_awards_read_no_achievement_row_and_long_pictures_stay_out_of_the_index(
    initialized,
):
    import base64
    import dataclasses

    picture = _noise_png_uri()
    assert len(picture) > awarding.SMALL_IMAGE_CHARS
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=dataclasses.replace(spec("ethics", QUIZ_RULE), image_uri=picture),
    )
    define(initialized, "plain", {**QUIZ_RULE, "event": "workshop.attended", "where": []})
    assert not send(initialized, "w0", course="ethics-101", score=10).awarded  # index built
    index = initialized.extras["rule_index"]
    ethics = next(i for i, (slug, _) in index.rules.items() if slug == "ethics")
    plain = next(i for i, (slug, _) in index.rules.items() if slug == "plain")

    with statements_sent(initialized.engine) as sent:
        assert send(initialized, "w1", kind="workshop.attended").awarded
    assert not [s for s in sent if re.search(r"\bFROM achievement\b", s)]
    assert vars(index.rows[plain])["image_uri"] is None

    with statements_sent(initialized.engine) as sent:
        (first,) = send(initialized, "w2", course="ethics-101", score=90).awarded
    reads = [s for s in sent if re.search(r"\bFROM achievement\b", s)]
    assert len(reads) == 1
    assert reads[0].startswith("SELECT achievement.image_uri FROM")
    stored = base64.b64decode(picture.split(",", 1)[1])
    assert _idat(_document(initialized, first.public_id, "ob2-png")) == _idat(stored)
    assert _idat(_document(initialized, first.public_id, "ob3-png")) == _idat(stored)

    # The next award of it reads neither the row nor the picture again.
    with statements_sent(initialized.engine) as sent:
        (again,) = send(
            initialized, "w3", course="ethics-101", score=90, recipient="b@example.org"
        ).awarded
    assert not [s for s in sent if re.search(r"\bFROM achievement\b", s)]
    assert _idat(_document(initialized, again.public_id, "ob3-png")) == _idat(stored)
    assert "image_uri" not in vars(index.rows[ethics])  # the kept copy holds no picture


def test_an_achievement_copy_another_thread_makes_meanwhile_does_no_harm(initialized):
    """Thread B makes (and stores) the copy while thread A is between its two looks."""
    define(initialized, "ethics", QUIZ_RULE)
    made_by_b = []

    class OtherThreadBetween(dict):
        hooked = True

        def _b_runs_now(self, key):
            if self.hooked:
                self.hooked = False
                made_by_b.append(awarding.achievement_row(uow, index, key))

        def get(self, key, default=None):
            found = super().get(key, default)
            self._b_runs_now(key)
            return found

        def pop(self, key, *default):
            found = super().pop(key, *default)
            self._b_runs_now(key)
            return found

    with initialized.uow() as uow:
        index = awarding.rule_index(initialized, uow)
        (ethics,) = index.rules
        index.sources = OtherThreadBetween(index.sources)
        made_by_a = awarding.achievement_row(uow, index, ethics)
    assert made_by_a.slug == made_by_b[0].slug == "ethics"
    assert made_by_a.issuer.name == made_by_b[0].issuer.name
    assert awarding.achievement_row(uow, index, ethics) is index.rows[ethics]
    assert ethics not in index.sources


def test_a_new_picture_is_baked_into_the_next_automatic_award(initialized):
    import base64
    import dataclasses

    first_picture, second_picture = _noise_png_uri(), _noise_png_uri()
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=dataclasses.replace(spec("ethics", QUIZ_RULE), image_uri=first_picture),
    )
    (before,) = send(initialized, "p1", course="ethics-101", score=90).awarded
    view = catalog.get_definition(initialized, "ethics")
    catalog.update_achievement(
        initialized,
        view.public_id,
        spec=dataclasses.replace(spec("ethics", QUIZ_RULE), image_uri=second_picture),
        actor="test",
    )
    (after,) = send(initialized, "p2", course="ethics-101", score=90, recipient="b@x.org").awarded
    for award, picture in ((before, first_picture), (after, second_picture)):
        stored = base64.b64decode(picture.split(",", 1)[1])
        assert _idat(_document(initialized, award.public_id, "ob3-png")) == (_idat(stored))


def test_the_issuer_is_read_once_for_first_awards_of_several_achievements(initialized):
    for course in ("a-101", "b-101", "c-101"):
        rule = {
            **QUIZ_RULE,
            "where": [{**QUIZ_RULE["where"][0], "value": course}, QUIZ_RULE["where"][1]],
        }
        define(initialized, course.split("-")[0] + "-unit", rule)
    assert send(initialized, "i1", course="a-101", score=90).awarded
    issuer_reads = []

    def count(_conn, _cursor, statement, *_):
        if re.search(r"\b(FROM|JOIN) issuer\b", statement):
            issuer_reads.append(statement)

    event.listen(initialized.engine, "before_cursor_execute", count)
    try:  # the first award of another achievement of the same issuer
        assert send(initialized, "i2", course="b-101", score=90).awarded
    finally:
        event.remove(initialized.engine, "before_cursor_execute", count)
    assert issuer_reads == []
    # An issuer edit rebuilds the index, the issuer kept with it included.
    rename_issuer(initialized, "Renamed Institute")
    (award,) = send(initialized, "i3", course="c-101", score=90).awarded
    assert _signed_names(initialized, award.public_id) == ("Renamed Institute", "C Unit")


def test_an_issuer_edit_moves_the_catalog_version(initialized):
    with initialized.uow() as uow:
        before = catalog.catalog_version(uow)
    rename_issuer(initialized, "Another Name")
    with initialized.uow() as uow:
        assert catalog.catalog_version(uow) == before + 1


def test_warm_up_builds_the_rule_index_and_freezes_the_heap(initialized):
    import gc

    define(initialized, "ethics", QUIZ_RULE)
    initialized.extras.pop("rule_index", None)
    try:
        awarding.warm_up(initialized)
        assert gc.get_freeze_count() > 0
        index = initialized.extras["rule_index"]
        assert index.by_event["course.completed"]
    finally:
        gc.unfreeze()
    # The frozen index is the one events use (no rebuild on the first event).
    send(initialized, "w1", course="ethics-101", score=90)
    assert initialized.extras["rule_index"] is index
    assert awards(initialized) == 1


def test_rules_changed_by_an_import_apply_to_the_next_event(initialized):
    define(initialized, "ethics", QUIZ_RULE)
    stricter = {
        **QUIZ_RULE,
        "where": [QUIZ_RULE["where"][0], {**QUIZ_RULE["where"][1], "value": 90}],
    }
    lines = catalog.import_definitions(
        initialized,
        issuer_slug="default",
        specs=[spec("ethics", stricter), spec("ethics-plus", {"earned": "ethics"})],
        update=True,
        actor="t",
    )
    assert [(line.outcome, line.view.version, line.changed) for line in lines] == [
        ("updated", 2, ("rules",)),
        ("defined", 1, ()),
    ]
    payload = {
        "recipient": "ada@example.org",
        "kind": "course.completed",
        "data": {"course": "ethics-101", "score": 85},
    }
    missed = awarding.record_event(
        initialized, payload, idempotency_key="k1", source="t", actor="t"
    )
    assert missed.awarded == ()
    payload["data"]["score"] = 95
    met = awarding.record_event(initialized, payload, idempotency_key="k2", source="t", actor="t")
    assert sorted(a.achievement_slug for a in met.awarded) == ["ethics", "ethics-plus"]


def test_rules_that_can_never_be_met_are_refused_when_defined(initialized):
    with pytest.raises(ValidationError) as caught:
        define(
            initialized, "stack", {"all_of": [{"earned": "nope"}, {"evidence_approved": "gone"}]}
        )
    assert caught.value.field == "rules"
    assert "'stack' names no achievement 'gone', 'nope'" in caught.value.reason
    with pytest.raises(ValidationError, match="cannot require itself"):
        define(initialized, "loop", {"earned": "loop"})
    # A stack and its parts in one import, the stack first: checked once all are in.
    lines = catalog.import_definitions(
        initialized,
        issuer_slug="default",
        specs=[spec("stack", {"earned": "part"}), spec("part", QUIZ_RULE)],
        update=False,
        actor="t",
    )
    assert [line.outcome for line in lines] == ["defined", "defined"]
    with pytest.raises(ValidationError, match="names no achievement 'missing'"):
        catalog.update_achievement(
            initialized, "stack", spec=spec("stack", {"earned": "missing"}), actor="t"
        )
    assert catalog.get_definition(initialized, "stack").data["rules"] == {"earned": "part"}


def test_progress_towards_lists_what_a_learner_has_started_on_furthest_first(initialized):
    define(initialized, "quiz", QUIZ_RULE)
    define(initialized, "webinars", {"event": "webinar.attended", "count": 3})
    define(initialized, "other", {"event": "never.sent"})
    define(
        initialized,
        "stack",
        {"all_of": [{"earned": "quiz"}, {"earned": "webinars"}, {"evidence_approved": "stack"}]},
    )
    define(  # its parts: quiz, and either of two (the leaves would say 1 of 3)
        initialized,
        "either",
        {"all_of": [{"earned": "quiz"}, {"any_of": [{"earned": "webinars"}, {"earned": "other"}]}]},
    )
    passed = {"course": "ethics-101", "score": 90}
    for key, kind, data in [("a", "course.completed", passed), ("b", "webinar.attended", {})]:
        awarding.record_event(
            initialized,
            {"recipient": "ada@example.org", "kind": kind, "data": data},
            idempotency_key=key,
            source="t",
            actor="t",
        )
    with initialized.uow() as uow:
        learner = uow.session.scalar(
            select(Learner.public_id)
            .join(LearnerIdentifier, LearnerIdentifier.learner_id == Learner.id)
            .where(LearnerIdentifier.value == "ada@example.org")
        )
    towards = awarding.progress_towards(initialized, learner)
    assert [(t.name, t.parts_met, t.parts_needed) for t in towards] == [
        ("Either", 1, 2),
        ("Stack", 1, 3),  # holds quiz: 1 of the 3 its all_of needs; "quiz" is held, not listed
        ("Webinars", 0, 1),
    ]
    assert towards[2].outcome.reason == "3 x webinar.attended: 1 of 3 so far"
    assert awarding.progress_towards(initialized, learner, limit=1)[0].name == "Either"
