"""Warranty claims (WAR-1..22): the form's questions and validators, the preview and the claim."""

from __future__ import annotations

import pytest

from actions.warranty import ActionOpenWarrantyClaim, ActionPreviewWarranty, ValidateWarrantyForm

AVA = {"order_number": "AK1000010", "email": "ava.solix@example.com"}  # line 1 power station, 20 months
HENRY = {"order_number": "AK1000018", "email": "henry.abroad@example.com"}  # bought in DE
COVERED_FACTS = {
    "order_line": "1",
    "defect": "It no longer charges",
    "defect_cause": "quality",
    "troubleshooting_done": True,
    "evidence_provided": False,  # a bare yes asks for the photo itself (tests/actions/test_uploads.py)
    "country_now": "US",
    "shipped_internationally": False,
}


def serial_of(service, chat, order_number, line_id="1"):
    lines = service.order_overview(chat.sender_id, order_number).lines
    line = next(candidate for candidate in lines if str(candidate.line_id) == line_id)
    return line.serial_numbers[0] if line.serial_numbers else "A1761C1F23100457"


def test_questions_come_in_order_after_identity(chat, service):
    chat.run(ValidateWarrantyForm(), AVA)
    assert chat.slot_events()["requested_slot"] == "order_line"
    chat.run(ValidateWarrantyForm(), {"order_line": "power station"})
    assert chat.slots["order_line"] == "1"
    assert chat.slot_events()["requested_slot"] == "serial_number"


def test_product_named_early_picks_the_line(chat, service):
    chat.run(ValidateWarrantyForm(), {**AVA, "product": "SOLIX C1000"})
    assert chat.slots["order_line"] == "1"


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("it's a2633c1f23100457 I think", "A2633C1F23100457"),
        ("unknown", "unknown"),
        ("I can't find it", "unknown"),
        ("I don't have the box anymore", "unknown"),
    ],
)
def test_serial_number_normalised(chat, service, typed, expected):
    chat.run(ValidateWarrantyForm(), {**AVA, "serial_number": typed})
    assert chat.slots["serial_number"] == expected


@pytest.mark.parametrize(
    "slot,bad",
    [
        ("serial_number", "12345"),
        ("serial_number", "ABCDEFGHIJKLMNOP"),  # no digits
        ("defect", "x"),
        ("defect_cause", "aliens"),
        ("country_now", "Atlantis"),
        ("troubleshooting_done", "maybe"),
        ("evidence_provided", "perhaps"),
        ("shipped_internationally", "who knows"),
    ],
)
def test_bad_answers_get_their_hint(chat, service, slot, bad):
    chat.run(ValidateWarrantyForm(), {slot: bad})
    assert chat.responses == [f"utter_invalid_{slot}"]
    assert chat.slots[slot] is None


def test_covered_claim_preview_then_yes(chat, service, counts):
    chat.run(ValidateWarrantyForm(), AVA)
    chat.run(ValidateWarrantyForm(), {**COVERED_FACTS, "serial_number": serial_of(service, chat, "AK1000010")})
    assert chat.slot_events()["requested_slot"] is None
    before = counts()
    chat.run(ActionPreviewWarranty())
    assert counts() == before
    assert chat.responses[0] == "utter_warranty_covered"
    assert "WAR-1" in chat.messages[0]["custom"]["decision"]["clauses"]
    assert chat.responses[-1] == "utter_confirm_warranty"
    chat.run(ActionOpenWarrantyClaim())
    assert chat.responses[0] == "utter_case_opened"
    assert chat.messages[0]["case_id"].startswith("WAR-")


@pytest.mark.parametrize(
    "cause,code",
    [
        ("wear", "normal_wear"),
        ("misuse", "misuse"),
        ("lost_or_stolen", "lost_or_stolen"),
        ("third_party_repair", "third_party_repair"),
    ],
)
def test_exclusions_are_explained_and_nothing_is_offered(chat, service, counts, cause, code):
    chat.run(ValidateWarrantyForm(), AVA)
    chat.run(
        ValidateWarrantyForm(),
        {**COVERED_FACTS, "defect_cause": cause, "serial_number": serial_of(service, chat, "AK1000010")},
    )
    before = counts()
    chat.run(ActionPreviewWarranty())
    assert f"utter_warranty_{code}" in chat.responses
    assert "utter_confirm_warranty" not in chat.responses
    assert chat.slots["pending_confirmation"] is None
    assert counts() == before


def test_troubleshooting_not_done_points_to_the_smart_help_center(chat, service):
    chat.run(ValidateWarrantyForm(), AVA)
    chat.run(
        ValidateWarrantyForm(),
        {**COVERED_FACTS, "troubleshooting_done": False, "serial_number": serial_of(service, chat, "AK1000010")},
    )
    chat.run(ActionPreviewWarranty())
    assert "utter_warranty_troubleshoot_first" in chat.responses
    assert "utter_next_step_smart_help_center" in chat.responses


def test_used_outside_the_country_of_purchase(chat, service):
    chat.run(ValidateWarrantyForm(), HENRY)
    chat.run(
        ValidateWarrantyForm(),
        {**COVERED_FACTS, "country_now": "us", "serial_number": serial_of(service, chat, "AK1000018")},
    )
    chat.run(ActionPreviewWarranty())
    assert "utter_warranty_outside_country_of_purchase" in chat.responses
