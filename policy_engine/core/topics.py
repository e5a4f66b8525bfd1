"""One entry for every topic's pure decision, and the checks of the request facts the customer typed.

``decide_topic`` is what the service, the command line (``python -m policy_engine decide``) and the bench call on
facts already loaded; it never reads the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .cancellation import decide_cancellation
from .credits import credits_summary
from .decision import Decision
from .errors import InvalidRequest
from .facts import LedgerEntry, Order, RefundRecord
from .formats import SHORT_TEXT_MAX_CHARS, TEXT_MAX_CHARS
from .order_status import decide_order_status
from .policy import Policy
from .refunds import decide_refund_status
from .returns import ReturnRequest, decide_return
from .transit import TransitRequest, decide_transit
from .warranty import decide_warranty
from .warranty_request import WarrantyRequest

TOPICS = ("return", "cancellation", "refund", "warranty", "transit", "credits", "order_status")


def require(request: object, kind: type) -> None:
    """``InvalidRequest`` unless ``request`` is a ``kind`` (the service is called with typed requests only)."""
    if not isinstance(request, kind):
        raise InvalidRequest(f"request must be a {kind.__name__}, got {type(request).__name__}")


def check_text(name: str, value: object, limit: int, *, optional: bool = True) -> None:
    """Free text the customer typed: text, at most ``limit`` characters (formats.py), or None when ``optional``."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidRequest(f"{name} is too long ({len(value)} characters, at most {limit})")


def check_warranty_request(request: object) -> None:
    require(request, WarrantyRequest)
    assert isinstance(request, WarrantyRequest)
    check_text("defect", request.defect, TEXT_MAX_CHARS, optional=False)
    check_text("serial_number", request.serial_number, SHORT_TEXT_MAX_CHARS)
    check_text("country_now", request.country_now, SHORT_TEXT_MAX_CHARS)
    for name in ("evidence_provided", "shipped_internationally"):
        if not isinstance(getattr(request, name), bool):
            raise InvalidRequest(f"{name} must be true or false")


def decide_topic(
    topic: str,
    order: Order,
    request: Any,
    policy: Policy,
    now: datetime,
    *,
    refund: RefundRecord | None = None,
    ledger: Iterable[LedgerEntry] = (),
) -> Decision:
    """The pure decision for ``topic`` on facts already loaded."""
    if topic == "return":
        require(request, ReturnRequest)
        return decide_return(order, request, policy, now)
    if topic == "cancellation":
        return decide_cancellation(order, policy, now)
    if topic == "refund":
        return decide_refund_status(order, refund, policy, now)
    if topic == "warranty":
        check_warranty_request(request)
        return decide_warranty(order, request, policy, now)
    if topic == "transit":
        require(request, TransitRequest)
        return decide_transit(order, request, policy, now)
    if topic == "credits":
        return credits_summary(tuple(ledger), policy, now)
    if topic == "order_status":
        return decide_order_status(order, policy, now)
    raise InvalidRequest(f"unknown topic {topic!r}")
