"""Migrated stores and services with a fixed, settable clock, for tests on SQLite and PostgreSQL.

Set-up that every test would repeat (Alembic migrations, the demo data) is done once per session into template
databases (``SqliteTemplates`` here, ``postgres.PostgresTemplates``); each test gets its own copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, func, select

from policy_engine.core.policy import Policy
from policy_engine.core.policy_file import load_policy
from policy_engine.service import SupportService
from policy_engine.store import make_engine, make_session_factory, unit_of_work, upgrade
from policy_engine.store.demo import load_demo
from policy_engine.store.models import Base

from .smtp import RecordingMailer

#: a Wednesday, 11:00 in Los Angeles (the policy timezone): inside business hours, far from a weekend
FIXED_NOW = datetime(2025, 3, 12, 18, 0, tzinfo=timezone.utc)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


def sqlite_url(directory: Path, name: str = "support.db") -> str:
    return f"sqlite:///{directory / name}"


@contextmanager
def migrated_engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def make_service(
    engine: Engine, *, clock: Clock | None = None, demo: bool = True, mailer=None
) -> tuple[SupportService, Clock]:
    """A ``SupportService`` on ``engine`` with the repository's policy file and a fixed clock; demo data loaded.
    One-time codes go to ``mailer`` (default: a ``RecordingMailer``, nothing leaves the process)."""
    clock = clock or Clock()
    factory = make_session_factory(engine)
    if demo:
        with unit_of_work(factory, write=True) as uow:
            load_demo(uow.session, clock.now)
            uow.commit()
    return SupportService(factory, repository_policy(), clock, mailer or RecordingMailer()), clock


@lru_cache(maxsize=1)
def repository_policy() -> Policy:
    """policy/policy.yml, read once per test session (a ``Policy`` is frozen)."""
    return load_policy()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: compare before/after to prove that nothing was written."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        return {
            table.name: uow.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def build_migrated(url: str) -> None:
    """Template builder: the schema at head."""
    with migrated_engine(url):
        pass


def build_demo(url: str) -> None:
    """Template builder: the schema at head (already there or migrated now) plus the demo data at ``FIXED_NOW``."""
    with migrated_engine(url) as engine:
        make_service(engine, clock=Clock(FIXED_NOW))


class SqliteTemplates:
    """SQLite template files built once per session; ``copy(kind, directory)`` gives a test its own file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._paths: dict[str, Path] = {}

    def get(self, kind: str, build: Callable[[str], None]) -> Path:
        if kind not in self._paths:
            path = self.directory / f"{kind}.db"
            url = sqlite_url(self.directory, path.name)
            build(url)
            engine = make_engine(url)
            try:  # fold the WAL into the main file so a plain file copy is complete
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            self._paths[kind] = path
        return self._paths[kind]

    def copy(self, kind: str, build: Callable[[str], None], directory: Path, name: str = "support.db") -> str:
        shutil.copyfile(self.get(kind, build), directory / name)
        return sqlite_url(directory, name)
