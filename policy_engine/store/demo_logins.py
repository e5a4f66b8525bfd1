"""The demo catalogue and the demo logins: order number + purchase email + the story each one tells, the table in
docs/demo-data.md (the orders themselves are built by ``demo.demo_document``)."""

from __future__ import annotations

from dataclasses import dataclass

from .demo_cases import CASE_LOGINS
from .demo_shipments import SHIPMENT_LOGINS


@dataclass(frozen=True)
class DemoLogin:
    order_number: str
    email: str
    story: str
    clauses: tuple[str, ...]


# sku, name, category, price, refurbished_available, extended_warranty_eligible
CATALOGUE: tuple[tuple[str, str, str, str, bool, bool], ...] = (
    ("A2633", "Anker 511 Charger (Nano 3, 30W)", "charger", "19.99", False, False),
    ("A2147", "Anker 735 Charger (Nano II 65W)", "charger", "59.99", True, False),
    ("A2343", "Anker 737 Charger (GaNPrime 120W)", "charger", "94.99", True, False),
    ("A1340", "Anker 622 Magnetic Battery (MagGo)", "power_bank", "69.99", True, False),
    ("A1289", "Anker 737 Power Bank (PowerCore 24K)", "power_bank", "149.99", False, True),
    ("A1647", "Anker Nano Power Bank (10K, Built-In USB-C Cable)", "power_bank", "39.99", False, False),
    ("A8856", "Anker 765 USB-C to USB-C Cable (140W Nylon, 6 ft)", "cable", "19.99", False, False),
    ("A8662", "Anker PowerLine III Flow USB-C to Lightning Cable", "cable", "15.99", False, False),
    ("A83A6", "Anker 563 USB-C Hub (10-in-1)", "hub", "79.99", True, False),
    ("A8346", "Anker 332 USB-C Hub (5-in-1)", "hub", "24.99", False, False),
    ("A1761", "Anker SOLIX C1000 Portable Power Station", "power_station", "799.00", True, True),
    ("A1790", "Anker SOLIX F3800 Portable Power Station", "power_station", "3999.00", False, True),
    ("A2589", "Anker 313 Wireless Charger (Pad)", "wireless", "15.99", False, False),
    ("Y1811", "Anker MagGo 3-in-1 Wireless Charging Station (Qi2)", "wireless", "109.99", True, False),
)

DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(
        "AK1000001",
        "olivia.fresh@example.com",
        "Placed 10 minutes ago, not shipped; 59 locked purchase credits: cancel it (reverses the credits)",
        ("CAN-1", "CRD-11"),
    ),
    DemoLogin(
        "AK1000002",
        "sam.shipped@example.com",
        "Placed 2 days ago, shipped yesterday: too late to cancel",
        ("CAN-3", "CAN-2"),
    ),
    DemoLogin(
        "AK1000003",
        "emma.twenty@example.com",
        "Delivered, bought 20 days ago: undamaged return inside the window (refund awaits the item)",
        ("RET-1", "RET-6", "REF-1"),
    ),
    DemoLogin(
        "AK1000004",
        "noah.late@example.com",
        "Bought 31 days ago: return window passed; non-quality warranty issue too late",
        ("RET-1", "WAR-15"),
    ),
    DemoLogin("AK1000005", "bulk.buyer@example.com", "11 cables of one SKU, 10 days ago: bulk order", ("RET-3",)),
    DemoLogin(
        "AK1000006",
        "purchasing@contoso-corp.example",
        "Corporate purchase of hubs, 5 days ago: refund goes to review",
        ("RET-2",),
    ),
    DemoLogin(
        "AK1000007",
        "mia.mystery@example.com",
        "Mystery box campaign, 8 days ago: no no-questions-asked return",
        ("RET-7",),
    ),
    DemoLogin(
        "AK1000008",
        "liam.rewards@example.com",
        "Line 2 redeemed with credits (delivered 3 days ago); rich credits ledger: available, locked, expiring",
        ("RET-10", "CRD-13", "CRD-6", "CRD-7", "CRD-9", "CRD-12"),
    ),
    DemoLogin(
        "AK1000010",
        "ava.solix@example.com",
        "SOLIX C1000 power station bought 20 months ago: still in warranty; line 2 is a free gift cable",
        ("WAR-1", "WAR-3", "WAR-16"),
    ),
    DemoLogin(
        "AK1000011",
        "ethan.oldcharger@example.com",
        "Charger bought 25 months ago: outside the warranty period",
        ("WAR-14", "WAR-10"),
    ),
    DemoLogin(
        "AK1000012",
        "zoe.worryfree@example.com",
        "Worry-Free Purchase insurance, shipped 6 days ago, not delivered: lost/delayed parcel claim",
        ("INS-1",),
    ),
    DemoLogin(
        "AK1000013",
        "lucas.insured@example.com",
        "Worry-Free plus shipping insurance, delivered damaged: no separate Worry-Free refund",
        ("INS-2", "REF-4"),
    ),
    DemoLogin(
        "AK1000014",
        "grace.refunds@example.com",
        "Return approved, refund awaiting the item at the warehouse",
        ("RET-6", "REF-1"),
    ),
    DemoLogin("AK1000015", "grace.refunds@example.com", "Returned item received, inspection pending", ("REF-1",)),
    DemoLogin(
        "AK1000016",
        "grace.refunds@example.com",
        "Inspection passed, refund processing (3-5 business days)",
        ("REF-1", "REF-2", "REF-3"),
    ),
    DemoLogin("AK1000017", "grace.refunds@example.com", "Refund issued to the original card", ("REF-2", "REF-4")),
    DemoLogin(
        "AK1000018",
        "henry.abroad@example.com",
        "Power bank bought in Germany (DE), 6 months ago: warranty only in the country of purchase",
        ("WAR-2",),
    ),
    DemoLogin(
        "AK1000019", "isla.guest@example.com", "Guest checkout, not logged in: no purchase credits", ("CRD-5", "RET-5")
    ),
    *(DemoLogin(*login) for login in SHIPMENT_LOGINS),  # the order status: demo_shipments.py
    *(DemoLogin(*login) for login in CASE_LOGINS),  # coming back to a case: demo_cases.py
)
