"""Coming back to a case (issue 15, item 4): identity first, then the case's status in at most three messages; an
open warranty claim goes on in the warranty form, asking only what it lacks, decided as of its opening (WAR-10)."""

from __future__ import annotations

from actions.cases import ActionCaseStatus, ValidateCaseForm
from actions.warranty import ActionOpenWarrantyClaim, ActionPreviewWarranty, ValidateWarrantyForm

MIA = {"order_number": "AK1000040", "email": "mia.comeback@example.com"}  # claim opened under warranty, continuable
JACK = {"order_number": "AK1000041", "email": "jack.toolate@example.com"}  # claim past its WAR-10 deadline
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def verified(chat, login):
    chat.run(ValidateCaseForm(), login)
    assert chat.slots["verified"] is True and chat.slot_events()["requested_slot"] is None
    return chat


def decision(chat):
    return chat.messages[0]["custom"]["decision"]


def test_WAR_10_finding_the_claim_by_order_then_finishing_it_in_the_warranty_form(chat, service, counts):
    verified(chat, MIA)
    before = counts()
    chat.run(ActionCaseStatus(), text="I opened a warranty claim last month, I want to finish it")
    assert counts() == before  # telling the status writes nothing
    assert chat.responses == ["utter_case_status_warranty_claim_continuable"]
    told = decision(chat)
    assert told["topic"] == "case_status" and told["clauses"] == ["WAR-10"] and told["case_id"].startswith("WAR-")
    told_values = chat.messages[0]
    assert told_values["product"].startswith("Anker 737 Power Bank")
    assert told_values["opened_on"].split()[0] in DAYS and told_values["claim_deadline"].split()[0] in DAYS  # human
    assert chat.slots["case_continuable"] is True and chat.slots["order_line"] == "1"
    assert chat.slots["defect_cause"] == "quality" and chat.slots["defect"]
    # the warranty form asks only what the claim lacks: no line, defect or cause question
    chat.run(ValidateWarrantyForm(), {"country_now": "US"})  # the first fact given: the next question is the serial
    assert chat.slot_events()["requested_slot"] == "serial_number"
    serial = service.order_overview(chat.sender_id, MIA["order_number"]).lines[0].serial_numbers[0]
    facts = {"serial_number": serial, "troubleshooting_done": True, "evidence_provided": False, "country_now": "US"}
    chat.run(ValidateWarrantyForm(), {**facts, "shipped_internationally": False})
    assert chat.slot_events()["requested_slot"] is None
    chat.run(ActionPreviewWarranty())
    preview = decision(chat)
    assert chat.responses[0] == "utter_warranty_covered" and "WAR-14" not in preview["clauses"]
    assert "outside_warranty_period" not in preview["reasons"] and chat.responses[-1] == "utter_confirm_warranty"
    chat.run(ActionOpenWarrantyClaim())
    assert chat.responses[0] == "utter_case_opened" and chat.messages[0]["case_id"] == told["case_id"]
    assert counts()["warranty_claims"] == before["warranty_claims"]  # the same claim, completed


def test_WAR_10_a_claim_past_its_deadline_is_refused_citing_WAR_10(chat, service):
    verified(chat, JACK)
    chat.run(ActionCaseStatus(), text="what's happening with my warranty claim")
    assert chat.responses == ["utter_case_status_claim_window_passed", "utter_next_step_email_support"]
    assert decision(chat)["outcome"] == "denied" and decision(chat)["clauses"][0] == "WAR-10"
    assert chat.slots["case_continuable"] is False and chat.slots["order_line"] is None


def test_RET_4_another_orders_case_number_is_not_found_like_an_unknown_one(new_chat, service):
    jack = verified(new_chat("conv-jack"), JACK)
    jack.run(ActionCaseStatus())
    jacks_case = decision(jack)["case_id"]
    mia = verified(new_chat("conv-mia"), MIA)
    mia.run(ActionCaseStatus(), {"case_number": jacks_case}, intent="case_status", text=f"status of {jacks_case}")
    other = (mia.responses, decision(mia)["reasons"], decision(mia)["case_id"])
    mia.run(ActionCaseStatus(), text="what about case WAR-999999")
    unknown = (mia.responses, decision(mia)["reasons"], decision(mia)["case_id"])
    assert other == unknown == (["utter_case_status_case_not_found"], ["case_not_found"], None)
    assert "product" not in mia.messages[0] and "opened_on" not in mia.messages[0]


def test_RET_4_nothing_is_told_before_verification(chat, service, counts):
    before = counts()
    chat.run(ActionCaseStatus(), {"order_number": MIA["order_number"]}, text="status of my case WAR-000001")
    assert chat.messages == [] and counts() == before
