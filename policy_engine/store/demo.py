"""Demo data: a realistic catalogue and customers whose orders exercise every clause, dated relative to ``now``.

``demo_document(now)`` returns an import document (schemas/import.schema.json); ``load_demo(session, now)`` imports
it, replacing earlier demo orders (with their cases, refunds, tokens and attempts) and the demo customers' credits
ledgers, so running it again is idempotent and refreshes every relative date.  ``demo_logins.DEMO_LOGINS`` is the
table in docs/demo-data.md: order number + purchase email + the story each one tells.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from .demo_cases import CASE_CUSTOMERS, case_orders
from .demo_logins import CATALOGUE
from .demo_shipments import SHIPMENT_CUSTOMERS, shipment_orders
from .import_values import ImportSummary
from .importer import import_data

#: a purchase that is *not* in the store: bought from an authorised reseller, proven by a dated receipt (WAR-9)
RESELLER_RECEIPT_STORY: dict[str, Any] = {
    "channel": "amazon",
    "sku": "A1289",
    "purchased_days_ago": 120,
    "country": "US",
    "price": "149.99",
    "proof": "receipt",
    "clauses": ["WAR-9", "WAR-1", "RET-11"],
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _serial(sku: str, n: int) -> str:
    """16 upper-case letters/digits starting with a letter, at least 4 digits: the SKU, ``C`` and 10 digits."""
    return f"{sku.upper():<5.5}C{n:010d}".replace(" ", "X")


def demo_document(now: datetime) -> dict[str, Any]:
    """The demo data as an import document, every date relative to ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = timedelta(days=1)
    ago = lambda **kw: _iso(now - timedelta(**kw))  # noqa: E731
    serial_no = iter(range(23100457, 23199999))
    price = {sku: p for sku, _n, _c, p, _r, _e in CATALOGUE}

    def line(line_id: int, sku: str, quantity: int = 1, serials: bool = True, **extra) -> dict[str, Any]:
        item = {"line_id": line_id, "sku": sku, "quantity": quantity, "unit_price": price[sku], **extra}
        if serials:
            item["serial_numbers"] = [_serial(sku, next(serial_no)) for _ in range(quantity)]
        return item

    def order(number: str, email: str, placed_days: float, status: str, lines: list, **extra) -> dict[str, Any]:
        placed = now - placed_days * day
        doc = {
            "order_number": number,
            "email": email,
            "placed_at": _iso(placed),
            "paid_at": _iso(placed + timedelta(minutes=1)),
            "status": status,
            "lines": lines,
            "shipping": "0.00",
            "tax": "0.00",
            "payment_method": "card",
            **extra,
        }
        if status in ("shipped", "delivered"):
            doc.setdefault("shipped_at", _iso(placed + day))
        if status == "delivered":
            doc.setdefault("delivered_at", _iso(placed + 3 * day))
        return doc

    orders = [
        order("AK1000001", "olivia.fresh@example.com", 10 / (24 * 60), "placed", [line(1, "A2147")], tax="4.80"),
        order("AK1000002", "sam.shipped@example.com", 2, "shipped", [line(1, "A1340")], shipped_at=ago(days=1)),
        order(
            "AK1000003",
            "emma.twenty@example.com",
            20,
            "delivered",
            [line(1, "A83A6"), line(2, "A8856")],
            shipping="5.99",
            tax="8.40",
        ),
        order("AK1000004", "noah.late@example.com", 31, "delivered", [line(1, "A2343")]),
        order("AK1000005", "bulk.buyer@example.com", 10, "delivered", [line(1, "A8856", 11, serials=False)]),
        order(
            "AK1000006",
            "purchasing@contoso-corp.example",
            5,
            "delivered",
            [line(1, "A8346", 4)],
            corporate=True,
            payment_method="invoice",
            delivered_at=ago(days=2),
        ),
        order("AK1000007", "mia.mystery@example.com", 8, "delivered", [line(1, "A1647")], campaign="mystery_box"),
        order(
            "AK1000008",
            "liam.rewards@example.com",
            6,
            "delivered",
            [line(1, "A2633"), line(2, "A2589", redeemed_with_credits=True, unit_price="0.00")],
            delivered_at=ago(days=3),
            credits_applied="0.00",
        ),
        order(
            "AK1000010",
            "ava.solix@example.com",
            609,
            "delivered",
            [line(1, "A1761"), line(2, "A8856", free_gift=True, unit_price="0.00")],
        ),
        order("AK1000011", "ethan.oldcharger@example.com", 761, "delivered", [line(1, "A2147")]),
        order(
            "AK1000012",
            "zoe.worryfree@example.com",
            8,
            "shipped",
            [line(1, "Y1811")],
            worry_free_insurance=True,
            shipped_at=ago(days=6),
        ),
        order(
            "AK1000013",
            "lucas.insured@example.com",
            9,
            "delivered",
            [line(1, "A1289")],
            worry_free_insurance=True,
            shipping_insurance=True,
        ),
        order("AK1000014", "grace.refunds@example.com", 15, "delivered", [line(1, "A2633")]),
        order("AK1000015", "grace.refunds@example.com", 18, "delivered", [line(1, "A8346")]),
        order("AK1000016", "grace.refunds@example.com", 22, "delivered", [line(1, "A1647")], payment_method="paypal"),
        order("AK1000017", "grace.refunds@example.com", 28, "delivered", [line(1, "A2589")]),
        order(
            "AK1000018",
            "henry.abroad@example.com",
            183,
            "delivered",
            [line(1, "A1289")],
            country="DE",
            payment_method="card",
        ),
        order("AK1000019", "isla.guest@example.com", 12, "delivered", [line(1, "A8662")], logged_in=False),
        *shipment_orders(now, order, line),  # the order status, with their parcels
        *case_orders(now, order, line),  # coming back to a case: warranty claims opened earlier
    ]

    customers = [
        {"email": "olivia.fresh@example.com", "name": "Olivia Park", "registered_at": ago(days=400)},
        {"email": "sam.shipped@example.com", "name": "Sam Rivera", "registered_at": ago(days=90)},
        {"email": "emma.twenty@example.com", "name": "Emma Lindqvist", "registered_at": ago(days=200)},
        {"email": "noah.late@example.com", "name": "Noah Brooks", "registered_at": ago(days=300)},
        {"email": "bulk.buyer@example.com", "name": "Bulk Buyer"},
        {"email": "purchasing@contoso-corp.example", "name": "Contoso Purchasing"},
        {"email": "mia.mystery@example.com", "name": "Mia Chen", "registered_at": ago(days=60)},
        {
            "email": "liam.rewards@example.com",
            "name": "Liam O'Connor",
            "region": "US",
            "birth_date": "1990-04-12",
            "registered_at": ago(days=500),
            "profile_completed_at": ago(days=499),
        },
        {"email": "ava.solix@example.com", "name": "Ava Johnson", "registered_at": ago(days=700)},
        {"email": "ethan.oldcharger@example.com", "name": "Ethan Wright", "registered_at": ago(days=800)},
        {"email": "zoe.worryfree@example.com", "name": "Zoe Adams", "registered_at": ago(days=30)},
        {"email": "lucas.insured@example.com", "name": "Lucas Martin", "registered_at": ago(days=45)},
        {"email": "grace.refunds@example.com", "name": "Grace Kim", "registered_at": ago(days=365)},
        {
            "email": "henry.abroad@example.com",
            "name": "Henry Becker",
            "country": "DE",
            "region": "EU",
            "registered_at": ago(days=250),
        },
        {"email": "isla.guest@example.com", "name": "Isla Novak"},
        *(dict(c) for c in SHIPMENT_CUSTOMERS),
        *(dict(c) for c in CASE_CUSTOMERS),
    ]

    refunds = [
        {"order_number": "AK1000014", "amount": "19.99", "status": "awaiting_item", "created_at": ago(days=2)},
        {
            "order_number": "AK1000015",
            "amount": "24.99",
            "status": "received",
            "created_at": ago(days=6),
            "item_received_at": ago(days=1),
        },
        {
            "order_number": "AK1000016",
            "amount": "39.99",
            "payment_method": "paypal",
            "status": "inspected",
            "created_at": ago(days=9),
            "item_received_at": ago(days=3),
            "inspected_at": ago(days=1),
            "inspection_passed": True,
        },
        {
            "order_number": "AK1000017",
            "amount": "15.99",
            "status": "issued",
            "created_at": ago(days=14),
            "item_received_at": ago(days=9),
            "inspected_at": ago(days=8),
            "inspection_passed": True,
            "issued_at": ago(days=4),
        },
    ]

    def purchase_credits(email: str, number: str, points: int, paid_days: float) -> dict[str, Any]:
        paid = now - paid_days * day + timedelta(minutes=1)
        unlock = paid + 30 * day  # CRD-6
        return {
            "email": email,
            "kind": "purchase",
            "points": points,
            "order_number": number,
            "created_at": _iso(paid),
            "unlock_at": _iso(unlock),
            "expires_at": _iso(unlock + 365 * day),
        }

    liam = "liam.rewards@example.com"
    credits = [
        {
            "email": liam,
            "kind": "signup",
            "points": 500,
            "created_at": ago(days=500),
            "unlock_at": ago(days=500),
            "expires_at": _iso(now - 500 * day + 365 * day),
        },
        {
            "email": liam,
            "kind": "expiry",
            "points": -500,
            "created_at": ago(days=135),
            "note": "signup credits expired",
        },
        {
            "email": liam,
            "kind": "profile",
            "points": 100,
            "created_at": ago(days=60),
            "unlock_at": ago(days=60),
            "expires_at": _iso(now - 60 * day + 365 * day),
        },
        # unlocked 355 days ago -> expires in 10 days (expiring soon, CRD-7)
        {
            "email": liam,
            "kind": "purchase",
            "points": 420,
            "created_at": ago(days=385),
            "unlock_at": ago(days=355),
            "expires_at": _iso(now - 355 * day + 365 * day),
        },
        {
            "email": liam,
            "kind": "redemption",
            "points": -300,
            "created_at": ago(days=6),
            "order_number": "AK1000008",
            "note": "Anker 313 Wireless Charger (Pad) redeemed",
        },
        purchase_credits(liam, "AK1000008", 19, 6),  # locked until day 30 (CRD-6)
        {
            "email": "olivia.fresh@example.com",
            "kind": "signup",
            "points": 500,
            "created_at": ago(days=400),
            "unlock_at": ago(days=400),
            "expires_at": _iso(now - 400 * day + 365 * day),
        },
        {"email": "olivia.fresh@example.com", "kind": "expiry", "points": -500, "created_at": ago(days=35)},
        purchase_credits("olivia.fresh@example.com", "AK1000001", 59, 10 / (24 * 60)),
        purchase_credits("emma.twenty@example.com", "AK1000003", 99, 20),
        purchase_credits("ava.solix@example.com", "AK1000010", 799, 609),
    ]

    products = [
        {
            "sku": sku,
            "name": name,
            "category": category,
            "price": p,
            "refurbished_available": refurb,
            "new_available": True,
            "extended_warranty_eligible": ext,
        }
        for sku, name, category, p, refurb, ext in CATALOGUE
    ]
    return {
        "format_version": 1,
        "products": products,
        "customers": customers,
        "orders": orders,
        "refunds": refunds,
        "credits": credits,
    }


def load_demo(session: Session, now: datetime) -> ImportSummary:
    """Import the demo data into ``session`` (the caller commits), replacing earlier demo orders and ledgers."""
    return import_data(session, demo_document(now), now, replace_orders=True)
