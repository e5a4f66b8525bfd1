"""Concurrent duplicate requests produce exactly one case (real threads, SQLite file and PostgreSQL)."""
import threading
from decimal import Decimal

from sqlalchemy import func, select

from policy_engine import ReturnRequest, TransitRequest, WarrantyRequest
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.models import (
    CancellationRow,
    CreditLedgerRow,
    DecisionAuditRow,
    OrderRow,
    RefundRow,
    ReturnCaseRow,
    TransitClaimRow,
    WarrantyClaimRow,
)

THREADS = 8


def _race(call, n=THREADS):
    """Run ``call`` in ``n`` threads released at the same moment; return results and errors."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def _count(engine, model, **where):
    with unit_of_work(make_session_factory(engine)) as uow:
        stmt = select(func.count()).select_from(model).filter_by(**where)
        return uow.session.execute(stmt).scalar_one()


def test_concurrent_returns_create_one_case_and_one_refund(engine, service):
    token = service.verify_customer("conv-race", "AK1000003", "emma.twenty@example.com").token
    results, errors = _race(lambda: service.open_return("conv-race", token, "AK1000003", ReturnRequest(1, 1)))
    assert errors == []
    assert len({d.case_id for d in results}) == 1
    assert sorted(d.values["repeated"] for d in results) == [False] + [True] * (THREADS - 1)
    assert _count(engine, ReturnCaseRow) == 1
    assert _count(engine, RefundRow, status="awaiting_item") == 2  # the demo's AK1000014 + this one
    assert _count(engine, DecisionAuditRow, topic="return") == 1


def test_concurrent_cancellations_cancel_once_and_reverse_credits_once(engine, service):
    token = service.verify_customer("conv-c", "AK1000001", "olivia.fresh@example.com").token
    results, errors = _race(lambda: service.cancel_order("conv-c", token, "AK1000001"))
    assert errors == []
    assert len({d.case_id for d in results}) == 1 and results[0].case_id.startswith("CAN-")
    assert _count(engine, CancellationRow) == 1
    assert _count(engine, CreditLedgerRow, kind="reversal") == 1
    with unit_of_work(make_session_factory(engine)) as uow:
        order = uow.session.scalars(select(OrderRow).filter_by(order_number="AK1000001")).one()
        assert order.status == "cancelled"
        reversal = uow.session.scalars(select(CreditLedgerRow).filter_by(kind="reversal")).one()
        assert reversal.points == -59 and reversal.order_id == order.id


def test_concurrent_warranty_claims_create_one_claim(engine, service):
    token = service.verify_customer("conv-w", "AK1000010", "ava.solix@example.com").token
    request = WarrantyRequest(line_id=1, serial_number=None, defect="no output", cause="quality",
                              troubleshooting_done=True, evidence_provided=True)
    results, errors = _race(lambda: service.open_warranty_claim("conv-w", token, "AK1000010", request))
    assert errors == []
    assert len({d.case_id for d in results}) == 1
    assert _count(engine, WarrantyClaimRow) == 1


def test_concurrent_transit_claims_create_one_claim(engine, service):
    token = service.verify_customer("conv-t", "AK1000012", "zoe.worryfree@example.com").token
    results, errors = _race(lambda: service.transit_claim("conv-t", token, "AK1000012", TransitRequest("lost")))
    assert errors == []
    assert len({d.case_id for d in results}) == 1
    assert _count(engine, TransitClaimRow) == 1


def test_the_unique_index_itself_refuses_a_second_open_return(engine, service):
    """Without the service's look-up first, the database still refuses the duplicate."""
    from sqlalchemy.exc import IntegrityError
    import pytest

    token = service.verify_customer("conv-u", "AK1000003", "emma.twenty@example.com").token
    first = service.open_return("conv-u", token, "AK1000003", ReturnRequest(1, 1))
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        case = uow.session.scalars(select(ReturnCaseRow)).one()
        uow.session.add(ReturnCaseRow(order_id=case.order_id, line_id=case.line_id, status="open", quantity=1,
                                      condition="undamaged", quality_issue=False, outcome="approved", decision={},
                                      conversation_id="x", created_at=case.created_at))
        with pytest.raises(IntegrityError):
            uow.session.flush()
    # a closed case does not block a new one
    with unit_of_work(factory, write=True) as uow:
        uow.session.scalars(select(ReturnCaseRow)).one().status = "closed"
        uow.commit()
    second = service.open_return("conv-u", token, "AK1000003", ReturnRequest(1, 1))
    assert second.case_id != first.case_id and second.values["repeated"] is False
    assert Decimal(str(second.values["refund_amount"])) == Decimal("79.99")
