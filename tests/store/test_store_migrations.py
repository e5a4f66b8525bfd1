"""Migrations run up (and down and up again) on SQLite and PostgreSQL; the schema matches the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from policy_engine.store import current_revision, head_revision, make_engine, upgrade
from policy_engine.store.migrate import downgrade
from policy_engine.store.models import Base

EXPECTED_TABLES = {
    "customers",
    "products",
    "orders",
    "order_lines",
    "serial_numbers",
    "return_cases",
    "cancellations",
    "warranty_claims",
    "transit_claims",
    "refunds",
    "credit_ledger",
    "verification_attempts",
    "verification_tokens",
    "decision_audit",
}


def test_upgrade_creates_every_table_at_head(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(engine):
    assert upgrade(engine) == head_revision()


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(engine):
    assert downgrade(engine, "base") is None
    assert not (EXPECTED_TABLES & set(inspect(engine).get_table_names()))
    assert upgrade(engine) == head_revision()


def test_partial_unique_indexes_exist(engine):
    names = {ix["name"] for ix in inspect(engine).get_indexes("return_cases")}
    assert "uq_return_open_line" in names
    names = {ix["name"] for ix in inspect(engine).get_indexes("warranty_claims")}
    assert "uq_warranty_open_line" in names


def test_sqlite_database_files_are_created_private(tmp_path):
    """Issue 12, item 9: the support database (and its WAL/SHM files) readable by its owner only."""
    import stat

    path = tmp_path / "private" / "support.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        with engine.connect() as conn:  # a connection keeps the -wal/-shm files
            conn.exec_driver_sql("SELECT 1")
            files = [p for p in path.parent.iterdir() if p.name.startswith("support.db")]
            assert {p.name for p in files} >= {"support.db"}
            for p in files:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    finally:
        engine.dispose()


def test_an_existing_world_readable_sqlite_file_is_tightened(tmp_path):
    import stat

    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
