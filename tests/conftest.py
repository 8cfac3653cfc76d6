"""Shared fixtures: databases, app, clients, factories.

Database tests run on SQLite always and, when ``BADGER_TEST_DATABASE_URL``
names a PostgreSQL database, on PostgreSQL too (the ``db_backend`` parameter).
Each test gets a connection inside an outer transaction; services commit to
SAVEPOINTs (``join_transaction_mode="create_savepoint"``) and everything rolls
back afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from badger.config import load_settings
from badger.proofs.keystore import MemoryKeyStore
from badger.services.context import Context
from badger.services.mail import MemoryMailer
from badger.store import migrate
from badger.store.db import make_engine
from badger.store.models import Base

PG_URL = os.environ.get("BADGER_TEST_DATABASE_URL", "")

# Property tests: no per-example deadline (a loaded 2-core CI machine makes
# timings meaningless; speed is measured by bench/), failing examples printed.
hypothesis_settings.register_profile("badger", deadline=None, print_blob=True)
hypothesis_settings.load_profile("badger")
FIXED_NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and not PG_URL:
        pytest.skip("PostgreSQL tests need BADGER_TEST_DATABASE_URL (CI sets it)")


def _pg_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Argon2 at its production cost makes every account cost ~0.5 s on 2 cores.

    Tests use the same algorithm at its minimum cost; what is tested (hashing,
    verifying, rehash on login) is unchanged.
    """
    from argon2 import PasswordHasher

    from badger.services import accounts

    original = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = original


# ---------------------------------------------------------------- standards data


def spec_path() -> Path:
    """Where ``shared/spec`` should be (it may be absent); see the ``spec_dir`` fixture."""
    configured = os.environ.get("BADGER_SPEC_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "spec"


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    """``shared/spec`` beside the repository (or ``BADGER_SPEC_DIR``); skips when absent."""
    path = spec_path()
    if not (path / "contexts-index.json").is_file():
        pytest.skip(
            f"standards data not found at {path}: put shared/spec beside the repository "
            "or set BADGER_SPEC_DIR"
        )
    return path


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _admin_engine() -> Engine:
    """An AUTOCOMMIT connection to the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    return make_engine(
        _pg_url(str(make_url(PG_URL).set(database="postgres"))), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def database_url(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'badger-test.db'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield _pg_url(PG_URL)
        return
    # Under pytest-xdist each worker drops and migrates the schema of its own
    # database, so workers get one each: <name>_<worker>, made and removed here.
    url = make_url(_pg_url(PG_URL))
    name = f"{url.database}_{worker}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drop_everything(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """One migrated database per backend for the whole session."""
    eng = make_engine(database_url)
    _drop_everything(eng)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Any]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@contextmanager
def scratch_database(prefix: str = "badger_t") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the test server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(make_url(_pg_url(PG_URL)).set(database=name).render_as_string(False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_database_url(db_backend: str, tmp_path: Path, engine: Engine) -> Iterator[str]:
    """An empty database of the current backend (for migrations and the CLI)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_database() as url:
        yield url


@pytest.fixture
def committed_context(fresh_database_url: str, tmp_path: Path) -> Iterator[Context]:
    """An initialised context whose transactions really commit (for concurrency tests).

    Threads need their own connections and must see each other's commits, which
    the rollback-per-test ``ctx`` cannot give; this uses a fresh database instead.
    """
    from badger.services import setup
    from badger.services.context import build_context

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
        yield ctx
    finally:
        ctx.engine.dispose()


# ---------------------------------------------------------------- context and app


class FixedClock:
    """A clock tests can move: ``clock.now = ...``."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Any:
    return load_settings(
        environ={},
        overrides={
            "env": "testing",
            "instance_dir": tmp_path / "instance",
            "keys_dir": tmp_path / "keys",
            "database_url": database_url,
            "base_url": "https://badges.example.org",
            # Tests sign in and verify many times a minute; tests/web/test_security.py
            # turns the limits back on where they are the subject.
            "rate_limits": "off",
            # Pages are rendered afresh on every request; tests/web/test_microcache.py
            # covers the short anonymous page cache.
            "page_cache_seconds": 0,
        },
    )


@pytest.fixture
def mailer() -> MemoryMailer:
    return MemoryMailer()


@pytest.fixture(scope="session")
def keystore() -> MemoryKeyStore:
    """One in-memory key store for the session: RSA key generation is slow."""
    return MemoryKeyStore()


@pytest.fixture
def ctx(
    settings: Any,
    engine: Engine,
    connection: Any,
    clock: FixedClock,
    mailer: MemoryMailer,
    keystore: MemoryKeyStore,
) -> Context:
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return Context(
        settings=settings,
        engine=engine,
        session_factory=factory,
        mailer=mailer,
        keystore=keystore,
        clock=clock,
    )


@pytest.fixture
def initialized(ctx: Context) -> Context:
    """A context whose database has an issuer and an admin."""
    from badger.services import setup

    with ctx.uow() as uow:
        from badger.services import accounts
        from badger.store.models import Issuer

        uow.session.add(
            Issuer(
                slug="default",
                name="Test Institute",
                url="https://institute.example.org",
                email="office@institute.example.org",
            )
        )
        accounts.add_account(
            uow,
            now=ctx.now(),
            email=ADMIN_EMAIL,
            password=PASSWORD,
            display_name="Ada Admin",
            roles=["admin"],
            email_verified=True,
        )
    ctx.keystore.ensure_keys("default")
    assert setup.is_initialized(ctx)
    return ctx


ADMIN_EMAIL = "admin@institute.example.org"
PASSWORD = "correct horse battery"


class CsrfClient(FlaskClient):
    """A test client that keeps CSRF on and fills in the token like a browser."""

    _token_re = re.compile(
        r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
    )

    def csrf_token(self, page: str = "/login") -> str:
        html = self.get(page).get_data(as_text=True)
        match = self._token_re.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1) or match.group(2)

    def submit(self, url: str, data: dict[str, Any], *, page: str | None = None, **kw: Any) -> Any:
        payload = {"csrf_token": self.csrf_token(page or url), **data}
        return self.post(url, data=payload, **kw)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        return self.submit("/login", {"email": email, "password": password})


@pytest.fixture
def app(ctx: Context) -> Flask:
    from badger.web.app import build_app

    flask_app = build_app(context=ctx)
    flask_app.test_client_class = CsrfClient
    return flask_app


@pytest.fixture
def client(app: Flask) -> CsrfClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def create_account(initialized: Context) -> Any:
    """Factory: ``create_account("x@example.org", roles=["reviewer"])``."""
    from badger.services import accounts

    def make(email: str, *, roles: list[str] | None = None, name: str = "Test Person") -> Any:
        return accounts.create_account(
            initialized,
            email=email,
            password=PASSWORD,
            display_name=name,
            roles=roles or ["learner"],
            email_verified=True,
        )

    return make
