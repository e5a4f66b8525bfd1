"""The demo data tells the stories docs/demo-data.md promises (asserted on reason codes and clause IDs)."""

from pathlib import Path

import pytest

from policy_engine import Outcome, ReturnRequest, TransitRequest, WarrantyRequest
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.demo import demo_document, load_demo
from policy_engine.store.demo_logins import DEMO_LOGINS
from tests.support.store import row_counts

DOC = Path(__file__).resolve().parents[2] / "docs" / "demo-data.md"


def _verified(service, number):
    login = next(ln for ln in DEMO_LOGINS if ln.order_number == number)
    v = service.verify_customer(f"demo-{number}", number, login.email)
    assert v.verified, number
    return f"demo-{number}"


def test_every_demo_login_verifies_and_is_documented(sqlite_service):
    text = DOC.read_text(encoding="utf-8")
    for login in DEMO_LOGINS:
        assert sqlite_service.verify_customer(f"doc-{login.order_number}", login.order_number, login.email).verified
        assert login.order_number in text and login.email in text


def test_demo_order_numbers_and_serials_have_the_documented_format(clock):
    import re

    doc = demo_document(clock.now)
    for order in doc["orders"]:
        assert re.fullmatch(r"AK\d{7}", order["order_number"])
        for line in order["lines"]:
            for serial in line.get("serial_numbers", []):
                assert re.fullmatch(r"(?=(?:[A-Z]*\d){4})[A-Z][A-Z0-9]{15}", serial)


def test_load_demo_is_idempotent(sqlite_engine, sqlite_service, clock):
    before = row_counts(sqlite_engine)
    with unit_of_work(make_session_factory(sqlite_engine), write=True) as uow:
        load_demo(uow.session, clock.now)
        uow.commit()
    assert row_counts(sqlite_engine) == before


def test_reloading_the_demo_clears_cases_and_lockouts(sqlite_engine, sqlite_service, clock):
    conv = _verified(sqlite_service, "AK1000003")
    sqlite_service.open_return(conv, "AK1000003", ReturnRequest(1, 1))
    for i in range(6):
        sqlite_service.verify_customer(f"x{i}", "AK1000004", "wrong@example.com")
    with unit_of_work(make_session_factory(sqlite_engine), write=True) as uow:
        load_demo(uow.session, clock.now)
        uow.commit()
    assert row_counts(sqlite_engine)["return_cases"] == 0
    assert sqlite_service.verify_customer("fresh", "AK1000004", "noah.late@example.com").verified


RETURN_STORIES = [
    ("AK1000003", ReturnRequest(1, 1), Outcome.APPROVED, "return_eligible", "RET-1"),
    ("AK1000004", ReturnRequest(1, 1), Outcome.DENIED, "return_window_passed", "RET-1"),
    ("AK1000005", ReturnRequest(1, 11), Outcome.NEEDS_REVIEW, "bulk_order", "RET-3"),
    ("AK1000006", ReturnRequest(1, 1), Outcome.NEEDS_REVIEW, "corporate_purchase", "RET-2"),
    ("AK1000007", ReturnRequest(1, 1), Outcome.DENIED, "campaign_own_terms", "RET-7"),
    ("AK1000008", ReturnRequest(2, 1), Outcome.DENIED, "redeemed_with_credits", "RET-10"),
]


@pytest.mark.parametrize("number,request_,outcome,code,clause", RETURN_STORIES)
def test_return_stories(sqlite_service, number, request_, outcome, code, clause):
    conv = _verified(sqlite_service, number)
    d = sqlite_service.preview_return(conv, number, request_)
    assert d.outcome is outcome and d.reason_codes[0] == code and clause in d.clauses


@pytest.mark.parametrize(
    "number,outcome,code",
    [
        ("AK1000001", Outcome.APPROVED, "within_self_cancel_window"),
        ("AK1000002", Outcome.DENIED, "already_shipped"),
    ],
)
def test_cancellation_stories(sqlite_service, number, outcome, code):
    conv = _verified(sqlite_service, number)
    d = sqlite_service.preview_cancellation(conv, number)
    assert d.outcome is outcome and d.reason_codes[0] == code


@pytest.mark.parametrize(
    "number,code",
    [
        ("AK1000014", "awaiting_returned_item"),
        ("AK1000015", "awaiting_inspection"),
        ("AK1000016", "refund_processing"),
        ("AK1000017", "refund_issued"),
        ("AK1000003", "no_refund_in_progress"),
    ],
)
def test_refund_stages(sqlite_service, number, code):
    conv = _verified(sqlite_service, number)
    assert sqlite_service.refund_status(conv, number).reason_codes[0] == code


QUALITY = dict(defect="stopped charging", cause="quality", troubleshooting_done=True, evidence_provided=True)


@pytest.mark.parametrize(
    "number,request_,outcome,code",
    [
        ("AK1000010", WarrantyRequest(line_id=1, **QUALITY), Outcome.APPROVED, "covered"),
        ("AK1000010", WarrantyRequest(line_id=2, **QUALITY), Outcome.DENIED, "free_or_promotional"),
        ("AK1000011", WarrantyRequest(line_id=1, **QUALITY), Outcome.DENIED, "outside_warranty_period"),
        (
            "AK1000018",
            WarrantyRequest(line_id=1, country_now="US", **QUALITY),
            Outcome.DENIED,
            "outside_country_of_purchase",
        ),
    ],
)
def test_warranty_stories(sqlite_service, number, request_, outcome, code):
    conv = _verified(sqlite_service, number)
    d = sqlite_service.preview_warranty(conv, number, request_)
    assert d.outcome is outcome and code in d.reason_codes


def test_transit_stories(sqlite_service):
    conv = _verified(sqlite_service, "AK1000012")
    assert (
        sqlite_service.transit_claim(conv, "AK1000012", TransitRequest("lost")).reason_codes[0] == "worry_free_covered"
    )
    conv = _verified(sqlite_service, "AK1000013")
    d = sqlite_service.transit_claim(conv, "AK1000013", TransitRequest("damaged"))
    assert "INS-2" in d.clauses


def test_credits_ledger_story(sqlite_service):
    conv = _verified(sqlite_service, "AK1000008")
    d = sqlite_service.credits_balance(conv)
    assert d.reason_codes == ("balance", "credits_locked", "credits_expiring_soon")
    assert (d.values["available"], d.values["locked"], d.values["expiring_soon"]) == (220, 19, 120)
