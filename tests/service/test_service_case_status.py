"""Coming back to a case (issue 15, item 4) against real SQLite and PostgreSQL with the demo data: a verified customer
finds the order's case, an open warranty claim is decided as of its opening day (WAR-10), a case number alone or
another order's case reveals nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from policy_engine import Outcome, ReturnRequest, TransitRequest, WarrantyRequest
from policy_engine.core.errors import NotVerified
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.models import DecisionAuditRow, WarrantyClaimRow

MIA, JACK = ("AK1000040", "mia.comeback@example.com"), ("AK1000041", "jack.toolate@example.com")


def _verified(service, login, conv="case-conv"):
    assert service.verify_customer(conv, *login).verified
    return conv


def _claims(engine, number):
    with unit_of_work(make_session_factory(engine)) as uow:
        rows = list(uow.session.scalars(select(WarrantyClaimRow).order_by(WarrantyClaimRow.id)))
        uow.session.expunge_all()
        return rows


def _case_of(service, login, conv):
    return service.case_status(conv, login[0]).case_id


def test_WAR_10_claim_opened_under_warranty_is_found_by_order_and_can_be_finished(service, clock):
    conv = _verified(service, MIA)
    d = service.case_status(conv, MIA[0])
    assert d.topic == "case_status" and d.outcome is Outcome.NEEDS_INFORMATION
    assert d.reason_codes == ("warranty_claim_continuable",) and d.clauses == ("WAR-10",)
    today = service.policy.local_date(clock.now)
    assert d.values["warranty_end"] < today < d.values["claim_deadline"]  # WAR-14 would be the wrong answer
    assert (d.values["claim_deadline"] - d.values["opened_on"]).days == 90
    assert d.case_id.startswith("WAR-") and d.values["line_id"] == 1 and d.values["cause"] == "quality"
    assert set(d.missing) == {"troubleshooting_outcome", "serial_number_or_evidence"}
    # by its case number, in another spelling: the same case
    assert service.case_status(conv, MIA[0], d.case_id.lower().replace("-", " ")).case_id == d.case_id


def test_WAR_10_continuing_the_claim_decides_as_of_its_opening_and_updates_the_same_case(service, engine):
    conv = _verified(service, MIA)
    case_id = _case_of(service, MIA, conv)
    request = WarrantyRequest(
        line_id=1, defect="It stopped charging", troubleshooting_done=True, evidence_provided=True
    )
    preview = service.preview_warranty(conv, MIA[0], request)
    assert preview.outcome is Outcome.APPROVED and "outside_warranty_period" not in preview.reason_codes
    assert "WAR-14" not in preview.clauses and "WAR-10" in preview.clauses
    assert _claims(engine, MIA[0])[0].outcome == "needs_information"  # the preview wrote nothing
    d = service.open_warranty_claim(conv, MIA[0], request)
    assert d.outcome is Outcome.APPROVED and d.case_id == case_id and d.values["continued"] is True
    [claim] = [c for c in _claims(engine, MIA[0]) if c.case_id == case_id]
    assert claim.outcome == "approved" and claim.status == "open" and claim.decision["case_id"] == case_id
    assert claim.claim_deadline == d.values["claim_deadline"]
    with unit_of_work(make_session_factory(engine)) as uow:
        audit = uow.session.scalars(select(DecisionAuditRow).where(DecisionAuditRow.case_id == case_id)).all()
        assert [a.outcome for a in audit] == ["approved"] and audit[0].inputs["case_id"] == case_id
    again = service.continue_warranty_claim(conv, MIA[0], case_id, request)  # a second "yes"
    assert again.case_id == case_id and again.values["repeated"] is True and again.outcome is Outcome.APPROVED
    with unit_of_work(make_session_factory(engine)) as uow:
        assert len(uow.session.scalars(select(DecisionAuditRow).where(DecisionAuditRow.case_id == case_id)).all()) == 1
    # asked again: the case is in progress now, not continuable
    assert service.case_status(conv, MIA[0]).reason_codes == ("warranty_claim_in_progress",)


def test_WAR_10_claim_past_its_deadline_is_refused_citing_WAR_10_and_closed_when_continued(service, engine):
    conv = _verified(service, JACK)
    d = service.case_status(conv, JACK[0])
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("claim_window_passed",) and d.clauses[0] == "WAR-10"
    request = WarrantyRequest(line_id=1, defect="USB-C port dead", troubleshooting_done=True, evidence_provided=True)
    refused = service.continue_warranty_claim(conv, JACK[0], d.case_id, request)
    assert refused.outcome is Outcome.DENIED and "claim_window_passed" in refused.reason_codes
    assert "outside_warranty_period" not in refused.reason_codes  # opened under warranty: WAR-10, not WAR-14
    [claim] = [c for c in _claims(engine, JACK[0]) if c.case_id == d.case_id]
    assert claim.status == "closed" and claim.outcome == "denied"
    assert service.case_status(conv, JACK[0], d.case_id).reason_codes == ("case_closed",)


def test_RET_4_another_orders_case_answers_like_an_unknown_one(service, engine):
    mia = _verified(service, MIA, "conv-mia")
    jack = _verified(service, JACK, "conv-jack")
    jacks_case = _case_of(service, JACK, jack)
    other = service.case_status(mia, MIA[0], jacks_case)
    unknown = service.case_status(mia, MIA[0], "WAR-999999")
    assert other.reason_codes == unknown.reason_codes == ("case_not_found",)
    assert other.values == {**unknown.values, "case_number": jacks_case}
    assert "product" not in other.values and other.case_id is None
    request = WarrantyRequest(line_id=1, defect="x" * 12, troubleshooting_done=True, evidence_provided=True)
    before = [(c.case_id, c.outcome, c.status) for c in _claims(engine, JACK[0])]
    assert service.continue_warranty_claim(mia, MIA[0], jacks_case, request).reason_codes == ("case_not_found",)
    assert [(c.case_id, c.outcome, c.status) for c in _claims(engine, JACK[0])] == before


@pytest.mark.parametrize("order_number", [MIA[0], "AK9999999", None, "WAR-000001"])
def test_RET_4_no_case_answer_without_verification(service, order_number):
    with pytest.raises(NotVerified):
        service.case_status("never-verified", order_number, "WAR-000001")
    with pytest.raises(NotVerified):
        service.continue_warranty_claim(
            "never-verified", order_number, "WAR-000001", WarrantyRequest(line_id=1, defect="broken cable")
        )


def test_an_order_without_cases_says_so(service):
    conv = _verified(service, ("AK1000003", "emma.twenty@example.com"))
    d = service.case_status(conv, "AK1000003")
    assert d.reason_codes == ("no_case_on_order",) and d.outcome is Outcome.ANSWERED


def test_RET_6_INS_1_a_return_or_transit_case_is_found_by_its_number_with_its_opening_day(service, clock):
    conv = _verified(service, ("AK1000003", "emma.twenty@example.com"))
    opened = service.open_return(conv, "AK1000003", ReturnRequest(1, 1, "unopened", False))
    clock.advance(days=3)  # the customer comes back in a new conversation
    conv = _verified(service, ("AK1000003", "emma.twenty@example.com"), "conv-later")
    d = service.case_status(conv, "AK1000003", f"what's happening with my case {opened.case_id}")
    assert d.reason_codes == ("return_in_progress",) and d.clauses == ("RET-6",) and d.case_id == opened.case_id
    assert d.values["opened_on"] == service.policy.local_date(clock.now) - timedelta(days=3)
    conv = _verified(service, ("AK1000012", "zoe.worryfree@example.com"), "conv-transit")
    claim = service.transit_claim(conv, "AK1000012", TransitRequest("lost"))
    told = service.case_status(conv, "AK1000012")  # the order's only case, without its number
    assert told.reason_codes == ("transit_claim_open",) and told.clauses == ("INS-1",) and told.case_id == claim.case_id
