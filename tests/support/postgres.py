"""PostgreSQL for tests: a fresh database per test on the server named by ``TEST_POSTGRES_URL``.

* ``TEST_POSTGRES_URL`` unset: tests that need PostgreSQL are skipped, unless ``REQUIRE_POSTGRES=1``: then they fail.
* Start a server with ``export TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"`` (the role there may create
  databases).  Each test gets its own database ``t_<random>``, dropped afterwards.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

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


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server, yield its URL, drop it afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database for this test."""
    with fresh_database(require_postgres_url()) as url:
        yield url
