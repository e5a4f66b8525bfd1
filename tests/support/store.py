"""Migrated stores and services with a fixed, settable clock, for tests on SQLite and PostgreSQL."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, func, select

from policy_engine.demo import load_demo
from policy_engine.policy import load_policy
from policy_engine.service import SupportService
from policy_engine.store import make_engine, make_session_factory, unit_of_work, upgrade
from policy_engine.store.models import Base

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


def make_service(engine: Engine, *, clock: Clock | None = None, demo: bool = True) -> tuple[SupportService, Clock]:
    """A ``SupportService`` on ``engine`` with the repository's policy file and a fixed clock; demo data loaded."""
    clock = clock or Clock()
    factory = make_session_factory(engine)
    if demo:
        with unit_of_work(factory, write=True) as uow:
            load_demo(uow.session, clock.now)
            uow.commit()
    return SupportService(factory, load_policy(), clock), clock


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: compare before/after to prove that nothing was written."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        return {
            table.name: uow.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }
