"""The services' view of the running system: settings, database and ports.

``create_app`` (or a worker, or a test) builds one :class:`Context`; every use
case takes it as its first argument.  Ports are small protocols with a real and
a null implementation, picked from settings (STYLE habit 5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from badger.config import Settings
from badger.proofs.keystore import FileKeyStore, KeyStore
from badger.services.jobs import InProcessQueue, JobQueue, make_queue
from badger.services.mail import Mailer, make_mailer
from badger.store.db import UnitOfWork, make_engine, make_session_factory

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    mailer: Mailer
    keystore: KeyStore
    clock: Clock = system_clock
    jobs: JobQueue = field(default_factory=InProcessQueue)
    extras: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.jobs, InProcessQueue):
            self.jobs.context = self

    def uow(self) -> UnitOfWork:
        """A fresh unit of work: ``with ctx.uow() as uow: ...``."""
        return UnitOfWork(self.session_factory)

    def now(self) -> datetime:
        return self.clock()


def build_context(
    settings: Settings,
    *,
    engine: Engine | None = None,
    mailer: Mailer | None = None,
    keystore: KeyStore | None = None,
    clock: Clock | None = None,
) -> Context:
    engine = engine or make_engine(settings.database_url)
    return Context(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        mailer=mailer or make_mailer(settings),
        keystore=keystore or FileKeyStore(settings.keys_dir, settings.key_passphrases),
        clock=clock or system_clock,
        jobs=make_queue(settings),
    )
