"""The unit of work rolls back unless committed, also when an error escapes."""

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from policy_engine.store import make_engine, make_session_factory, unit_of_work
from policy_engine.store.models import ProductRow


def _skus(factory):
    with unit_of_work(factory) as uow:
        return set(uow.session.scalars(select(ProductRow.sku)))


def _add(session, sku):
    session.add(ProductRow(sku=sku, name=sku, category="cable", price=Decimal("1.00")))


def test_commit_persists(engine):
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        _add(uow.session, "KEEP")
        uow.commit()
    assert _skus(factory) == {"KEEP"}


def test_leaving_without_commit_rolls_back(engine):
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        _add(uow.session, "GONE")
        uow.session.flush()
    assert _skus(factory) == set()


def test_an_error_rolls_back_everything_in_the_unit(engine):
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), unit_of_work(factory, write=True) as uow:
        _add(uow.session, "FIRST")
        uow.session.flush()
        _add(uow.session, "SECOND")
        uow.session.flush()
        raise RuntimeError("boom")
    assert _skus(factory) == set()


def test_constraint_violation_leaves_nothing_behind(engine):
    factory = make_session_factory(engine)
    with pytest.raises(IntegrityError), unit_of_work(factory, write=True) as uow:
        _add(uow.session, "DUP")
        uow.session.flush()
        uow.session.add(ProductRow(sku="NEG", name="n", category="cable", price=Decimal("-1.00")))
        uow.session.flush()  # ck_products_price
        uow.commit()
    assert _skus(factory) == set()


def test_sqlite_default_url_creates_the_var_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    engine = make_engine()
    try:
        assert engine.url.database == "var/support.db"
        assert (tmp_path / "var").is_dir()
    finally:
        engine.dispose()


def test_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@localhost:5432/db")
    engine = make_engine()  # no connection is made until used
    try:
        assert engine.url.drivername == "postgresql+psycopg"
    finally:
        engine.dispose()


def test_importing_the_package_creates_no_engine(tmp_path):
    import subprocess
    import sys

    code = (
        "import policy_engine, policy_engine.service, policy_engine.store, policy_engine.entrypoints.cli, "
        "policy_engine.store.demo; import os; print(os.path.exists('var'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={},  # the project is installed: no PYTHONPATH, no inherited DATABASE_URL
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
