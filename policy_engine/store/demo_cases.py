"""Demo orders for coming back to a case (issue 15, item 4; docs/demo-data.md): warranty claims opened earlier, carried
by the import format's ``orders[].cases[]``.

* ``AK1000040``: a power bank (18 months of warranty) bought 560 days ago; the claim was opened 40 days ago, while it
  was under warranty, and still lacks the troubleshooting outcome and a serial number or photo.  The warranty ended
  about 12 days ago, but WAR-10 counts from the opening: the claim can be completed until 50 days from now (answering
  WAR-14 would be wrong).
* ``AK1000041``: a charger bought 700 days ago; the claim was opened 200 days ago (under warranty) and never finished.
  Its WAR-10 deadline (the later of the warranty's end, about 152 days ago, and opening + 90 days, 110 days ago) has
  passed: refused citing WAR-10.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

# order number, purchase email, story, clauses: demo.py makes them DemoLogin rows
CASE_LOGINS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "AK1000040",
        "mia.comeback@example.com",
        "Coming back to a case: warranty claim opened 40 days ago while under warranty (ended 12 days ago), details "
        "missing; WAR-10 counts from the opening: it can be finished",
        ("WAR-10",),
    ),
    (
        "AK1000041",
        "jack.toolate@example.com",
        "Coming back to a case: warranty claim opened 200 days ago and never finished, past its WAR-10 deadline",
        ("WAR-10",),
    ),
)

CASE_CUSTOMERS: tuple[dict[str, Any], ...] = (
    {"email": "mia.comeback@example.com", "name": "Mia Okafor"},
    {"email": "jack.toolate@example.com", "name": "Jack Hollis"},
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def case_orders(now: datetime, order: Callable[..., dict[str, Any]], line: Callable[..., dict[str, Any]]) -> list:
    """The orders of ``CASE_LOGINS`` with their open warranty claims, built with demo.py's helpers."""
    ago = lambda days: _iso(now - timedelta(days=days))  # noqa: E731
    return [
        order(
            "AK1000040",
            "mia.comeback@example.com",
            560,
            "delivered",
            [line(1, "A1289")],
            cases=[
                {
                    "type": "warranty",
                    "opened_at": ago(40),
                    "line_id": 1,
                    "outcome": "needs_information",
                    "missing": ["troubleshooting_outcome", "serial_number_or_evidence"],
                    "defect": "It stopped charging my phone and the display stays dark",
                    "cause": "quality",
                }
            ],
        ),
        order(
            "AK1000041",
            "jack.toolate@example.com",
            700,
            "delivered",
            [line(1, "A2147")],
            cases=[
                {
                    "type": "warranty",
                    "opened_at": ago(200),
                    "line_id": 1,
                    "outcome": "needs_information",
                    "missing": ["troubleshooting_outcome"],
                    "defect": "One of the USB-C ports stopped working",
                    "cause": "quality",
                }
            ],
        ),
    ]
