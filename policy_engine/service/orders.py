"""The customer's requests about an order: returns (RET-1..12), cancellation (CAN-1..3), refund status (REF-1..4),
order status (CAN-3, INS-1, CON-1), AnkerCredits balance (CRD-6/CRD-7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..core.cancellation import decide_cancellation
from ..core.credits import credits_summary
from ..core.decision import Decision, Outcome
from ..core.facts import OrderStatus
from ..core.order_status import decide_order_status
from ..core.refunds import AWAITING_ITEM, decide_refund_status
from ..core.returns import ReturnRequest, decide_return
from ..core.topics import require
from ..store.mapping import order_fact, refund_fact
from ..store.models import CancellationRow, OrderRow, RefundRow, ReturnCaseRow
from ..store.queries import customer_ledger, line_row, refunds_for_order, shipments_for_order
from .base import NewCase, ServiceBase, insert_into, jsonable_request, stored_decision, with_values


class OrderUseCases(ServiceBase):
    # ------------------------------------------------------------------------------------------------ returns

    def preview_return(self, conversation_id: str, order_number: str, request: ReturnRequest) -> Decision:
        require(request, ReturnRequest)
        return self._read(
            conversation_id,
            order_number,
            lambda s, order, now: decide_return(order_fact(order), request, self.policy, now),
        )

    def open_return(self, conversation_id: str, order_number: str, request: ReturnRequest) -> Decision:
        """RET-1..12. Approved or for review: a ``RET-`` case; approved: a refund record awaiting the item (RET-6)."""
        require(request, ReturnRequest)

        def find_existing(session: Session, order: OrderRow):
            line = line_row(order, request.line_id) if isinstance(request.line_id, int) else None
            if line is None:
                return None  # the decision raises InvalidRequest for an unknown line
            return stored_decision(session, ReturnCaseRow, "line_id", line.id, open_only=True)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            line = line_row(order, request.line_id)
            assert line is not None  # find_existing found it
            return dict(
                order_id=order.id,
                line_id=line.id,
                status="open",
                quantity=request.quantity,
                condition=request.condition,
                quality_issue=request.quality_issue,
                outcome=decision.outcome.value,
            )

        def after_insert(
            session: Session, order: OrderRow, case: NewCase, decision: Decision, now: datetime
        ) -> Decision:
            if decision.outcome is Outcome.APPROVED:  # RET-6 / REF-1: the refund waits for the item
                session.execute(
                    insert_into(RefundRow.__table__),
                    dict(
                        order_id=order.id,
                        return_case_id=case.id,
                        amount=decision.values["refund_amount"],
                        payment_method=order.payment_method,
                        status=AWAITING_ITEM,
                        created_at=now,
                    ),
                )
            return decision

        return self._write_case(
            conversation_id,
            order_number,
            prefix="RET",
            model=ReturnCaseRow,
            inputs={"request": jsonable_request(request), "order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_return(order, request, self.policy, now),
            new_row=new_row,
            after_insert=after_insert,
        )

    # ------------------------------------------------------------------------------------------------ cancellation

    def preview_cancellation(self, conversation_id: str, order_number: str) -> Decision:
        return self._read(
            conversation_id,
            order_number,
            lambda s, order, now: decide_cancellation(order_fact(order), self.policy, now),
        )

    def cancel_order(self, conversation_id: str, order_number: str) -> Decision:
        """CAN-1..3. Approved: a ``CAN-`` case, the order set to cancelled and its credits reversed (CRD-11), in one
        transaction."""

        def find_existing(session: Session, order: OrderRow):
            return stored_decision(session, CancellationRow, "order_id", order.id)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            return dict(order_id=order.id, outcome=decision.outcome.value, reversed_points=0)

        def after_insert(
            session: Session, order: OrderRow, case: NewCase, decision: Decision, now: datetime
        ) -> Decision:
            if decision.outcome is not Outcome.APPROVED:
                return decision
            order.status = OrderStatus.CANCELLED.value
            order.cancelled_at = now
            points, reasons = self._reverse_credits(session, order, now, cause="cancellation", note=case.case_id)
            if points:
                case.extra["reversed_points"] = points
                decision = replace(decision, reasons=(*decision.reasons, *reasons))
            return with_values(decision, credits_reversed=points)

        return self._write_case(
            conversation_id,
            order_number,
            prefix="CAN",
            model=CancellationRow,
            inputs={"order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_cancellation(order, self.policy, now),
            new_row=new_row,
            after_insert=after_insert,
        )

    # ------------------------------------------------------------------------------------------------ refunds

    def refund_status(self, conversation_id: str, order_number: str) -> Decision:
        """REF-1..4: the stage of the order's most recent refund."""

        def decide(session: Session, order: OrderRow, now: datetime) -> Decision:
            refunds = refunds_for_order(session, order.id)
            latest = max(refunds, key=lambda r: (r.created_at, r.id)) if refunds else None
            record = refund_fact(latest, order.order_number) if latest is not None else None
            return decide_refund_status(order_fact(order), record, self.policy, now)

        return self._read(conversation_id, order_number, decide)

    # ------------------------------------------------------------------------------------------------ order status

    def order_status(self, conversation_id: str, order_number: str) -> Decision:
        """Where the order is (CAN-1, CAN-3, INS-1, CON-1): its status, dates and parcels with carrier, tracking number
        and link; a late parcel's next step (the transit claim with Worry-Free insurance, else the contacts).  A read
        like ``refund_status``: behind the verification grant (RET-4), nothing written."""

        def decide(session: Session, order: OrderRow, now: datetime) -> Decision:
            facts = order_fact(order, shipments_for_order(session, order.id))
            return decide_order_status(facts, self.policy, now)

        return self._read(conversation_id, order_number, decide)

    # ------------------------------------------------------------------------------------------------ credits

    def credits_balance(self, conversation_id: str, order_number: str | None = None) -> Decision:
        """CRD-6/CRD-7: the balance of the verified order's customer (``order_number``'s, else the conversation's
        latest verified order's)."""

        def decide(session: Session, order: OrderRow, now: datetime) -> Decision:
            return credits_summary(customer_ledger(session, order.customer_id), self.policy, now)

        return self._read(conversation_id, order_number, decide, any_order=order_number is None)
