"""Coming back to a warranty claim for a purchase elsewhere (``WAR-E...``; issue 15, item 4): the case form asks for
the claim's email and the one-time code mailed to it instead of an order number, then the claim's status in at most
three messages; another email's claim is told exactly like an unknown number (RET-4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from actions.cases import ActionCaseStatus, ValidateCaseForm
from policy_engine.core.warranty_request import WarrantyRequest
from policy_engine.store.upload_files import UploadFiles
from tests.actions.test_warranty_purchase import stored

EMAIL = "jo.reseller@example.com"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture
def claim_id(service, tmp_path):
    """A covered WAR-E claim opened earlier in another conversation, under EMAIL."""
    service.upload_files = UploadFiles(tmp_path / "uploads")
    opener = "conv-opened-the-claim"
    service.register_upload(opener, stored(tmp_path / "uploads", opener), "receipt")
    service.send_claim_email_code(opener, EMAIL)
    assert service.verify_claim_email(opener, service.mailer.code_for(EMAIL)).verified
    stated = {"seller": "Best Buy", "purchased_on": date(2024, 11, 1), "price": Decimal("149.99"), "country": "US"}
    request = WarrantyRequest(
        line_id=None, serial_number="A1289X0000012345", defect="it no longer charges", troubleshooting_done=True
    )
    return service.open_purchase_claim(opener, "A1289", stated, request).case_id


def proves(chat, service, email, case_text):
    """The case form for ``case_text``: the claim's email, then the code mailed to it."""
    chat.run(ValidateCaseForm(), {"case_number": None}, intent="case_status", text=case_text)
    assert chat.slot_events()["requested_slot"] == "claim_email" and chat.responses == []
    assert chat.slots["case_number"].startswith("WAR-E")  # read from the text when the entity was not extracted
    chat.run(ValidateCaseForm(), {"claim_email": email}, text=email)
    assert chat.slots["claim_email"] == email and chat.slot_events()["requested_slot"] == "claim_email_code"
    assert chat.slots["order_number"] is None  # never asked for an order
    chat.run(ValidateCaseForm(), {"claim_email_code": service.mailer.code_for(email)})
    assert chat.slots["claim_email_code"] == "verified" and chat.slot_events()["requested_slot"] is None
    return chat


def test_WAR_9_the_claim_is_found_by_its_number_and_the_proven_email(chat, service, claim_id, counts):
    proves(chat, service, EMAIL, f"what's happening with {claim_id[:5]}-{claim_id[5:]}")  # WAR-E-000001
    before = counts()
    chat.run(ActionCaseStatus())
    assert counts() == before
    assert chat.responses[0] == "utter_case_status_purchase_claim_covered" and len(chat.messages) <= 3
    assert "utter_next_step_email_support" in chat.responses
    told = chat.messages[0]["custom"]["decision"]
    assert told["topic"] == "case_status" and told["case_id"] == claim_id and "WAR-9" in told["clauses"]
    assert told["policy_version"] == service.policy.version
    assert chat.messages[0]["decided_policy_version"] == service.policy.version
    assert chat.messages[0]["opened_on"].split()[0] in DAYS and "WAR-9" in chat.messages[0]["decided_clauses"]
    slots = chat.slots
    assert slots["claim_email"] is None and slots["claim_email_code"] is None and slots["case_number"] is None
    assert slots["case_continuable"] is False


def test_RET_4_another_emails_claim_is_told_like_an_unknown_number(new_chat, service, claim_id):
    told = []
    for conversation, number in (("conv-stranger", claim_id), ("conv-stranger-2", "WAR-E999999")):
        chat = proves(new_chat(conversation), service, "someone.else@example.com", f"status of {number}")
        chat.run(ActionCaseStatus())
        assert chat.responses == ["utter_case_status_purchase_claim_not_found"]
        message = {k: v for k, v in chat.messages[0].items() if k != "case_number"}
        assert message["custom"]["decision"]["case_id"] is None and "product" not in message
        told.append(message)
    assert told[0] == told[1]


def test_RET_4_nothing_is_told_without_the_code(chat, service, claim_id, counts):
    chat.run(ValidateCaseForm(), {"case_number": claim_id}, intent="case_status", text=f"status of {claim_id}")
    chat.run(ValidateCaseForm(), {"claim_email": EMAIL}, text=EMAIL)
    wrong = "000000" if service.mailer.code_for(EMAIL) != "000000" else "111111"
    chat.run(ValidateCaseForm(), {"claim_email_code": wrong})
    assert chat.responses == ["utter_invalid_claim_email_code"]
    assert chat.slot_events()["requested_slot"] == "claim_email_code"
    chat.run(ActionCaseStatus())
    assert chat.messages == []


def test_an_order_case_still_asks_for_the_order_and_never_for_a_claim_email(chat, service):
    chat.run(ValidateCaseForm(), {"case_number": "RET-000004"}, intent="case_status", text="status of RET-000004")
    assert chat.slot_events()["requested_slot"] == "order_number"
    chat.run(ValidateCaseForm(), {"order_number": "AK1000040", "email": "mia.comeback@example.com"})
    assert chat.slots["verified"] is True and chat.slot_events()["requested_slot"] is None
