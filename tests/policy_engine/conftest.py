"""Fact builders for the pure policy-engine tests: each takes a few keyword arguments with sensible defaults, so a
test states only what matters to it.  They are exposed as (session-scoped) fixtures named ``make_*``; ``at`` turns
``"2024-03-01 10:00"`` into a timezone-aware datetime in the policy timezone.

Nothing here touches a database, the network or the clock.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from policy_engine.core.facts import (
    Customer,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    RefundRecord,
)
from policy_engine.core.policy import Policy
from policy_engine.core.policy_file import load_policy

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY_FILE = REPO_ROOT / "policy" / "policy.yml"
CLAUSES_FILE = Path(os.environ.get("CLAUSES_FILE", REPO_ROOT.parent / "shared" / "policy" / "clauses.md"))
TZ = ZoneInfo("America/Los_Angeles")


def at(text: str, tz: ZoneInfo = TZ) -> datetime:
    """``"2024-03-01"`` or ``"2024-03-01 10:00"`` -> aware datetime in the policy timezone (Pacific)."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=tz)


def d(text: str) -> date:
    return date.fromisoformat(text)


def build_product(
    *,
    sku: str = "A2633",
    name: str = "Anker 735 Charger",
    category: str = "charger",
    price: str | Decimal = "59.99",
    refurbished_available: bool = False,
    new_available: bool = True,
    extended_warranty_eligible: bool = False,
) -> Product:
    return Product(
        sku=sku,
        name=name,
        category=category,
        price=Decimal(price),
        refurbished_available=refurbished_available,
        new_available=new_available,
        extended_warranty_eligible=extended_warranty_eligible,
    )


def build_line(
    *,
    line_id: int = 1,
    quantity: int = 1,
    unit_price: str | Decimal = "59.99",
    discount: str | Decimal = "0",
    product: Product | None = None,
    serial_numbers: tuple[str, ...] = (),
    free_gift: bool = False,
    redeemed_with_credits: bool = False,
    extended_warranty_years: int = 0,
    **product_kw,
) -> OrderLine:
    product = product or build_product(price=unit_price, **product_kw)
    return OrderLine(
        line_id=line_id,
        product=product,
        quantity=quantity,
        unit_price=Decimal(unit_price),
        discount=Decimal(discount),
        serial_numbers=tuple(serial_numbers),
        free_gift=free_gift,
        redeemed_with_credits=redeemed_with_credits,
        extended_warranty_years=extended_warranty_years,
    )


def build_order(
    *,
    placed_at: datetime | str = "2024-03-01 10:00",
    lines: tuple[OrderLine, ...] | None = None,
    status: OrderStatus = OrderStatus.DELIVERED,
    paid_at: datetime | str | None = "same",
    shipped_at: datetime | str | None = "auto",
    delivered_at: datetime | str | None = "auto",
    order_number: str = "AK1234567",
    email: str = "ada@example.com",
    **kw,
) -> Order:
    """A delivered, paid web-store order with one charger line unless told otherwise.  ``paid_at="same"`` means
    paid when placed; ``shipped_at``/``delivered_at`` ``"auto"`` follow the status (1 and 4 days after placing)."""
    placed = at(placed_at) if isinstance(placed_at, str) else placed_at
    paid = placed if paid_at == "same" else (at(paid_at) if isinstance(paid_at, str) else paid_at)
    shipped_states = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    if shipped_at == "auto":
        shipped_at = placed + timedelta(days=1) if status in shipped_states else None
    elif isinstance(shipped_at, str):
        shipped_at = at(shipped_at)
    if delivered_at == "auto":
        delivered_at = placed + timedelta(days=4) if status is OrderStatus.DELIVERED else None
    elif isinstance(delivered_at, str):
        delivered_at = at(delivered_at)
    return Order(
        order_number=order_number,
        email=email,
        placed_at=placed,
        lines=lines or (build_line(),),
        status=status,
        paid_at=paid,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        **kw,
    )


def build_customer(
    *,
    birth_date: date | str | None = "1990-05-17",
    region: str = "US",
    registered_at: datetime | str | None = "2024-01-10 09:00",
    profile_completed_at: datetime | str | None = None,
    **kw,
) -> Customer:
    if isinstance(birth_date, str):
        birth_date = d(birth_date)
    if isinstance(registered_at, str):
        registered_at = at(registered_at)
    if isinstance(profile_completed_at, str):
        profile_completed_at = at(profile_completed_at)
    return Customer(
        email=kw.pop("email", "ada@example.com"),
        birth_date=birth_date,
        region=region,
        registered_at=registered_at,
        profile_completed_at=profile_completed_at,
        **kw,
    )


def build_refund(
    *,
    amount: str | Decimal = "59.99",
    payment_method: str = "card",
    item_received_at: datetime | str | None = None,
    inspected_at: datetime | str | None = None,
    inspection_passed: bool | None = None,
    issued_at: datetime | str | None = None,
    inspection_finding: str | None = None,
    order_number: str = "AK1234567",
) -> RefundRecord:
    conv = lambda v: at(v) if isinstance(v, str) else v  # noqa: E731
    return RefundRecord(
        order_number=order_number,
        amount=Decimal(amount),
        payment_method=payment_method,
        item_received_at=conv(item_received_at),
        inspected_at=conv(inspected_at),
        inspection_passed=inspection_passed,
        issued_at=conv(issued_at),
        inspection_finding=inspection_finding,
    )


_entry_ids = iter(range(1, 10**9))


def build_entry(
    kind: LedgerKind = LedgerKind.PURCHASE,
    points: int = 100,
    *,
    created_at: datetime | str = "2024-03-01 10:00",
    unlock_at: datetime | str | None = None,
    expires_at: datetime | str | None = None,
    order_number: str | None = None,
    entry_id: int | None = None,
) -> LedgerEntry:
    conv = lambda v: at(v) if isinstance(v, str) else v  # noqa: E731
    return LedgerEntry(
        entry_id=entry_id if entry_id is not None else next(_entry_ids),
        kind=kind,
        points=points,
        created_at=conv(created_at),
        unlock_at=conv(unlock_at),
        expires_at=conv(expires_at),
        order_number=order_number,
    )


def clause_ids() -> set[str]:
    """Every clause ID defined in clauses.md (``- RET-1 ...`` bullets)."""
    if not CLAUSES_FILE.exists():
        pytest.skip(f"clauses file not found at {CLAUSES_FILE} (set CLAUSES_FILE)")
    return set(re.findall(r"^- ([A-Z]{3}-\d+) ", CLAUSES_FILE.read_text(encoding="utf-8"), flags=re.M))


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(POLICY_FILE)


@pytest.fixture(scope="session")
def make_product():
    return build_product


@pytest.fixture(scope="session")
def make_line():
    return build_line


@pytest.fixture(scope="session")
def make_order():
    return build_order


@pytest.fixture(scope="session")
def make_customer():
    return build_customer


@pytest.fixture(scope="session")
def make_refund():
    return build_refund


@pytest.fixture(scope="session")
def make_entry():
    return build_entry


@pytest.fixture(scope="session", name="at")
def at_fixture():
    return at


@pytest.fixture(scope="session", name="d")
def d_fixture():
    return d


@pytest.fixture(scope="session", name="clauses")
def clauses_fixture() -> set[str]:
    return clause_ids()
