"""Cases, audit rows and side effects are written together, once; previews write nothing."""

from decimal import Decimal

from sqlalchemy import select

from policy_engine import Outcome, ReturnRequest, TransitRequest, WarrantyRequest
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.models import (
    CreditLedgerRow,
    DecisionAuditRow,
    OrderRow,
    RefundRow,
    ReturnCaseRow,
    WarrantyClaimRow,
)
from tests.support.store import row_counts


def _login(service, order, email, conv="conv"):
    v = service.verify_customer(conv, order, email)
    assert v.verified
    return v.verified


def _rows(engine, model, **where):
    with unit_of_work(make_session_factory(engine)) as uow:
        rows = list(uow.session.scalars(select(model).filter_by(**where)))
        uow.session.expunge_all()  # keep them readable after the unit of work rolls back
        return rows


def test_approved_return_writes_case_refund_and_audit_once(engine, service):
    _login(service, "AK1000003", "emma.twenty@example.com")
    d = service.open_return("conv", "AK1000003", ReturnRequest(1, 1, "unopened", False))
    assert d.outcome is Outcome.APPROVED and d.case_id.startswith("RET-") and len(d.case_id) == 10
    assert d.values["repeated"] is False
    [case] = _rows(engine, ReturnCaseRow)
    assert case.case_id == d.case_id and case.decision["case_id"] == d.case_id
    [refund] = _rows(engine, RefundRow, return_case_id=case.id)
    assert refund.status == "awaiting_item" and refund.amount == Decimal("79.99") and refund.payment_method == "card"
    [audit] = _rows(engine, DecisionAuditRow)
    assert audit.case_id == d.case_id and audit.policy_version == d.policy_version
    assert audit.inputs["request"]["line_id"] == 1 and audit.decision["reasons"][0]["code"] == "return_eligible"
    assert audit.created_at == service.now()

    again = service.open_return("conv", "AK1000003", ReturnRequest(1, 1, "unopened", False))
    assert again.case_id == d.case_id and again.values["repeated"] is True
    assert again.reason_codes == d.reason_codes
    assert len(_rows(engine, ReturnCaseRow)) == 1 and len(_rows(engine, DecisionAuditRow)) == 1


def test_denied_return_is_audited_without_a_case(engine, service):
    _login(service, "AK1000004", "noah.late@example.com")
    d = service.open_return("conv", "AK1000004", ReturnRequest(1, 1))
    assert d.outcome is Outcome.DENIED and "return_window_passed" in d.reason_codes and d.case_id is None
    assert _rows(engine, ReturnCaseRow) == []
    [audit] = _rows(engine, DecisionAuditRow)
    assert audit.case_id is None and audit.outcome == "denied"


def test_review_outcomes_open_a_case(engine, service):
    _login(service, "AK1000005", "bulk.buyer@example.com")
    d = service.open_return("conv", "AK1000005", ReturnRequest(1, 11))
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reason_codes == ("bulk_order",) and d.case_id
    assert _rows(engine, RefundRow, return_case_id=_rows(engine, ReturnCaseRow)[0].id) == []


def test_previews_write_nothing(engine, service):
    _login(service, "AK1000003", "emma.twenty@example.com")
    before = row_counts(engine)
    assert service.preview_return("conv", "AK1000003", ReturnRequest(1, 1)).outcome is Outcome.APPROVED
    assert service.preview_cancellation("conv", "AK1000003").reason_codes == ("already_shipped",)
    service.preview_warranty("conv", "AK1000003", WarrantyRequest(line_id=1, defect="x"))
    service.refund_status("conv", "AK1000003")
    service.credits_balance("conv")
    assert row_counts(engine) == before


def test_cancellation_cancels_reverses_credits_and_is_idempotent(engine, service):
    _login(service, "AK1000001", "olivia.fresh@example.com")
    d = service.cancel_order("conv", "AK1000001")
    assert d.outcome is Outcome.APPROVED and d.case_id.startswith("CAN-")
    assert "CRD-11" in d.clauses and d.values["credits_reversed"] == 59
    [order] = _rows(engine, OrderRow, order_number="AK1000001")
    assert order.status == "cancelled" and order.cancelled_at == service.now()
    assert [r.points for r in _rows(engine, CreditLedgerRow, kind="reversal")] == [-59]
    assert service.credits_balance("conv").values["balance"] == 0
    again = service.cancel_order("conv", "AK1000001")
    assert again.case_id == d.case_id and again.values["repeated"] is True
    assert len(_rows(engine, CreditLedgerRow, kind="reversal")) == 1


def test_denied_cancellation_changes_nothing_but_the_audit(engine, service):
    _login(service, "AK1000002", "sam.shipped@example.com")
    before = row_counts(engine)
    d = service.cancel_order("conv", "AK1000002")
    assert d.reason_codes == ("already_shipped",) and d.case_id is None
    after = row_counts(engine)
    assert after.pop("decision_audit") == before.pop("decision_audit") + 1 and after == before
    assert _rows(engine, OrderRow, order_number="AK1000002")[0].status == "shipped"


def test_one_open_warranty_claim_per_line(engine, service):
    _login(service, "AK1000010", "ava.solix@example.com")
    request = WarrantyRequest(
        line_id=1,
        serial_number=None,
        defect="no AC output",
        cause="quality",
        troubleshooting_done=True,
        evidence_provided=True,
    )
    first = service.open_warranty_claim("conv", "AK1000010", request)
    assert first.outcome is Outcome.APPROVED and first.case_id.startswith("WAR-")
    second = service.open_warranty_claim("conv", "AK1000010", request)
    assert second.case_id == first.case_id and second.values["repeated"] is True
    [claim] = _rows(engine, WarrantyClaimRow, conversation_id="conv")  # the demo has imported claims too
    assert claim.claim_deadline is not None


def test_one_transit_claim_per_order(service):
    _login(service, "AK1000012", "zoe.worryfree@example.com")
    first = service.transit_claim("conv", "AK1000012", TransitRequest("lost"))
    assert first.case_id.startswith("INS-") and "INS-1" in first.clauses
    second = service.transit_claim("conv", "AK1000012", TransitRequest("delayed"))
    assert second.case_id == first.case_id and second.values["repeated"] is True


def test_case_ids_are_unique_across_orders(service):
    ids = set()
    for order, email in [("AK1000003", "emma.twenty@example.com"), ("AK1000013", "lucas.insured@example.com")]:
        _login(service, order, email, conv=order)
        ids.add(service.open_return(order, order, ReturnRequest(1, 1)).case_id)
    assert len(ids) == 2


def test_order_overview_lists_lines_and_serials(service):
    _login(service, "AK1000003", "emma.twenty@example.com")
    overview = service.order_overview("conv", "AK1000003")
    assert [ln.line_id for ln in overview.lines] == [1, 2]
    assert all(len(s) == 16 for ln in overview.lines for s in ln.serial_numbers)
    assert overview.to_dict()["order_number"] == "AK1000003"


def test_no_auth_answers(service):
    assert service.contacts().clauses == ("CON-1",)
    values = service.policy_values()
    assert values["return_window_days"] == "30" and all(isinstance(v, str) for v in values.values())
