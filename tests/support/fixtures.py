"""Pytest fixtures shared by tests/store and tests/service (import them with ``from tests.support.fixtures import *``).

* ``backend``: parametrised over ``sqlite`` and ``postgresql`` (skipped without TEST_POSTGRES_URL unless
  REQUIRE_POSTGRES=1).
* ``db_url``: an *empty* database on ``backend`` (a file in tmp_path, or a fresh PostgreSQL database).
* ``engine``: a database of its own, migrated to head, on ``backend``.  When the test also uses ``service``, the
  database already holds the demo data (at the fixed clock), so ``engine`` and ``service`` see the same rows.
* ``service`` / ``clock``: a SupportService on ``engine`` with the demo data and a settable clock.
* ``sqlite_engine`` / ``sqlite_service``: the same on SQLite only.
* ``smtp_server``: a real SMTP server on loopback (aiosmtpd) that keeps the messages (``tests.support.smtp``).

Migrating and loading the demo data happen once per session into template databases; every test gets a copy
(a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, made one ahead and dropped behind in a
background thread), so tests stay isolated and cheap.
"""

from __future__ import annotations

import pytest

from policy_engine.store import make_engine

from .postgres import PostgresTemplates, fresh_database, postgres_url, require_postgres_url  # noqa: F401
from .smtp import smtp_server  # noqa: F401
from .store import Clock, SqliteTemplates, build_demo, build_migrated, make_service, sqlite_url

__all__ = [
    "backend",
    "db_url",
    "engine",
    "service",
    "clock",
    "sqlite_engine",
    "sqlite_service",
    "postgres_url",
    "sqlite_templates",
    "postgres_templates",
    "smtp_server",
]

_SERVICE_FIXTURES = ("service", "sqlite_service")


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite-templates"))


@pytest.fixture(scope="session")
def postgres_templates():
    """Built lazily: a session without PostgreSQL tests never connects."""
    holder: dict[str, PostgresTemplates] = {}

    def get() -> PostgresTemplates:
        if "t" not in holder:
            holder["t"] = PostgresTemplates(require_postgres_url())
        return holder["t"]

    yield get
    if "t" in holder:
        holder["t"].drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    if request.param == "postgresql":
        require_postgres_url()
    return request.param


@pytest.fixture
def db_url(backend, tmp_path):
    if backend == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with fresh_database(require_postgres_url()) as url:
            yield url


def _wants_demo(request) -> bool:
    return any(name in request.fixturenames for name in _SERVICE_FIXTURES)


def _copy_url(backend, request, tmp_path, sqlite_templates, postgres_templates):
    """A context manager giving the URL of this test's own copy of the right template."""
    from contextlib import nullcontext

    kind, build = ("demo", build_demo) if _wants_demo(request) else ("migrated", build_migrated)
    if backend == "sqlite":
        return nullcontext(sqlite_templates.copy(kind, build, tmp_path))

    templates = postgres_templates()
    base = None
    if kind == "demo":
        templates.get("migrated", build_migrated)
        base = "migrated"
    return templates.copy(kind, build, base=base)


@pytest.fixture
def engine(backend, request, tmp_path, sqlite_templates, postgres_templates):
    with _copy_url(backend, request, tmp_path, sqlite_templates, postgres_templates) as url:
        eng = make_engine(url)
        try:
            yield eng
        finally:
            eng.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(engine, clock):
    svc, _ = make_service(engine, clock=clock, demo=False)  # the demo data came with the template
    return svc


@pytest.fixture
def sqlite_engine(request, tmp_path, sqlite_templates):
    kind, build = ("demo", build_demo) if _wants_demo(request) else ("migrated", build_migrated)
    eng = make_engine(sqlite_templates.copy(kind, build, tmp_path))
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_service(sqlite_engine, clock):
    svc, _ = make_service(sqlite_engine, clock=clock, demo=False)
    return svc
