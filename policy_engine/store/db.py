"""Engine, session factory and the unit of work.

Nothing here connects at import time: call ``make_engine()`` when a process needs the database.

* ``DATABASE_URL`` (default ``sqlite:///var/support.db``; the ``var/`` directory is created when the engine is, and
  the SQLite file with mode 0600).
  ``postgresql://`` and ``postgres://`` URLs are read as ``postgresql+psycopg://`` (psycopg 3 is the driver shipped).
* SQLite: foreign keys on, WAL journal with ``synchronous=NORMAL``, a busy timeout (``DB_BUSY_TIMEOUT_SECONDS``,
  default 5 s), and write units of work start with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing
  half-way with "database is locked"; past the busy timeout the unit of work fails whole (nothing half-written).
* PostgreSQL: ``statement_timeout`` (``DB_STATEMENT_TIMEOUT_SECONDS``, default 5 s) and ``lock_timeout``
  (``DB_LOCK_TIMEOUT_SECONDS``, default 3 s) on every connection; 0 turns one off.  Migrations lift the statement
  timeout for their own transaction (``migrate.upgrade``).
* Both: waiting for a pooled connection is bounded by ``DB_STATEMENT_TIMEOUT_SECONDS`` too.
  The defaults stay below the action server's time limit (``ACTION_TIMEOUT_SECONDS``, 8 s: ``actions/server.py``),
  so a locked or slow database gives the customer the generic "try again" through the ordinary error path.
  ``synchronous=NORMAL`` is SQLite's recommended setting for WAL: the database stays consistent after any crash and a
  committed transaction survives an application crash; only an operating-system crash or power loss may lose the
  last commits (they are synced at the next checkpoint).  It removes an fsync from every commit, which was the
  largest single cost of a case write on this store.  ``SQLITE_SYNCHRONOUS=FULL`` restores the fsync per commit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///var/support.db"
SQLITE_SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")
#: (environment variable, default seconds); below the action server's 8 s limit
BUSY_TIMEOUT = ("DB_BUSY_TIMEOUT_SECONDS", 5.0)
STATEMENT_TIMEOUT = ("DB_STATEMENT_TIMEOUT_SECONDS", 5.0)
LOCK_TIMEOUT = ("DB_LOCK_TIMEOUT_SECONDS", 3.0)

SessionFactory = Callable[[], Session]


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``DATABASE_URL``, else the SQLite default; driver names normalised."""
    raw = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def timeout_seconds(setting: tuple[str, float]) -> float:
    """A database timeout from the environment (seconds, 0 = off), else its default; a bad value names the variable."""
    name, default = setting
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value < 86400:
        raise ValueError(f"{name} must be between 0 and 86400 seconds, got {raw!r}")
    return value


def make_engine(url: str | None = None, **kwargs) -> Engine:
    resolved = make_url(database_url(url))
    pool_wait = timeout_seconds(STATEMENT_TIMEOUT)
    database = resolved.database or ""
    in_memory = resolved.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or "mode=memory" in str(resolved)
    )
    if pool_wait > 0 and "poolclass" not in kwargs and not in_memory:  # a queue pool (SQLAlchemy's default)
        kwargs.setdefault("pool_timeout", pool_wait)
    if resolved.get_backend_name() == "sqlite":
        return _sqlite_engine(resolved, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    if resolved.get_backend_name() == "postgresql":
        connect_args = dict(kwargs.pop("connect_args", {}))
        options = [
            connect_args.get("options") or "",
            f"-c statement_timeout={round(timeout_seconds(STATEMENT_TIMEOUT) * 1000)}",
            f"-c lock_timeout={round(timeout_seconds(LOCK_TIMEOUT) * 1000)}",
        ]
        connect_args["options"] = " ".join(o for o in options if o)
        kwargs["connect_args"] = connect_args
    return create_engine(resolved, **kwargs)


def _sqlite_engine(url, **kwargs) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        private_sqlite_file(path)
    connect_args = dict(kwargs.pop("connect_args", {}))
    busy_timeout = timeout_seconds(BUSY_TIMEOUT)
    connect_args.setdefault("timeout", busy_timeout)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    synchronous = os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL").strip().upper()
    if synchronous not in SQLITE_SYNCHRONOUS_MODES:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {SQLITE_SYNCHRONOUS_MODES}, got {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every SQLite test
        # take transaction control away from pysqlite so BEGIN is ours (SQLAlchemy "pysqlite serializable" recipe)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = "BEGIN IMMEDIATE" if connection.get_execution_options().get("write") else "BEGIN"
        connection.exec_driver_sql(mode)

    return engine


def private_sqlite_file(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does (it would use 0644 under the usual umask); SQLite
    gives its -wal and -shm files the database file's mode.  An existing file of ours that others can read is
    tightened to 0600 (issue 12: personal data in world-readable ``var/*.db``)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except OSError:  # pragma: no cover - not ours to change: SQLite reports any real problem
            pass
        return
    os.close(fd)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


class UnitOfWork:
    """One session, one transaction; rolled back on leaving unless ``commit()`` was called.

    ``write=True`` marks a unit that will write (SQLite then takes the write lock at BEGIN).
    """

    def __init__(self, session_factory: SessionFactory, *, write: bool = False):
        self._factory = session_factory
        self._write = write
        self._committed = False
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The open session (only inside the ``with`` block)."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a with block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        # open the transaction now, with the write flag the SQLite "begin" hook reads
        self.session.connection(execution_options={"write": self._write})
        return self

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def __exit__(self, exc_type, exc, tb) -> None:
        session = self.session
        try:
            if not self._committed:
                session.rollback()
        finally:
            session.close()
            self._session = None


def unit_of_work(session_factory: SessionFactory, *, write: bool = False) -> UnitOfWork:
    return UnitOfWork(session_factory, write=write)
