"""Models round-trip on every backend; constraints hold in the database itself."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import DetachedInstanceError

from badger.store.models import (
    Achievement,
    AuditEntry,
    Award,
    IssuedDocument,
    Issuer,
    Learner,
    LearnerIdentifier,
    StatusAllocation,
    StatusList,
)

WHEN = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)


def make_award(session, *, cycle_key=""):
    issuer = Issuer(
        slug="isms", name="ISMS", url="https://isms.example.org", email="o@isms.example.org"
    )
    achievement = Achievement(
        issuer=issuer,
        slug="ethics",
        name="Ethics",
        description="Ethics unit",
        criteria_narrative="Pass the quiz",
        credits_available=Decimal("1.25"),
        credit_category="ethics",
        series="monthly",
        tags=["ethics", "required"],
        alignments=[{"target_name": "Code", "target_url": "https://isms.example.org/code"}],
        rules={"all_of": []},
    )
    learner = Learner(display_name="Ada")
    ident = LearnerIdentifier(kind="email", value="ada@example.org", is_primary=True)
    learner.identifiers.append(ident)
    award = Award(
        issuer=issuer,
        achievement=achievement,
        learner=learner,
        cycle_key=cycle_key,
        issued_on=WHEN,
        valid_from=WHEN,
        valid_until=WHEN + timedelta(days=365),
        credits_earned=Decimal("1.25"),
        evidence=[{"id": "https://evidence.example.org/1", "narrative": "quiz 9/10"}],
        basis={"rule": "manual"},
    )
    session.add(award)
    session.flush()
    return award


def test_award_graph_round_trips_with_exact_credits_and_aware_times(ctx):
    with ctx.uow() as uow:
        award_id = make_award(uow.session).public_id
    with ctx.uow() as uow:
        award = uow.session.scalar(select(Award).where(Award.public_id == award_id))
        assert award.achievement.credits_available == Decimal("1.25")
        assert award.credits_earned == Decimal("1.25")
        assert award.valid_from == WHEN
        assert award.valid_from.tzinfo is not None
        assert award.achievement.tags == ["ethics", "required"]
        assert award.learner.identifiers[0].value == "ada@example.org"
        assert award.evidence[0]["narrative"] == "quiz 9/10"
        assert award.status == "active"
        assert len(award.public_id) == 36


def test_naive_datetimes_are_refused(ctx):
    with pytest.raises(Exception, match="naive datetime"), ctx.uow() as uow:
        uow.session.add(Learner(display_name="Naive", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        uow.session.flush()


def test_one_award_per_learner_achievement_and_cycle(ctx):
    with ctx.uow() as uow:
        award = make_award(uow.session, cycle_key="2026")
        ids = (award.learner_id, award.achievement_id, award.issuer_id)
    with pytest.raises(IntegrityError), ctx.uow() as uow:
        uow.session.add(
            Award(learner_id=ids[0], achievement_id=ids[1], issuer_id=ids[2], cycle_key="2026")
        )
        uow.session.flush()
    with ctx.uow() as uow:
        uow.session.add(
            Award(learner_id=ids[0], achievement_id=ids[1], issuer_id=ids[2], cycle_key="2029")
        )


def test_issued_documents_cannot_be_edited(ctx):
    with ctx.uow() as uow:
        award = make_award(uow.session)
        doc = IssuedDocument(
            award=award,
            format="ob3-jwt",
            media_type="text/plain",
            content=b"a.b.c",
            sha256="0" * 64,
        )
        uow.session.add(doc)
        uow.session.flush()
        doc_id = doc.id
    with pytest.raises(ValueError, match="immutable"), ctx.uow() as uow:
        doc = uow.session.get(IssuedDocument, doc_id)
        doc.content = b"x.y.z"
        uow.session.flush()


def test_status_index_is_unique_within_a_list(ctx):
    with ctx.uow() as uow:
        award = make_award(uow.session)
        status_list = StatusList(issuer_id=award.issuer_id, purpose="revocation")
        uow.session.add(status_list)
        uow.session.flush()
        uow.session.add(StatusAllocation(status_list_id=status_list.id, award_id=award.id, index=7))
        uow.session.flush()
        list_id, award_id = status_list.id, award.id
    with pytest.raises(IntegrityError), ctx.uow() as uow:
        uow.session.add(StatusAllocation(status_list_id=list_id, award_id=award_id, index=8))
        uow.session.flush()


def test_insert_skipping_several_rows_is_one_statement_that_skips_the_taken_ones(ctx, engine):
    table = StatusAllocation.__table__
    with ctx.uow() as uow:
        award = make_award(uow.session)
        lists = [
            StatusList(issuer_id=award.issuer_id, purpose=p) for p in ("revocation", "suspension")
        ]
        uow.session.add_all(lists)
        uow.session.flush()
        uow.session.add(StatusAllocation(status_list_id=lists[0].id, award_id=award.id, index=7))
        uow.session.flush()
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            got = uow.insert_skipping(
                table,
                ("status_list_id", "index"),
                ("status_list_id", "index"),
                [
                    {"status_list_id": lists[0].id, "award_id": award.id, "index": 7},  # taken
                    {"status_list_id": lists[1].id, "award_id": award.id, "index": 7},
                ],
            ).all()
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        assert got == [(lists[1].id, 7)]
        assert len(statements) == 1
        with pytest.raises(ValueError, match="same columns"):
            uow.insert_skipping(
                table,
                ("status_list_id", "index"),
                ("status_list_id",),
                [{"status_list_id": 1, "award_id": 1, "index": 1}, {"index": 2}],
            )


def test_check_constraints_guard_enumerations(ctx):
    with pytest.raises(IntegrityError), ctx.uow() as uow:
        learner = Learner(display_name="X")
        learner.identifiers.append(LearnerIdentifier(kind="fax", value="123"))
        uow.session.add(learner)
        uow.session.flush()


def test_audit_log_is_append_only_in_the_database(ctx):
    with ctx.uow() as uow:
        uow.session.add(
            AuditEntry(at=WHEN, actor="system", action="x", subject_type="t", subject_id="1")
        )
    with pytest.raises(DBAPIError, match="append-only"), ctx.uow() as uow:
        uow.session.execute(text("UPDATE audit_log SET action = 'forged'"))
    with pytest.raises(DBAPIError, match="append-only"), ctx.uow() as uow:
        uow.session.execute(text("DELETE FROM audit_log"))


def test_audit_log_is_append_only_in_the_orm(ctx):
    with ctx.uow() as uow:
        entry = AuditEntry(at=WHEN, actor="system", action="x", subject_type="t", subject_id="1")
        uow.session.add(entry)
    with pytest.raises(ValueError, match="append-only"), ctx.uow() as uow:
        uow.session.delete(uow.session.get(AuditEntry, entry.id))
        uow.session.flush()


def test_failed_unit_of_work_leaves_nothing_and_runs_no_side_effects(ctx):
    sent = []
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        make_award(uow.session)
        uow.after_commit(lambda: sent.append("mail"))
        raise RuntimeError("boom mid-award")
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Award.id)) is None
    assert sent == []
    with ctx.uow() as uow:
        uow.after_commit(lambda: sent.append("mail"))
    assert sent == ["mail"]


def _audit_actions(ctx):
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_audit_entries_go_in_at_commit_in_order_and_vanish_with_a_rollback(ctx):
    from badger.services import audit

    with ctx.uow() as uow:
        for action in ("first", "second"):
            audit.record(uow, actor="t", action=action, subject_type="t", subject_id="1", now=WHEN)
        assert uow.session.scalar(select(AuditEntry.id)) is None  # queued, not yet written
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        audit.record(uow, actor="t", action="lost", subject_type="t", subject_id="1", now=WHEN)
        raise RuntimeError("boom")
    assert _audit_actions(ctx) == ["first", "second"]


def test_a_rolled_back_savepoint_drops_the_audit_entries_queued_inside_it(ctx):
    from badger.services import audit

    with ctx.uow() as uow:
        audit.record(uow, actor="t", action="kept", subject_type="t", subject_id="1", now=WHEN)
        with pytest.raises(IntegrityError), uow.session.begin_nested():
            audit.record(uow, actor="t", action="raced", subject_type="t", subject_id="1", now=WHEN)
            uow.session.execute(text("INSERT INTO learner (display_name) VALUES (NULL)"))
        with uow.session.begin_nested():
            audit.record(
                uow, actor="t", action="released", subject_type="t", subject_id="2", now=WHEN
            )
        assert [e.action for e in audit.recent(uow)] == ["released", "kept"]
    assert _audit_actions(ctx) == ["kept", "released"]


def test_only_postgresql_units_of_work_share_the_database_with_other_writers(ctx, db_backend):
    with ctx.uow() as uow:
        assert uow.concurrent_writers is (db_backend == "postgresql")


def test_insert_loaded_gives_a_persistent_object_without_a_flush(ctx):
    with ctx.uow() as uow:
        learner = uow.insert_loaded(Learner, {"public_id": "p-1", "display_name": "Ada"})
        assert learner.id is not None
        assert learner in uow.session
        assert not uow.session.dirty
        assert not uow.session.new
        # Column defaults came back from the insert, as for a loaded row.
        assert learner.created_at is not None
        assert uow.session.get(Learner, learner.id) is learner
    with ctx.uow() as uow:
        assert uow.session.scalar(
            select(Learner.display_name).where(Learner.public_id == "p-1")
        ) == ("Ada")


def test_a_rolled_back_savepoint_forgets_the_objects_insert_loaded_made_inside_it(ctx):
    # SQLite gives the next row the rolled-back row's id again: without
    # forgetting the first object, the second could not enter the session.
    with ctx.uow() as uow:
        savepoint = uow.session.begin_nested()
        gone = uow.insert_loaded(Learner, {"public_id": "p-gone", "display_name": "Gone"})
        savepoint.rollback()
        assert gone not in uow.session
        kept = uow.insert_loaded(Learner, {"public_id": "p-kept", "display_name": "Kept"})
        assert kept in uow.session
    with ctx.uow() as uow:
        names = set(uow.session.scalars(select(Learner.public_id)))
    assert "p-kept" in names
    assert "p-gone" not in names


def test_created_here_names_the_rows_this_transaction_inserted(ctx):
    with ctx.uow() as uow:
        made = uow.insert_loaded(Learner, {"public_id": "p-made", "display_name": "Made"})
        savepoint = uow.session.begin_nested()
        undone = uow.insert_loaded(Learner, {"public_id": "p-undone", "display_name": "Undone"})
        assert uow.created_here(undone)
        savepoint.rollback()
        assert uow.created_here(made)
        assert not uow.created_here(undone)
        dropped = uow.insert_loaded(Learner, {"public_id": "p-dropped", "display_name": "Gone"})
        uow.delete_loaded(dropped)
        assert not uow.created_here(dropped)
    with ctx.uow() as uow:
        again = uow.session.scalar(select(Learner).where(Learner.public_id == "p-made"))
        assert not uow.created_here(again)  # read, not made, in this one
        assert (
            uow.session.scalar(
                select(func.count(Learner.id)).where(Learner.public_id == "p-dropped")
            )
            == 0
        )


def test_insert_loaded_works_as_the_first_orm_use_in_a_process(tmp_path):
    """A worker's first event for a new learner makes an object before any ORM query ran."""
    script = f"""
from badger.store import migrate
from badger.store.db import UnitOfWork, make_engine, make_session_factory
from badger.store.models import Learner
engine = make_engine("sqlite:///{tmp_path / "first.db"}")
migrate.upgrade(engine)
with UnitOfWork(make_session_factory(engine)) as uow:
    learner = uow.insert_loaded(Learner, {{"public_id": "p-first", "display_name": "First"}})
    assert uow.created_here(learner)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _add_identifier(uow, learner, kind, value):
    """Another identifier for ``learner``, added with Core (a loaded collection misses it)."""
    uow.insert_loaded(
        LearnerIdentifier,
        {
            "learner_id": learner.id,
            "kind": kind,
            "value": value,
            "verified_at": None,
            "is_primary": False,
        },
    )


def test_a_learner_loaded_before_an_identifier_was_added_still_finds_it(ctx):
    from badger.services.issue import learner_for

    with ctx.uow() as uow:
        learner, _ = learner_for(uow, "first@example.org", None)
        # Another identifier for the same learner, added with Core (the
        # loaded collection does not know it).
        _add_identifier(uow, learner, "email", "second@example.org")
        again, row = learner_for(uow, "second@example.org", None)
        assert again is learner
        assert row.value == "second@example.org"


def test_a_detached_copy_outlives_the_rollback_of_the_session_it_was_read_in(ctx):
    from sqlalchemy import inspect as orm_inspect
    from sqlalchemy.orm import contains_eager

    from badger.store.db import detached_copy

    with ctx.uow() as uow:
        make_award(uow.session)
    copies = []  # filled inside the failing unit of work
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        row = uow.session.scalar(
            select(Achievement).join(Issuer).options(contains_eager(Achievement.issuer))
        )
        copies.append(detached_copy(row, related=("issuer",)))
        raise RuntimeError("roll back")  # expires every object the session holds
    (copy,) = copies
    assert orm_inspect(copy).detached
    assert orm_inspect(copy.issuer).detached
    assert (copy.slug, copy.issuer.slug, copy.credits_available) == (
        "ethics",
        "isms",
        Decimal("1.25"),
    )
    assert copy.alignments[0]["target_name"] == "Code"
    with pytest.raises(DetachedInstanceError):
        row.slug  # noqa: B018 - the original is expired and detached


def test_a_known_learner_comes_with_every_identifier_and_its_account_in_one_statement(ctx):
    from sqlalchemy import event

    from badger.services import accounts
    from badger.services.issue import learner_for

    with ctx.uow() as uow:
        accounts.add_account(
            uow, now=WHEN, email="ada@example.org", password="pw long enough 1", display_name="Ada"
        )
    with ctx.uow() as uow:
        learner, _ = learner_for(uow, "ada@example.org", None)
        _add_identifier(uow, learner, "did", "did:example:ada")
    statements = []
    engine = ctx.engine

    def count(conn, cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    with ctx.uow() as uow:
        event.listen(engine, "before_cursor_execute", count)
        try:
            learner, row = learner_for(uow, "did:example:ada", None)
            values = [i.value for i in learner.identifiers]
            email = learner.account.email
            owners = {i.learner is learner for i in learner.identifiers}
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert row.value == "did:example:ada"
    assert values == ["ada@example.org", "did:example:ada"]
    assert email == "ada@example.org"
    assert owners == {True}
    # Besides the transaction's own BEGIN or SAVEPOINT: one SELECT, no lazy loads.
    assert [s for s in statements if s not in {"BEGIN", "SAVEPOINT"}] == ["SELECT"]
