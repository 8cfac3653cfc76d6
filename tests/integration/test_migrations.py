"""Alembic migrations are the schema: they match the models and round-trip."""

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Index, MetaData, inspect, select

from badger.store import migrate
from badger.store.db import make_engine
from badger.store.models import Achievement, AuditEntry, Base, Learner, Submission


def _diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_match_the_models(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        migrate.upgrade(engine)
        assert _diff(engine) == []
        assert migrate.is_up_to_date(engine)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        migrate.upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"award", "issued_document", "audit_log", "status_list"} <= tables
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) == tables
        assert _diff(engine) == []
    finally:
        engine.dispose()


def _where(index_info, dialect):
    where = index_info["dialect_options"].get(f"{dialect}_where")
    return None if where is None else str(where)


def test_partial_indexes_have_the_models_predicates(fresh_database_url):
    """Alembic's comparison ignores WHERE clauses; compare them through the database."""
    engine = make_engine(fresh_database_url)
    try:
        migrate.upgrade(engine)
        dialect = engine.dialect.name
        partial = [
            (table, index)
            for table in Base.metadata.sorted_tables
            for index in table.indexes
            if index.dialect_options[dialect]["where"] is not None
        ]
        assert partial, "the models declare partial indexes"
        for table, index in partial:
            # A twin built from the model, reflected by the same server,
            # normalises the predicate the same way as the migrated index.
            # (Built on a copy of the table so the models stay untouched.)
            copy = table.to_metadata(MetaData())
            twin = Index(
                f"probe_{index.name}",
                *(copy.c[column.name] for column in index.columns),
                unique=index.unique,
                **{f"{dialect}_where": index.dialect_options[dialect]["where"]},
            )
            with engine.begin() as conn:
                twin.create(conn)
            try:
                found = {i["name"]: i for i in inspect(engine).get_indexes(table.name)}
                assert _where(found[index.name], dialect) == _where(found[twin.name], dialect)
                assert found[index.name]["unique"] == index.unique
            finally:
                with engine.begin() as conn:
                    twin.drop(conn)
    finally:
        engine.dispose()


def test_upgrading_closes_duplicate_open_evidence_keeping_one_per_achievement(
    fresh_database_url, tmp_path
):
    """0006 adds a unique index over open evidence; duplicates already held would block it."""
    from badger.config import load_settings
    from badger.domain.achievements import AchievementSpec
    from badger.proofs.keystore import MemoryKeyStore
    from badger.services import accounts, catalog, setup
    from badger.services.context import build_context
    from badger.services.mail import MemoryMailer

    settings = load_settings(
        environ={},
        overrides={
            "env": "testing",
            "instance_dir": tmp_path / "i",
            "keys_dir": tmp_path / "k",
            "database_url": fresh_database_url,
            "base_url": "https://badges.example.org",
        },
    )
    ctx = build_context(settings, mailer=MemoryMailer(), keystore=MemoryKeyStore())
    try:
        setup.initialize(
            ctx,
            issuer=setup.IssuerInput("default", "Inst", "https://i.example.org", "o@i.example.org"),
            admin_email="admin@i.example.org",
            admin_password="correct horse battery",
        )
        for slug in ("portfolio", "capstone"):
            catalog.create_achievement(
                ctx,
                issuer_slug="default",
                spec=AchievementSpec(
                    slug=slug, name=slug, description=slug, criteria_narrative="Rules."
                ),
            )
        lena = accounts.create_account(
            ctx, email="lena@example.org", password="correct horse battery", display_name="L"
        )
        migrate.downgrade(ctx.engine, "0005")
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        with ctx.uow() as uow:
            learner_id = uow.session.scalar(
                select(Learner.id).where(Learner.public_id == lena.learner_public_id)
            )
            ids = dict(uow.session.execute(select(Achievement.slug, Achievement.id)).all())
            rows = [
                # (name, achievement, kind, status, last updated)
                ("p-old-returned", "portfolio", "evidence", "returned", 1),
                ("p-new-returned", "portfolio", "evidence", "returned", 3),
                ("p-submitted", "portfolio", "evidence", "submitted", 2),
                ("p-rejected", "portfolio", "evidence", "rejected", 4),
                ("c-old", "capstone", "evidence", "returned", 1),
                ("c-new", "capstone", "evidence", "returned", 2),
            ]
            for name, slug, kind, status, day in rows:
                uow.session.execute(
                    Submission.__table__.insert().values(
                        public_id=name,
                        learner_id=learner_id,
                        achievement_id=ids[slug],
                        kind=kind,
                        status=status,
                        created_at=t0,
                        updated_at=t0 + timedelta(days=day),
                    )
                )
        migrate.upgrade(ctx.engine)
        with ctx.uow() as uow:
            status = dict(
                uow.session.execute(select(Submission.public_id, Submission.status)).all()
            )
            closed = uow.session.execute(
                select(AuditEntry.subject_id, AuditEntry.details)
                .where(AuditEntry.action == "submission.close_duplicate")
                .order_by(AuditEntry.subject_id)
            ).all()
            comment = uow.session.scalar(
                select(Submission.review_comment).where(Submission.public_id == "c-old")
            )
        assert status == {
            "p-old-returned": "rejected",
            "p-new-returned": "rejected",
            "p-submitted": "submitted",
            "p-rejected": "rejected",
            "c-old": "rejected",
            "c-new": "returned",
        }
        assert closed == [
            ("c-old", {"previous_status": "returned", "kept": "c-new"}),
            ("p-new-returned", {"previous_status": "returned", "kept": "p-submitted"}),
            ("p-old-returned", {"previous_status": "returned", "kept": "p-submitted"}),
        ]
        assert "submission c-new stays open" in comment
    finally:
        ctx.engine.dispose()
