"""The warehouse / support side of a return: ``record_inspection`` and ``issue_refund`` advance the refund record
(REF-1, RET-6), reverse the returned lines' credits when the refund is issued (CRD-11) in the same transaction, and
never refund twice (REF-4).  SQLite and PostgreSQL; real threads for the race."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from policy_engine import Outcome, ReturnRequest
from policy_engine.core.errors import InvalidRequest
from policy_engine.service import STAFF_CONVERSATION
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.models import CreditLedgerRow, DecisionAuditRow, OrderRow, RefundRow
from tests.support.store import row_counts

EMMA, EMMA_EMAIL = "AK1000003", "emma.twenty@example.com"  # 99 locked purchase credits; lines 79.99 + 19.99


def _rows(engine, model, **where):
    with unit_of_work(make_session_factory(engine)) as uow:
        rows = list(uow.session.scalars(select(model).filter_by(**where).order_by(model.id)))
        uow.session.expunge_all()
        return rows


def _order_id(engine, number):
    return _rows(engine, OrderRow, order_number=number)[0].id


def _returned(service, line_id, conv="conv"):
    """Emma returns ``line_id`` (approved: a refund record awaiting the item); returns the verified conversation."""
    assert service.verify_customer(conv, EMMA, EMMA_EMAIL).verified
    decision = service.open_return(conv, EMMA, ReturnRequest(line_id, 1))
    assert decision.outcome is Outcome.APPROVED
    return conv


def _unchanged(engine, call):
    before = row_counts(engine)
    with pytest.raises(InvalidRequest):
        call()
    assert row_counts(engine) == before


def test_inspection_then_refund_reverses_the_returned_lines_credits_once(engine, service, clock):
    """REF-1 -> REF-3 -> REF-2/REF-4, CRD-11: line 1 (79.99) earned 79 of the order's 99 credits."""
    _returned(service, 1)
    clock.advance(days=5)
    inspected = service.record_inspection(EMMA, True)
    assert inspected.reason_codes[0] == "refund_processing" and "REF-3" in inspected.clauses
    assert inspected.values["repeated"] is False
    [refund] = _rows(engine, RefundRow, order_id=_order_id(engine, EMMA))
    assert refund.status == "inspected" and refund.inspection_passed is True
    assert refund.item_received_at == clock.now and refund.inspected_at == clock.now  # inspection implies arrival

    clock.advance(days=2)
    issued = service.issue_refund(EMMA)
    assert issued.reason_codes[:2] == ("refund_issued", "no_duplicate_refund") and "REF-4" in issued.clauses
    assert "credits_reversed" in issued.reason_codes and "CRD-11" in issued.clauses
    assert issued.values["credits_reversed"] == 79 and issued.values["repeated"] is False
    [refund] = _rows(engine, RefundRow, order_id=_order_id(engine, EMMA))
    assert refund.status == "issued" and refund.issued_at == clock.now
    [reversal] = _rows(engine, CreditLedgerRow, kind="reversal")
    assert reversal.points == -79 and reversal.order_id == _order_id(engine, EMMA)
    assert service.verify_customer("conv-later", EMMA, EMMA_EMAIL).verified  # a week later: a new verification
    assert service.credits_balance("conv-later").values["balance"] == 20

    again = service.issue_refund(EMMA)
    assert again.values["repeated"] is True and again.values["credits_reversed"] == 79
    assert again.reason_codes[:2] == ("refund_issued", "no_duplicate_refund")
    assert len(_rows(engine, CreditLedgerRow, kind="reversal")) == 1
    # the customer sees the issued refund (REF-2) and one audit row per staff step
    assert service.refund_status("conv-later", EMMA).reason_codes[0] == "refund_issued"
    staff = _rows(engine, DecisionAuditRow, conversation_id=STAFF_CONVERSATION)
    assert [(a.topic, a.inputs["operation"]) for a in staff] == [
        ("refund", "record_inspection"),
        ("refund", "issue_refund"),
    ]


def test_the_whole_order_returned_reverses_everything_it_earned(engine, service):
    """CRD-11: once every line is refunded, what the order earned and still holds is reversed (99 = 79 + 20),
    not the sum of rounded-down parts."""
    _returned(service, 1)
    service.record_inspection(EMMA, True)
    assert service.issue_refund(EMMA).values["credits_reversed"] == 79
    service.open_return("conv", EMMA, ReturnRequest(2, 1))
    service.record_inspection(EMMA, True)
    second = service.issue_refund(EMMA)
    assert second.values["credits_reversed"] == 20
    assert sorted(r.points for r in _rows(engine, CreditLedgerRow, kind="reversal")) == [-79, -20]
    assert service.credits_balance("conv").values["balance"] == 0


def test_a_refund_without_earned_credits_reverses_nothing(engine, service):
    """Grace's AK1000016 passed inspection (demo) and earned no credits: issued, nothing to reverse."""
    issued = service.issue_refund("AK1000016")
    assert issued.reason_codes == ("refund_issued", "no_duplicate_refund")
    assert issued.values["credits_reversed"] == 0 and issued.values["payment_method"] == "paypal"
    assert _rows(engine, CreditLedgerRow, kind="reversal") == []


def test_no_refund_before_the_item_arrived_and_passed_inspection(engine, service):
    """REF-1: awaiting the item (AK1000014) or awaiting inspection (AK1000015): refused, nothing changes."""
    _unchanged(engine, lambda: service.issue_refund("AK1000014"))
    _unchanged(engine, lambda: service.issue_refund("AK1000015"))


def test_a_failed_inspection_is_recorded_and_blocks_the_refund(engine, service):
    """RET-8: an empty package gets no refund; the customer's status cites the finding's clause."""
    failed = service.record_inspection("AK1000015", False, "empty_package")
    assert failed.outcome is Outcome.DENIED and failed.reason_codes == ("inspection_failed",)
    assert failed.clauses[0] == "RET-8" and failed.values["finding"] == "empty_package"
    [refund] = _rows(engine, RefundRow, order_id=_order_id(engine, "AK1000015"))
    assert refund.status == "rejected" and refund.inspection_passed is False
    _unchanged(engine, lambda: service.issue_refund("AK1000015"))
    assert service.verify_customer("grace", "AK1000015", "grace.refunds@example.com").verified
    assert service.refund_status("grace", "AK1000015").reason_codes == ("inspection_failed",)


def test_recording_the_same_inspection_again_is_idempotent_and_a_different_one_refused(engine, service):
    first = service.record_inspection("AK1000015", True)
    before = row_counts(engine)
    again = service.record_inspection("AK1000015", True)
    assert again.values["repeated"] is True and again.reason_codes == first.reason_codes
    assert row_counts(engine) == before
    _unchanged(engine, lambda: service.record_inspection("AK1000015", False, "incorrect_item"))


def test_an_issued_refund_is_never_inspected_again(engine, service):
    """REF-4: AK1000017's refund was issued (demo): a new inspection result is refused."""
    _unchanged(engine, lambda: service.record_inspection("AK1000017", False, "damaged"))
    assert service.issue_refund("AK1000017").values["repeated"] is True


def test_several_open_refunds_need_the_line(engine, service):
    _returned(service, 1)
    service.open_return("conv", EMMA, ReturnRequest(2, 1))
    _unchanged(engine, lambda: service.record_inspection(EMMA, True))
    line2 = service.record_inspection(EMMA, True, line_id=2)
    assert Decimal(str(line2.values["amount"])) == Decimal("19.99")
    _unchanged(engine, lambda: service.issue_refund(EMMA, line_id=1))  # line 1 awaits its item (REF-1)
    assert service.issue_refund(EMMA, line_id=2).values["credits_reversed"] == 19
    _unchanged(engine, lambda: service.issue_refund(EMMA, line_id=7))


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.record_inspection(EMMA, "yes"),
        lambda s: s.record_inspection(EMMA, None),
        lambda s: s.record_inspection(EMMA, False, "aliens"),
        lambda s: s.record_inspection(EMMA, True, "empty_package"),  # a finding refuses the refund
        lambda s: s.record_inspection(EMMA, False, "x" * 10_000),
        lambda s: s.record_inspection("not an order", True),
        lambda s: s.record_inspection("AK9999999", True),
        lambda s: s.record_inspection(EMMA, True, line_id=0),
        lambda s: s.record_inspection(EMMA, True, line_id="1"),
        lambda s: s.issue_refund(None),
        lambda s: s.issue_refund("AK9999999"),
        lambda s: s.issue_refund(EMMA),  # no refund record at all
        lambda s: s.issue_refund("AK1000016", line_id=True),
    ],
    ids=lambda _: "",
)
def test_bad_staff_input_changes_nothing(engine, service, call):
    _unchanged(engine, lambda: call(service))


def test_parallel_refund_issues_pay_and_reverse_once(engine, service):
    """REF-4 under a race: 8 threads issue the same refund; one issues it and reverses the credits, the others
    answer ``repeated``."""
    _returned(service, 1)
    service.record_inspection(EMMA, True)
    barrier, results, errors = threading.Barrier(8), [], []

    def worker():
        try:
            barrier.wait()
            results.append(service.issue_refund(EMMA))
        except Exception as exc:  # noqa: BLE001 - asserted on
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(d.values["repeated"] for d in results) == [False] + [True] * 7
    assert {d.values["credits_reversed"] for d in results} == {79}
    assert [r.points for r in _rows(engine, CreditLedgerRow, kind="reversal")] == [-79]
    issues = [
        a
        for a in _rows(engine, DecisionAuditRow, conversation_id=STAFF_CONVERSATION)
        if a.inputs["operation"] == "issue_refund"
    ]
    assert len(issues) == 1
