"""Demo orders for the order status ("where is my order?"): one per state, with their parcels (docs/demo-data.md).

``demo.py`` adds them to its document and its logins.  Expected delivery dates are calendar dates a few days from
``now`` (UTC), far enough from the boundary that the policy timezone never changes the answer: the late parcels are
3 and 4 days past their latest expected date (late from the next day, ``shipping.late_after_days``), the ones on time
are due in 1 to 3 days.  Tracking numbers are made up in each carrier's format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

# order number, purchase email, story, clauses: demo.py makes them DemoLogin rows
SHIPMENT_LOGINS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "AK1000031",
        "mason.packing@example.com",
        "Order status: placed yesterday, being prepared, not shipped (past the cancel hour)",
        ("CAN-3",),
    ),
    (
        "AK1000032",
        "chloe.ontheway@example.com",
        "Order status: shipped 2 days ago with UPS, in transit, expected in 1 to 3 days",
        ("CAN-3",),
    ),
    (
        "AK1000033",
        "owen.delayed@example.com",
        "Order status: Worry-Free insurance, FedEx parcel 4 days past its expected delivery: on to the transit claim",
        ("INS-1",),
    ),
    (
        "AK1000034",
        "ruby.waiting@example.com",
        "Order status: no Worry-Free insurance, USPS parcel 3 days past its expected delivery: the contacts",
        ("INS-1", "CON-1"),
    ),
    (
        "AK1000035",
        "leo.delivered@example.com",
        "Order status: delivered 2 days ago by DHL, with its tracking link",
        ("CAN-3",),
    ),
    (
        "AK1000036",
        "nora.twoparcels@example.com",
        "Order status: two parcels, the UPS one delivered yesterday, the FedEx one on its way (due in 2 days)",
        ("CAN-3",),
    ),
)

SHIPMENT_CUSTOMERS: tuple[dict[str, Any], ...] = (
    {"email": "mason.packing@example.com", "name": "Mason Reed"},
    {"email": "chloe.ontheway@example.com", "name": "Chloe Dubois"},
    {"email": "owen.delayed@example.com", "name": "Owen Price"},
    {"email": "ruby.waiting@example.com", "name": "Ruby Sato"},
    {"email": "leo.delivered@example.com", "name": "Leo Marsh"},
    {"email": "nora.twoparcels@example.com", "name": "Nora Quinn"},
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def shipment_orders(now: datetime, order: Callable[..., dict[str, Any]], line: Callable[..., dict[str, Any]]) -> list:
    """The orders of ``SHIPMENT_LOGINS``, built with demo.py's ``order`` and ``line`` helpers."""
    ago = lambda **kw: _iso(now - timedelta(**kw))  # noqa: E731
    day = lambda days: (now + timedelta(days=days)).astimezone(timezone.utc).date().isoformat()  # noqa: E731

    def parcel(carrier: str, number: str, shipped: float, lines: list, expected: Any, **extra: Any) -> dict[str, Any]:
        return {
            "carrier": carrier,
            "tracking_number": number,
            "shipped_at": ago(days=shipped),
            "expected_delivery": expected,
            "lines": lines,
            **extra,
        }

    return [
        order("AK1000031", "mason.packing@example.com", 1, "processing", [line(1, "A2343")]),
        order(
            "AK1000032",
            "chloe.ontheway@example.com",
            3,
            "shipped",
            [line(1, "A1340")],
            shipped_at=ago(days=2),
            shipments=[
                parcel("ups", "1Z999AA10123456784", 2, [{"line_id": 1}], {"earliest": day(1), "latest": day(3)})
            ],
        ),
        order(
            "AK1000033",
            "owen.delayed@example.com",
            10,
            "shipped",
            [line(1, "A1761")],
            worry_free_insurance=True,
            shipped_at=ago(days=9),
            shipments=[parcel("fedex", "449044304137821", 9, [{"line_id": 1}], day(-4))],
        ),
        order(
            "AK1000034",
            "ruby.waiting@example.com",
            9,
            "shipped",
            [line(1, "A83A6")],
            shipped_at=ago(days=8),
            shipments=[parcel("usps", "9400111899223197428490", 8, [{"line_id": 1}], day(-3))],
        ),
        order(
            "AK1000035",
            "leo.delivered@example.com",
            6,
            "delivered",
            [line(1, "A2147")],
            shipped_at=ago(days=5),
            delivered_at=ago(days=2),
            shipments=[
                parcel("dhl", "1234567890", 5, [{"line_id": 1}], day(-2), delivered_at=ago(days=2)),
            ],
        ),
        order(
            "AK1000036",
            "nora.twoparcels@example.com",
            5,
            "shipped",
            [line(1, "Y1811"), line(2, "A8856", 2, serials=False)],
            shipped_at=ago(days=4),
            shipments=[
                parcel("ups", "1Z999AA10123456791", 4, [{"line_id": 1}], day(-1), delivered_at=ago(days=1)),
                parcel("fedex", "449044304137838", 2, [{"line_id": 2, "quantity": 2}], day(2)),
            ],
        ),
    ]
