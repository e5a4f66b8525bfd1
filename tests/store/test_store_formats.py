"""The store's limits come from policy_engine/core/formats.py; the WAR-21 CHECK ceiling matches the migration and the
policy file's figure (a higher figure in policy.yml needs a new migration first)."""

from __future__ import annotations

from pathlib import Path

from policy_engine.core import formats
from policy_engine.core.policy_file import load_policy
from policy_engine.store.models import OrderLineRow, WarrantyClaimRow

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "policy_engine"
    / "store"
    / "migrations"
    / "versions"
    / "0001_initial_schema.py"
)


def test_the_extended_warranty_check_is_the_migrations_text():
    checks = {c.name: str(c.sqltext) for c in OrderLineRow.__table__.constraints if hasattr(c, "sqltext")}
    assert checks["ck_order_lines_ext_warranty"] == formats.extended_warranty_check()
    assert f"'{formats.extended_warranty_check()}'" in MIGRATION.read_text(encoding="utf-8")


def test_the_policy_figure_fits_under_the_storage_ceiling():
    assert load_policy().warranty.extended_warranty_max_years <= formats.EXTENDED_WARRANTY_YEARS_CEILING


def test_the_defect_column_holds_the_text_limit():
    assert WarrantyClaimRow.__table__.c.defect.type.length == formats.TEXT_MAX_CHARS == 500
