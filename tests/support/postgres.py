"""PostgreSQL for tests: a fresh database per test on the server named by ``TEST_POSTGRES_URL``.

* ``TEST_POSTGRES_URL`` unset: tests that need PostgreSQL are skipped, unless ``REQUIRE_POSTGRES=1``: then they fail.
* Start a server with ``export TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"`` (the role there may create
  databases).  Each test gets its own database ``t_<random>``, dropped afterwards.
* Migrating and loading the demo data take seconds per database; ``PostgresTemplates`` does it once per test session
  in template databases, and each test gets ``CREATE DATABASE t_<random> TEMPLATE <template>`` (a file-level copy,
  a fraction of a second): the same isolation, none of the repeated set-up.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from policy_engine.store.db import database_url

ENV_URL = "TEST_POSTGRES_URL"
ENV_REQUIRE = "REQUIRE_POSTGRES"


def admin_url() -> str | None:
    raw = os.environ.get(ENV_URL, "").strip()
    return database_url(raw) if raw else None


def require_postgres_url() -> str:
    """The server URL, or skip (fail with REQUIRE_POSTGRES=1) when there is none."""
    url = admin_url()
    if url:
        return url
    message = f"PostgreSQL not configured: set {ENV_URL} (e.g. $(bash scripts/postgres.sh))"
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"{message}; {ENV_REQUIRE}=1 makes this a failure", pytrace=False)
    pytest.skip(message)


def _url_for(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _create(server_url: str, name: str, template: str | None = None) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            suffix = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    finally:
        admin.dispose()


def _drop(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def fresh_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """Create a database on the server (empty, or a copy of ``template``), yield its URL, drop it afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    _create(server_url, name, template)
    try:
        yield _url_for(server_url, name)
    finally:
        _drop(server_url, name)


class PostgresTemplates:
    """Template databases built once per test session, by name: ``get("migrated", build)`` calls ``build(url)`` the
    first time (e.g. migrate, load the demo data); ``copy(kind, build)`` then gives each test its own copy.

    Copies are made one ahead and dropped behind, by one background thread, so the test rarely waits for the
    server's ``CREATE DATABASE``/``DROP DATABASE``.  A template must have no open connection when it is copied:
    ``build`` disposes of its engine."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._prefix = f"tpl_{uuid.uuid4().hex[:10]}"
        self._names: dict[str, str] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-test-databases")
        self._ready: dict[str, Future] = {}

    def _new_copy(self, template: str) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        _create(self.server_url, name, template)
        return name

    @contextmanager
    def copy(self, kind: str, build: Callable[[str], None], *, base: str | None = None) -> Iterator[str]:
        """URL of a database of this test's own, a copy of the ``kind`` template; dropped afterwards."""
        template = self.get(kind, build, base=base)
        ahead = self._ready.pop(kind, None)
        name = ahead.result() if ahead is not None else self._new_copy(template)
        self._ready[kind] = self._worker.submit(self._new_copy, template)
        try:
            yield _url_for(self.server_url, name)
        finally:
            self._worker.submit(_drop, self.server_url, name)

    def get(self, kind: str, build: Callable[[str], None], *, base: str | None = None) -> str:
        """The template database's name; built from ``base``'s template (when given) plus ``build``."""
        if kind not in self._names:
            name = f"{self._prefix}_{kind}"
            _create(self.server_url, name, self._names[base] if base else None)
            try:
                build(_url_for(self.server_url, name))
            except BaseException:
                _drop(self.server_url, name)
                raise
            self._names[kind] = name
        return self._names[kind]

    def drop_all(self) -> None:
        for ahead in self._ready.values():
            with contextlib.suppress(Exception):  # a copy that failed to be made has nothing to drop
                self._worker.submit(_drop, self.server_url, ahead.result())
        self._ready.clear()
        self._worker.shutdown(wait=True)
        for name in self._names.values():
            _drop(self.server_url, name)
        self._names.clear()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database for this test."""
    with fresh_database(require_postgres_url()) as url:
        yield url
