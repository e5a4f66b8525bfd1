"""Existing cases in the import (``orders[].cases[]``; issue 15, item 4): a warranty claim, a return or a transit
claim opened before the store was loaded, with the day it was opened (WAR-10's claim deadline runs from it), its status
and outcome.  Case numbers are the store's own (``case_id_for``): the file never chooses them, so they cannot collide
with the cases the bot writes.  ``case_problems`` checks, ``write_cases`` writes (after the orders are flushed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core.decision import to_jsonable
from .import_values import parse_timestamp
from .models import CASE_TABLES, OrderRow, case_id_for

#: the topic of the stored decision and the default outcome per case type
_DEFAULT_OUTCOME = {"warranty": "needs_information", "return": "approved", "transit": "approved"}
_NEEDS_LINE = ("warranty", "return")


def case_problems(order: dict[str, Any], where: str, placed: datetime | None, now: datetime) -> list[str]:
    """What is wrong with an order's ``cases`` (the schema already checked each field's shape)."""
    errors: list[str] = []
    line_ids = {line["line_id"] for line in order["lines"]}
    open_lines: set[tuple[str, int]] = set()
    transit = 0
    for i, case in enumerate(order.get("cases", [])):
        cw = f"{where}.cases[{i}]"
        try:
            opened = parse_timestamp(case["opened_at"])
        except ValueError as exc:
            errors.append(f"{cw}.opened_at: not a valid time ({exc})")
            opened = None
        if opened is not None and opened > now:
            errors.append(f"{cw}.opened_at: is in the future")
        if opened is not None and placed is not None and opened < placed:
            errors.append(f"{cw}.opened_at: is before the order's placed_at")
        kind = case["type"]
        line = case.get("line_id")
        if kind in _NEEDS_LINE and line is None:
            errors.append(f"{cw}.line_id: is required for a {kind} case")
        elif line is not None and line not in line_ids:
            errors.append(f"{cw}.line_id: the order has no line {line}")
        if kind == "warranty" and not case.get("defect"):
            errors.append(f"{cw}.defect: is required for a warranty claim")
        if kind == "transit":
            transit += 1
            if not case.get("problem"):
                errors.append(f"{cw}.problem: is required for a transit claim")
        if kind in _NEEDS_LINE and line is not None and case.get("status", "open") == "open":
            if (kind, line) in open_lines:
                errors.append(f"{cw}: line {line} already has an open {kind} case")
            open_lines.add((kind, line))
    if transit > 1:
        errors.append(f"{where}.cases: at most one transit claim per order (INS-2)")
    return errors


def write_cases(session, order: dict[str, Any], row: OrderRow, policy_version: str = "imported") -> list[str]:
    """Insert the order's cases (``row`` flushed, its lines loaded); returns their case numbers."""
    lines = {line.line_no: line.id for line in row.lines}
    written: list[str] = []
    for case in order.get("cases", []):
        kind = case["type"]
        model, prefix = CASE_TABLES[kind]
        table: Any = model.__table__
        opened = parse_timestamp(case["opened_at"])
        outcome = case.get("outcome", _DEFAULT_OUTCOME[kind])
        values: dict[str, Any] = dict(
            order_id=row.id, outcome=outcome, decision={}, conversation_id="import", created_at=opened
        )
        if kind in _NEEDS_LINE:
            values.update(line_id=lines[case["line_id"]], status=case.get("status", "open"))
        if kind == "warranty":
            values.update(
                serial_number=case.get("serial_number"),
                defect=case["defect"],
                cause=case.get("cause"),
                claim_deadline=None,  # WAR-10: computed from the opening and the policy when the claim is read
            )
        elif kind == "return":
            values.update(quantity=case.get("quantity", 1), condition=case.get("condition", "undamaged"))
        else:
            values.update(problem=case["problem"])
        result = session.execute(table.insert(), values)
        case_id = case_id_for(prefix, result.inserted_primary_key[0])
        stored = {
            "topic": kind,
            "outcome": outcome,
            "reasons": [],
            "clauses": [],
            "missing": list(case.get("missing", [])),
            "next_steps": [],
            "values": to_jsonable({"imported": True, "opened_at": opened}),
            "case_id": case_id,
            "policy_version": policy_version,
        }
        session.execute(
            table.update().where(table.c.id == result.inserted_primary_key[0]),
            {"case_id": case_id, "decision": stored},
        )
        written.append(case_id)
    return written
