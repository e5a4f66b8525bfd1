"""An order's existing cases as ``CaseRecord`` facts (coming back to a case, issue 15 item 4).

Every read is by the order's key: a case is only ever looked up among the cases of an order this conversation has
verified (RET-4), so a case number of another order finds nothing, exactly like a number that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.cases import CaseRecord
from .models import CancellationRow, OrderRow, ReturnCaseRow, TransitClaimRow, WarrantyClaimRow

#: kind -> (table, has a status column, has a line)
_TABLES: tuple[tuple[str, Any, bool, bool], ...] = (
    ("warranty", WarrantyClaimRow, True, True),
    ("return", ReturnCaseRow, True, True),
    ("transit", TransitClaimRow, False, False),
    ("cancellation", CancellationRow, False, False),
)


def _missing(row: Any) -> tuple[str, ...]:
    stored = row.decision if isinstance(row.decision, dict) else {}
    return tuple(str(m) for m in stored.get("missing") or ())


def order_cases(session: Session, order: OrderRow) -> list[CaseRecord]:
    """The order's cases (every kind), oldest first; cases without a case number (a failed write) are skipped."""
    line_nos = {line.id: line.line_no for line in order.lines}
    records: list[CaseRecord] = []
    for kind, model, has_status, has_line in _TABLES:
        rows = session.scalars(select(model).where(model.order_id == order.id, model.case_id.is_not(None)))
        for row in rows:
            facts: dict[str, Any] = {}
            if kind == "warranty":
                facts = {"serial_number": row.serial_number, "defect": row.defect, "cause": row.cause}
            records.append(
                CaseRecord(
                    case_id=row.case_id,
                    kind=kind,
                    status=row.status if has_status else "open",
                    opened_at=row.created_at,
                    outcome=row.outcome,
                    line_id=line_nos.get(row.line_id) if has_line else None,
                    missing=_missing(row),
                    facts={k: v for k, v in facts.items() if v},
                )
            )
    return sorted(records, key=lambda r: (r.opened_at, r.case_id))


def open_warranty_claim_row(session: Session, order: OrderRow, line_no: int | None) -> WarrantyClaimRow | None:
    """The open ``WAR-`` claim on the order's line ``line_no`` (there is at most one: ``uq_warranty_open_line``)."""
    line_id = next((line.id for line in order.lines if line.line_no == line_no), None)
    if line_id is None:
        return None
    stmt = select(WarrantyClaimRow).where(
        WarrantyClaimRow.order_id == order.id, WarrantyClaimRow.line_id == line_id, WarrantyClaimRow.status == "open"
    )
    return session.scalars(stmt).first()


def warranty_claim_row(
    session: Session, order: OrderRow, case_id: str, *, for_update: bool = False
) -> WarrantyClaimRow | None:
    """The order's ``WAR-`` claim numbered ``case_id``; None for another order's claim, as for an unknown number.
    ``for_update``: locked until the unit of work ends (PostgreSQL; SQLite's write transactions are serial anyway),
    so two concurrent continuations of one claim are decided one after the other."""
    stmt = select(WarrantyClaimRow).where(WarrantyClaimRow.order_id == order.id, WarrantyClaimRow.case_id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()
