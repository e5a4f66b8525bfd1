"""Concurrent duplicate requests produce exactly one case, and concurrent wrong guesses never get more tries than
the lock-out allows (real threads, SQLite file and PostgreSQL)."""

import threading
from decimal import Decimal

from sqlalchemy import func, select

from policy_engine import ReturnRequest, TransitRequest, WarrantyRequest
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.identity_models import VerificationAttemptRow
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
    """Run ``call`` (or ``call(i)`` for a call taking the thread's number) in ``n`` threads released at the same
    moment; return results and errors."""
    barrier = threading.Barrier(n)
    results, errors = [], []
    numbered = call.__code__.co_argcount == 1

    def worker(i):
        try:
            barrier.wait()
            results.append(call(i) if numbered else call())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
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
    assert service.verify_customer("conv-race", "AK1000003", "emma.twenty@example.com").verified
    results, errors = _race(lambda: service.open_return("conv-race", "AK1000003", ReturnRequest(1, 1)))
    assert errors == []
    assert len({d.case_id for d in results}) == 1
    assert sorted(d.values["repeated"] for d in results) == [False] + [True] * (THREADS - 1)
    assert _count(engine, ReturnCaseRow) == 1
    assert _count(engine, RefundRow, status="awaiting_item") == 2  # the demo's AK1000014 + this one
    assert _count(engine, DecisionAuditRow, topic="return") == 1


def test_concurrent_cancellations_cancel_once_and_reverse_credits_once(engine, service):
    assert service.verify_customer("conv-c", "AK1000001", "olivia.fresh@example.com").verified
    results, errors = _race(lambda: service.cancel_order("conv-c", "AK1000001"))
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
    assert service.verify_customer("conv-w", "AK1000010", "ava.solix@example.com").verified
    request = WarrantyRequest(
        line_id=1,
        serial_number=None,
        defect="no output",
        cause="quality",
        troubleshooting_done=True,
        evidence_provided=True,
    )
    results, errors = _race(lambda: service.open_warranty_claim("conv-w", "AK1000010", request))
    assert errors == []
    assert len({d.case_id for d in results}) == 1
    assert _count(engine, WarrantyClaimRow, conversation_id="conv-w") == 1  # the demo has imported claims too


def test_concurrent_transit_claims_create_one_claim(engine, service):
    assert service.verify_customer("conv-t", "AK1000012", "zoe.worryfree@example.com").verified
    results, errors = _race(lambda: service.transit_claim("conv-t", "AK1000012", TransitRequest("lost")))
    assert errors == []
    assert len({d.case_id for d in results}) == 1
    assert _count(engine, TransitClaimRow) == 1


def test_the_unique_index_itself_refuses_a_second_open_return(engine, service):
    """Without the service's look-up first, the database still refuses the duplicate."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    assert service.verify_customer("conv-u", "AK1000003", "emma.twenty@example.com").verified
    first = service.open_return("conv-u", "AK1000003", ReturnRequest(1, 1))
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        case = uow.session.scalars(select(ReturnCaseRow)).one()
        uow.session.add(
            ReturnCaseRow(
                order_id=case.order_id,
                line_id=case.line_id,
                status="open",
                quantity=1,
                condition="undamaged",
                quality_issue=False,
                outcome="approved",
                decision={},
                conversation_id="x",
                created_at=case.created_at,
            )
        )
        with pytest.raises(IntegrityError):
            uow.session.flush()
    # a closed case does not block a new one
    with unit_of_work(factory, write=True) as uow:
        uow.session.scalars(select(ReturnCaseRow)).one().status = "closed"
        uow.commit()
    second = service.open_return("conv-u", "AK1000003", ReturnRequest(1, 1))
    assert second.case_id != first.case_id and second.values["repeated"] is False
    assert Decimal(str(second.values["refund_amount"])) == Decimal("79.99")


# ------------------------------------------------------------------------------------------------ RET-4 lock-out

GUESSERS = 12


def _failures(engine, **where):
    with unit_of_work(make_session_factory(engine)) as uow:
        stmt = select(func.count()).select_from(VerificationAttemptRow).filter_by(counts_as_failure=True, **where)
        return uow.session.execute(stmt).scalar_one()


def test_parallel_wrong_guesses_on_one_order_get_only_the_allowed_attempts(engine, service):
    """RET-4: 12 conversations guess the email of one order at the same moment; exactly ``max_failed_attempts``
    guesses are counted, every other one is refused without a try: the order is in step-up (issue 12: a one-time
    code to the purchase email, not a lock-out of its customer)."""
    limit = service.policy.identity.max_failed_attempts
    results, errors = _race(
        lambda i: service.verify_customer(f"guess-{i}", "AK1000003", f"guess{i}@example.com"), GUESSERS
    )
    assert errors == []
    codes = sorted(v.code for v in results)
    assert codes.count("not_verified") == limit
    assert codes.count("code_sent") == GUESSERS - limit
    assert not any(v.verified for v in results)
    # each guesser's own conversation has one failure: the order's counter does not lock anybody out
    assert [v.attempts_left for v in results if v.code == "not_verified"] == [limit - 1] * limit
    assert _failures(engine, order_number="AK1000003") == limit
    assert service.verify_customer("owner", "AK1000003", "emma.twenty@example.com").code == "code_sent"


def test_parallel_wrong_guesses_in_one_conversation_get_only_the_allowed_attempts(engine, service):
    """RET-4: one conversation fires guesses for many order numbers at once; the conversation's counter holds."""
    limit = service.policy.identity.max_failed_attempts
    results, errors = _race(
        lambda i: service.verify_customer("one-conversation", f"AK90000{i:02d}", "nobody@example.com"), GUESSERS
    )
    assert errors == []
    codes = [v.code for v in results]
    assert codes.count("not_verified") == limit - 1 and codes.count("locked_out") == 1
    assert codes.count("code_sent") == GUESSERS - limit  # after the lock-out: step-up, nothing counted or tried
    assert _failures(engine, conversation_id="one-conversation") == limit


def test_parallel_attempts_on_different_orders_do_not_block_each_other(engine, service):
    """The locks are per conversation and per order: unrelated customers verify side by side."""
    logins = [
        ("AK1000003", "emma.twenty@example.com"),
        ("AK1000004", "noah.late@example.com"),
        ("AK1000010", "ava.solix@example.com"),
        ("AK1000012", "zoe.worryfree@example.com"),
    ]
    results, errors = _race(lambda i: service.verify_customer(f"c{i}", *logins[i]), len(logins))
    assert errors == [] and all(v.verified for v in results)


def test_concurrent_continuations_of_one_claim_decide_it_once(engine, service):
    """Coming back to a case (issue 15, item 4): a double "yes" on a continued claim (AK1000040's imported claim)
    completes it once: one decision, one audit row, the same case number for every caller."""
    assert service.verify_customer("conv-c", "AK1000040", "mia.comeback@example.com").verified
    case_id = service.case_status("conv-c", "AK1000040").case_id
    request = WarrantyRequest(
        line_id=1, defect="dead", cause="quality", troubleshooting_done=True, evidence_provided=True
    )
    results, errors = _race(lambda: service.continue_warranty_claim("conv-c", "AK1000040", case_id, request))
    assert errors == [] and {d.case_id for d in results} == {case_id}
    assert sum(not d.values["repeated"] for d in results) == 1
    assert _count(engine, DecisionAuditRow, case_id=case_id) == 1
