"""Coming back to a case (issue 15, item 4): the status of an existing case, and whether an open warranty claim can
still be completed, WAR-10 counted from the day it was opened (pure, no database; the clock is passed in)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from policy_engine import InvalidRequest, Outcome, WarrantyRequest, decide_warranty
from policy_engine.core.cases import REASON_CODES, CaseRecord, decide_case_status, normalise_case_number


@pytest.fixture
def order(make_order):
    """A charger (18 months) bought on 15 January 2024: last covered day 15 July 2025."""
    return make_order(placed_at="2024-01-15 10:00")


def claim_case(at, opened="2025-06-01 09:00", **kw) -> CaseRecord:
    kw.setdefault("outcome", "needs_information")
    kw.setdefault("missing", ("troubleshooting_outcome",))
    return CaseRecord("WAR-000007", "warranty", kw.pop("status", "open"), at(opened), line_id=1, **kw)


def test_WAR_10_deadline_runs_from_the_opening_not_from_today(policy, order, at, d):
    """Opened 1 June 2025 under warranty (ends 15 July 2025): deadline 30 August 2025 (opening + 90 days). Asked on
    20 August, after the warranty's end: still continuable (not WAR-14)."""
    decision = decide_case_status(order, [claim_case(at)], policy, at("2025-08-20 10:00"))
    assert decision.outcome is Outcome.NEEDS_INFORMATION and decision.reason_codes == ("warranty_claim_continuable",)
    assert decision.clauses == ("WAR-10",) and decision.case_id == "WAR-000007"
    assert decision.values["claim_deadline"] == d("2025-08-30") and decision.values["warranty_end"] == d("2025-07-15")
    assert decision.values["opened_on"] == d("2025-06-01") and decision.missing == ("troubleshooting_outcome",)
    assert [s.code for s in decision.next_steps] == ["complete_claim_by"]
    assert decision.next_steps[0].due == d("2025-08-30")


def test_WAR_10_last_day_of_the_window_is_inside_the_next_day_refused(policy, order, at):
    inside = decide_case_status(order, [claim_case(at)], policy, at("2025-08-30 23:30"))
    assert inside.reason_codes == ("warranty_claim_continuable",)
    past = decide_case_status(order, [claim_case(at)], policy, at("2025-08-31 00:30"))
    assert past.outcome is Outcome.DENIED and past.reason_codes == ("claim_window_passed",)
    assert past.clauses[0] == "WAR-10" and past.primary_reason.values["claim_deadline"].isoformat() == "2025-08-30"


def test_WAR_10_warranty_end_wins_when_it_is_later_than_opening_plus_90_days(policy, order, at, d):
    decision = decide_case_status(order, [claim_case(at, "2024-03-01 09:00")], policy, at("2025-07-10 10:00"))
    assert decision.values["claim_deadline"] == d("2025-07-15")
    assert decision.reason_codes == ("warranty_claim_continuable",)


def test_WAR_10_a_decided_claim_in_progress_tells_its_deadline_and_the_support_email(policy, order, at):
    case = claim_case(at, outcome="approved", missing=())
    decision = decide_case_status(order, [case], policy, at("2025-08-01 10:00"))
    assert decision.outcome is Outcome.ANSWERED and decision.reason_codes == ("warranty_claim_in_progress",)
    assert [s.code for s in decision.next_steps] == ["email_support", "complete_claim_by"]


def test_WAR_10_continuing_with_the_opening_date_is_covered_where_today_would_be_WAR_14(policy, order, at):
    """The same claim facts, decided today as a new claim (WAR-14) and as of the day it was opened (covered)."""
    request = WarrantyRequest(
        line_id=1, defect="no power", cause="quality", troubleshooting_done=True, evidence_provided=True
    )
    today = at("2025-08-20 10:00")
    assert "outside_warranty_period" in decide_warranty(order, request, policy, today).reason_codes
    continued = decide_warranty(order, replace(request, claim_opened_at=at("2025-06-01 09:00")), policy, today)
    assert continued.outcome is Outcome.APPROVED and "WAR-14" not in continued.clauses


def test_RET_4_case_of_another_order_or_unknown_is_not_found_with_nothing_about_it(policy, order, at):
    decision = decide_case_status(order, [claim_case(at)], policy, at("2025-08-01 10:00"), case_number="RET-000099")
    assert decision.reason_codes == ("case_not_found",) and decision.case_id is None
    assert decision.values == {"order_number": order.order_number, "case_number": "RET-000099"}


def test_return_transit_and_closed_cases_are_told_with_their_opening_day(policy, order, at, d):
    ret = CaseRecord("RET-000003", "return", "open", at("2025-07-01 10:00"), "approved", line_id=1)
    ins = CaseRecord("INS-000004", "transit", "open", at("2025-07-02 10:00"), "approved")
    closed = claim_case(at, status="closed")
    now = at("2025-07-05 10:00")
    cases = [ret, ins, closed]
    assert decide_case_status(order, cases, policy, now, case_number="ret 3").reason_codes == ("return_in_progress",)
    told = decide_case_status(order, cases, policy, now, case_number="INS-000004")
    assert told.reason_codes == ("transit_claim_open",) and told.clauses == ("INS-1",)
    assert told.values["opened_on"] == d("2025-07-02")
    assert decide_case_status(order, cases, policy, now, case_number="WAR-7").reason_codes == ("case_closed",)
    several = decide_case_status(order, cases, policy, now)
    assert several.reason_codes == ("several_cases",) and several.values["case_ids"] == [
        "INS-000004",
        "RET-000003",
        "WAR-000007",
    ]


def test_without_a_number_the_one_open_warranty_claim_is_chosen(policy, order, at):
    ret = CaseRecord("RET-000003", "return", "closed", at("2025-07-01 10:00"), "approved", line_id=1)
    decision = decide_case_status(order, [ret, claim_case(at)], policy, at("2025-07-05 10:00"))
    assert decision.case_id == "WAR-000007"
    assert decide_case_status(order, [], policy, at("2025-07-05 10:00")).reason_codes == ("no_case_on_order",)


def test_every_code_is_listed_and_bad_cases_are_refused(policy, order, at):
    assert len(set(REASON_CODES)) == len(REASON_CODES)
    bad = CaseRecord("XYZ-000001", "gift", "open", at("2025-07-01 10:00"), "approved")
    with pytest.raises(InvalidRequest):
        decide_case_status(order, [bad], policy, at("2025-07-05 10:00"))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("my case RET-1234", "RET-001234"),
        ("war 000007?", "WAR-000007"),
        ("ins-12", "INS-000012"),
        ("WAR-E000001", "WAR-E000001"),  # a claim for a purchase elsewhere, as the store writes it
        ("what about war-e-3", "WAR-E000003"),
        ("WAR E 000012", "WAR-E000012"),
        ("AK1000040", None),
        ("", None),
        (None, None),
        ("x" * 300, None),
    ],
)
def test_case_numbers_are_read_in_the_customers_spelling(text, number):
    assert normalise_case_number(text) == number
