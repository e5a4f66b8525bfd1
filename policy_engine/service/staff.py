"""The warehouse's and the support desk's operations (no conversation verification): record an inspection result
(RET-6/REF-1) and issue a refund (REF-1/REF-2, CRD-11 on the credits, REF-4 never twice)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.credits import qualifying_amount
from ..core.decision import Decision
from ..core.errors import InvalidRequest
from ..core.formats import normalise_order_number
from ..core.refunds import (
    check_inspection,
    decide_refund_status,
    inspection_changes,
    inspection_record,
    issue_changes,
    issue_record,
    refunded_so_far,
)
from ..store.db import unit_of_work
from ..store.mapping import order_fact, refund_fact
from ..store.models import CreditLedgerRow, OrderRow, RefundRow, ReturnCaseRow
from ..store.queries import line_row, order_by_number
from .base import ServiceBase, with_values

#: ``decision_audit.conversation_id`` of the staff operations (warehouse / support desk, no conversation)
STAFF_CONVERSATION = "staff"


def _staff_order_number(raw: Any) -> str:
    number = normalise_order_number(raw)
    if number is None:
        raise InvalidRequest(f"order_number must be AK followed by 7 digits, got {raw!r}")
    return number


def _optional_line_id(line_id: Any) -> int | None:
    if line_id is None:
        return None
    if isinstance(line_id, bool) or not isinstance(line_id, int) or not 1 <= line_id <= 10_000:
        raise InvalidRequest(f"line_id must be a positive integer, got {line_id!r}")
    return line_id


def _staff_order(session: Session, number: str) -> OrderRow:
    order = order_by_number(session, number)
    if order is None:
        raise InvalidRequest(f"order {number} is not in the database")
    return order


def _order_refunds(session: Session, order: OrderRow, line_id: int | None) -> list[RefundRow]:
    """The order's refund records, oldest first, locked for this transaction (PostgreSQL ``FOR UPDATE``; SQLite's
    write transaction already excludes other writers), so two staff calls cannot both advance the same record."""
    stmt = select(RefundRow).where(RefundRow.order_id == order.id).order_by(RefundRow.id).with_for_update()
    refunds = list(session.scalars(stmt))
    if line_id is None:
        return refunds
    line = line_row(order, line_id)
    if line is None:
        raise InvalidRequest(f"order {order.order_number} has no line {line_id}")
    cases = set(session.scalars(select(ReturnCaseRow.id).where(ReturnCaseRow.line_id == line.id)))
    return [r for r in refunds if r.return_case_id in cases]


def _refund_note(refund: RefundRow) -> str:
    return f"refund {refund.id}"


def _reversed_for(session: Session, order: OrderRow, refund: RefundRow) -> int:
    rows = session.scalars(
        select(CreditLedgerRow.points).where(
            CreditLedgerRow.order_id == order.id,
            CreditLedgerRow.kind == "reversal",
            CreditLedgerRow.note == _refund_note(refund),
        )
    )
    return -sum(rows)


class StaffUseCases(ServiceBase):
    def record_inspection(
        self,
        order_number: str,
        passed: bool,
        finding: str | None = None,
        *,
        line_id: int | None = None,
        agent: str | None = None,
    ) -> Decision:
        """RET-6/REF-1: the warehouse inspected the returned item.

        Advances the order's refund record that awaits inspection (an inspection implies the item arrived, so
        ``item_received_at`` is set too when missing) to ``inspected`` (passed) or ``rejected`` (failed, with the
        ``finding`` the refund status cites: RET-8 altered label / incorrect item / empty package, RET-9 transit
        damage at the buyer's risk, RET-12 personal item).  Answers the refund status decision with
        ``values["repeated"]``; the same inspection again changes nothing (``repeated=True``), a different one is
        refused.  ``line_id`` picks the refund when several of the order's returns await inspection.  ``agent``: the
        signed-in agent's name (the agent inbox), kept in the audit row's inputs."""
        check_inspection(passed, finding)
        number = _staff_order_number(order_number)
        line_id = _optional_line_id(line_id)
        inputs = {
            "operation": "record_inspection",
            "order_number": number,
            "passed": passed,
            "finding": finding,
            "line_id": line_id,
        }
        if agent is not None:
            inputs["agent"] = agent
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            order = _staff_order(session, number)
            refunds = _order_refunds(session, order, line_id)
            refund, repeated = inspection_record(refunds, passed, finding, number)
            if repeated:
                return with_values(self._refund_status(order, refund, now), repeated=True)
            for column, value in inspection_changes(refund, passed, finding, now).items():
                setattr(refund, column, value)
            decision = with_values(self._refund_status(order, refund, now), repeated=False, refund_id=refund.id)
            self._audit(
                session, decision, conversation_id=STAFF_CONVERSATION, order_number=number, inputs=inputs, now=now
            )
            uow.commit()
            return decision

    def issue_refund(self, order_number: str, *, line_id: int | None = None, agent: str | None = None) -> Decision:
        """REF-1/REF-2: the refund of a return that passed inspection was paid to the original payment method.

        In one transaction: the refund record becomes ``issued``, the credits earned by the returned lines are
        reversed (CRD-11: the refunded amount's credits; everything the order earned and still holds once the whole
        order is refunded; capped at the balance, the rest reported as ``shortfall``), and the audit row is written.
        REF-4: a refund is never issued twice: repeating the call answers the issued refund with
        ``values["repeated"] = True`` and reverses nothing more.  Refused (``InvalidRequest``, nothing changes)
        before the item arrived and passed inspection (REF-1), or after a failed inspection."""
        number = _staff_order_number(order_number)
        line_id = _optional_line_id(line_id)
        inputs: dict[str, Any] = {"operation": "issue_refund", "order_number": number, "line_id": line_id}
        if agent is not None:  # the signed-in agent's name (the agent inbox)
            inputs["agent"] = agent
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            order = _staff_order(session, number)
            refunds = _order_refunds(session, order, line_id)
            refund, repeated = issue_record(refunds, number)
            if repeated:  # REF-4: answered from the record, nothing is paid or reversed again
                return with_values(
                    self._refund_status(order, refund, now),
                    repeated=True,
                    credits_reversed=_reversed_for(session, order, refund),
                )
            for column, value in issue_changes(now).items():
                setattr(refund, column, value)
            decision = self._refund_status(order, refund, now)
            whole_order = refunded_so_far(refunds) >= qualifying_amount(order_fact(order))
            points, reasons = self._reverse_credits(
                session,
                order,
                now,
                cause="return",
                note=_refund_note(refund),
                refunded_amount=None if whole_order else refund.amount,
            )
            decision = replace(decision, reasons=(*decision.reasons, *reasons))
            decision = with_values(decision, repeated=False, refund_id=refund.id, credits_reversed=points)
            self._audit(
                session, decision, conversation_id=STAFF_CONVERSATION, order_number=number, inputs=inputs, now=now
            )
            uow.commit()
            return decision

    def _refund_status(self, order: OrderRow, refund: RefundRow, now: datetime) -> Decision:
        return decide_refund_status(order_fact(order), refund_fact(refund, order.order_number), self.policy, now)
