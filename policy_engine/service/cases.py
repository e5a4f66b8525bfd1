"""Coming back to a case (issue 15, item 4): a verified customer finds the order's cases by order number or by case
number, and continues an open warranty claim, decided as of the day it was opened (WAR-10).

A case number alone never reveals anything: every call needs this conversation's verification grant for the order
(RET-4, ``NotVerified`` otherwise), and a case is looked up among that order's cases only, so another order's case
answers ``case_not_found`` exactly like a number that does not exist.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from ..core.cases import decide_case_status, normalise_case_number
from ..core.decision import Decision, Outcome
from ..core.topics import check_warranty_request
from ..core.warranty import decide_warranty
from ..core.warranty_request import SERIAL_NUMBER, WarrantyRequest
from ..store.case_queries import open_warranty_claim_row, order_cases, warranty_claim_row
from ..store.db import unit_of_work
from ..store.identity import authorise
from ..store.mapping import decision_from_dict, order_fact
from ..store.models import OrderRow
from .base import ServiceBase, jsonable_request, with_values


class CaseUseCases(ServiceBase):
    def case_status(self, conversation_id: str, order_number: str, case_number: str | None = None) -> Decision:
        """Where the verified order's case stands (``core/cases.py``): the case numbered ``case_number`` (or
        ``case_not_found``), else the order's one open case or the list of its case numbers.  Nothing is written."""

        def decide(session: Session, order: OrderRow, now: datetime) -> Decision:
            cases = order_cases(session, order)
            return decide_case_status(order_fact(order), cases, self.policy, now, case_number=case_number)

        return self._read(conversation_id, order_number, decide)

    def as_of_opening(self, session: Session, order: OrderRow, request: WarrantyRequest) -> WarrantyRequest:
        """WAR-10: a request about a line with an open claim is decided as of the day that claim was opened."""
        if request.claim_opened_at is not None or not isinstance(request.line_id, int):
            return request
        row = open_warranty_claim_row(session, order, request.line_id)
        return request if row is None else replace(request, claim_opened_at=row.created_at)

    def continuable_claim(self, conversation_id: str, order_number: str, line_id: int | None) -> str | None:
        """The case number of the open claim on ``line_id`` that still lacks facts (``needs_information``), if any."""

        def find(session: Session, order: OrderRow, now: datetime) -> str | None:
            row = open_warranty_claim_row(session, order, line_id)
            return row.case_id if row is not None and row.outcome == Outcome.NEEDS_INFORMATION.value else None

        return self._read(conversation_id, order_number, find)  # type: ignore[arg-type,return-value]

    def continue_warranty_claim(
        self, conversation_id: str, order_number: str, case_number: str, request: WarrantyRequest
    ) -> Decision:
        """Complete the open claim ``case_number`` with the facts it lacked (``request``; its line is the claim's),
        decided as of the day the claim was opened (WAR-10: deadline = the later of the warranty's end and the opening
        + 90 days); past that deadline the claim is refused citing WAR-10 and closed.  The claim keeps its case
        number; its decision, outcome and deadline are replaced and an audit row is written, in one transaction.
        Another order's case, an unknown or closed one: the case status answer (``case_not_found`` / ``case_closed``),
        nothing written."""
        check_warranty_request(request)
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            order = authorise(session, conversation_id, order_number, now)
            wanted = normalise_case_number(case_number)
            row = warranty_claim_row(session, order, wanted, for_update=True) if wanted else None
            if row is None or row.case_id is None or row.status != "open":
                cases = order_cases(session, order)
                return decide_case_status(order_fact(order), cases, self.policy, now, case_number=str(case_number))
            if row.outcome != Outcome.NEEDS_INFORMATION.value and row.decision:  # completed meanwhile: as written
                return with_values(decision_from_dict(row.decision), repeated=True)
            line_no = next(line.line_no for line in order.lines if line.id == row.line_id)
            facts = replace(request, line_id=line_no, claim_opened_at=row.created_at)
            decision = decide_warranty(order_fact(order), facts, self.policy, now).with_case(row.case_id)
            decision = with_values(decision, continued=True, repeated=False)
            stored = decision.to_dict()
            deadline = decision.values.get("claim_deadline")
            serial = (facts.serial_number or "").strip().upper()
            row.outcome = decision.outcome.value
            row.decision = stored
            row.claim_deadline = deadline if isinstance(deadline, date) and not isinstance(deadline, datetime) else None
            row.serial_number = serial if SERIAL_NUMBER.match(serial) else row.serial_number
            row.defect = facts.defect or row.defect
            row.cause = facts.cause or row.cause
            if decision.outcome is Outcome.DENIED:
                row.status = "closed"
            self._audit(
                session,
                decision,
                conversation_id=conversation_id,
                order_number=order.order_number,
                inputs={"request": jsonable_request(facts), "order_number": order.order_number, "case_id": row.case_id},
                now=now,
                stored=stored,
            )
            uow.commit()
            return decision
