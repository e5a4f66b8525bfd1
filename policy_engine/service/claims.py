"""Claims about a product or a parcel: warranty (WAR-1..22, for our orders and for purchases elsewhere) and transit
(INS-1/INS-2/REF-4)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from ..core.decision import Decision
from ..core.errors import InvalidRequest
from ..core.topics import check_warranty_request, require
from ..core.transit import TransitRequest, decide_transit
from ..core.warranty import decide_warranty
from ..core.warranty_request import SERIAL_NUMBER, Purchase, WarrantyRequest
from ..store.mapping import order_fact
from ..store.models import OrderRow, TransitClaimRow, WarrantyClaimRow
from ..store.queries import line_row
from .base import jsonable_request, stored_decision
from .cases import CaseUseCases


class ClaimUseCases(CaseUseCases):
    # ------------------------------------------------------------------------------------------------ warranty

    def preview_warranty(self, conversation_id: str, order_number: str, request: WarrantyRequest) -> Decision:
        check_warranty_request(request)
        return self._read(
            conversation_id,
            order_number,
            # WAR-10: a line with an open claim is decided as of the claim's opening (coming back to a case)
            lambda s, order, now: decide_warranty(
                order_fact(order), self.as_of_opening(s, order, request), self.policy, now
            ),
        )

    def preview_warranty_purchase(self, purchase: Purchase, request: WarrantyRequest) -> Decision:
        """WAR-9/WAR-20: a purchase that is not in the store (a reseller's receipt, an invoice). No order data is
        read, so no verification is needed; nothing is written."""
        check_warranty_request(request)
        require(purchase, Purchase)
        now = self.now()
        bought = purchase.purchased_on
        if isinstance(bought, datetime) and bought.tzinfo is None:
            raise InvalidRequest("purchased_on must be timezone-aware")
        on = bought.astimezone(timezone.utc).date() if isinstance(bought, datetime) else bought
        if not isinstance(on, date) or on > now.date():
            raise InvalidRequest(f"purchase date {on} is in the future")
        return decide_warranty(None, request, self.policy, now, purchase=purchase)

    def open_warranty_claim(self, conversation_id: str, order_number: str, request: WarrantyRequest) -> Decision:
        """WAR-1..22. Covered or for review: a ``WAR-`` claim (one open claim per order line).  An open claim on the
        line that still lacks facts is continued instead (``continue_warranty_claim``, WAR-10 from its opening)."""
        check_warranty_request(request)
        continuing = self.continuable_claim(conversation_id, order_number, request.line_id)
        if continuing is not None:
            return self.continue_warranty_claim(conversation_id, order_number, continuing, request)

        def find_existing(session: Session, order: OrderRow):
            line = line_row(order, request.line_id) if isinstance(request.line_id, int) else None
            if line is None:
                return None
            return stored_decision(session, WarrantyClaimRow, "line_id", line.id, open_only=True)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            serial = (request.serial_number or "").strip().upper()
            deadline = decision.values.get("claim_deadline")
            line = line_row(order, request.line_id) if isinstance(request.line_id, int) else None
            assert line is not None  # find_existing found it
            return dict(
                order_id=order.id,
                line_id=line.id,
                status="open",
                serial_number=serial if SERIAL_NUMBER.match(serial) else None,
                defect=request.defect,
                cause=request.cause,
                outcome=decision.outcome.value,
                claim_deadline=deadline if isinstance(deadline, date) and not isinstance(deadline, datetime) else None,
            )

        return self._write_case(
            conversation_id,
            order_number,
            prefix="WAR",
            model=WarrantyClaimRow,
            inputs={"request": jsonable_request(request), "order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_warranty(order, request, self.policy, now),
            new_row=new_row,
        )

    # ------------------------------------------------------------------------------------------------ transit

    def preview_transit(self, conversation_id: str, order_number: str, request: TransitRequest) -> Decision:
        """INS-1/INS-2/REF-4 before the claim is written (issue 15, item 5): the decision the claim would get; nothing
        is written."""
        require(request, TransitRequest)
        return self._read(
            conversation_id,
            order_number,
            lambda s, order, now: decide_transit(order_fact(order), request, self.policy, now),
        )

    def transit_claim(self, conversation_id: str, order_number: str, request: TransitRequest) -> Decision:
        """INS-1/INS-2/REF-4: one ``INS-`` claim per order."""
        require(request, TransitRequest)

        def find_existing(session: Session, order: OrderRow):
            return stored_decision(session, TransitClaimRow, "order_id", order.id)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            return dict(order_id=order.id, problem=request.problem, outcome=decision.outcome.value)

        return self._write_case(
            conversation_id,
            order_number,
            prefix="INS",
            model=TransitClaimRow,
            inputs={"request": jsonable_request(request), "order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_transit(order, request, self.policy, now),
            new_row=new_row,
        )
