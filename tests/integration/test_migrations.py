"""Alembic migrations are the schema: they match the models and round-trip."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from badger.store import migrate
from badger.store.db import make_engine
from badger.store.models import Base


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
