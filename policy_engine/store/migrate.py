"""Run the Alembic migrations from code: no ``alembic.ini`` needed, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _no_statement_timeout(connection) -> None:
    """A migration may rewrite big tables: PostgreSQL's ``statement_timeout`` (store/db.py) is lifted for its own
    transaction only (``lock_timeout`` stays: a migration must not queue the bot's traffic behind its lock)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Create or upgrade the schema to ``revision``; returns the revision the database is at afterwards."""
    config = alembic_config()
    with engine.begin() as connection:
        _no_statement_timeout(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    config = alembic_config()
    with engine.begin() as connection:
        _no_statement_timeout(connection)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
