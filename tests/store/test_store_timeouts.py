"""Database-level timeouts (issue 12, finding 9): a locked or slow database fails the unit of work within seconds,
below the action server's 8 s limit, instead of holding a worker thread for half a minute."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy.exc import OperationalError

from policy_engine.store import make_engine, make_session_factory, unit_of_work
from policy_engine.store.db import BUSY_TIMEOUT, timeout_seconds


def test_the_defaults_are_below_the_action_time_limit(engine, backend):
    with engine.connect() as connection:
        if backend == "sqlite":
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        else:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "5s"
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "3s"
    assert engine.pool.timeout() == 5.0


def test_the_timeouts_come_from_the_environment(backend, db_url, monkeypatch):
    monkeypatch.setenv("DB_BUSY_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("DB_LOCK_TIMEOUT_SECONDS", "0")
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            if backend == "sqlite":
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1500
            else:
                assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "2s"
                assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "0"
        assert engine.pool.timeout() == 2.0
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_bad_value_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("DB_BUSY_TIMEOUT_SECONDS", value)
    with pytest.raises(ValueError, match="DB_BUSY_TIMEOUT_SECONDS"):
        timeout_seconds(BUSY_TIMEOUT)


def test_a_locked_sqlite_file_fails_the_write_after_the_busy_timeout(sqlite_engine, monkeypatch):
    monkeypatch.setenv("DB_BUSY_TIMEOUT_SECONDS", "0.5")
    url = sqlite_engine.url
    engine = make_engine(url.render_as_string(hide_password=False))
    holder = sqlite3.connect(url.database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), unit_of_work(make_session_factory(engine), write=True):
            pass
        assert time.monotonic() - started < 5  # not the old 30 s
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
