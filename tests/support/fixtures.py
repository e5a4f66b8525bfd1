"""Pytest fixtures shared by tests/store and tests/service (import them with ``from tests.support.fixtures import *``).

* ``db_url``: parametrised over ``sqlite`` (a file in tmp_path) and ``postgresql`` (a fresh database; skipped
  without TEST_POSTGRES_URL unless REQUIRE_POSTGRES=1).
* ``engine``: ``db_url`` migrated to head.  ``service`` / ``clock``: a SupportService on it with the demo data.
* ``sqlite_engine`` / ``sqlite_service``: the same on SQLite only.
"""
from __future__ import annotations

import pytest

from .postgres import fresh_database, postgres_url, require_postgres_url  # noqa: F401  (fixture re-export)
from .store import Clock, make_service, migrated_engine, sqlite_url

__all__ = ["db_url", "engine", "service", "clock", "sqlite_engine", "sqlite_service", "postgres_url"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with fresh_database(require_postgres_url()) as url:
            yield url


@pytest.fixture
def engine(db_url):
    with migrated_engine(db_url) as eng:
        yield eng


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(engine, clock):
    svc, _ = make_service(engine, clock=clock)
    return svc


@pytest.fixture
def sqlite_engine(tmp_path):
    with migrated_engine(sqlite_url(tmp_path)) as eng:
        yield eng


@pytest.fixture
def sqlite_service(sqlite_engine, clock):
    svc, _ = make_service(sqlite_engine, clock=clock)
    return svc
