"""Facts in any order (issue 15, item 3): what the customer states while answering another question is kept for the
form's open slots, and an answer that was only such a fact is noted, not rejected as a bad value."""

from __future__ import annotations

from actions.returns import ValidateReturnForm
from actions.side_facts import side_facts
from actions.warranty import ValidateWarrantyForm

AVA = {"order_number": "AK1000010", "email": "ava.solix@example.com"}


def test_troubleshooting_told_instead_of_the_serial_number_is_kept_not_rejected(chat, service):
    chat.run(ValidateWarrantyForm(), AVA)
    chat.run(ValidateWarrantyForm(), {"order_line": "1"})
    assert chat.slot_events()["requested_slot"] == "serial_number"
    chat.slots["validation_failures"] = 2.0
    chat.run(ValidateWarrantyForm(), {"serial_number": "I tried resetting it and a different cable, still dead"})
    assert chat.responses == ["utter_fact_noted"]  # not "that doesn't look like a serial number"
    assert chat.slots["troubleshooting_done"] is True and chat.slots["serial_number"] is None
    assert chat.slots["validation_failures"] == 2.0 and chat.slots.get("retry_slot") is None  # no failure counted
    assert chat.slot_events()["requested_slot"] == "serial_number"


def test_a_real_bad_answer_still_gets_its_hint(chat, service):
    chat.run(ValidateWarrantyForm(), {**AVA, "order_line": "1"})
    chat.run(ValidateWarrantyForm(), {"serial_number": "purple"})
    assert chat.responses == ["utter_invalid_serial_number"]
    assert chat.slots.get("troubleshooting_done") is None


def test_the_condition_said_with_another_answer_is_kept(chat, service):
    chat.run(ValidateReturnForm(), {"order_number": "AK1000003", "email": "emma.twenty@example.com"})
    requested = chat.slot_events()["requested_slot"]
    chat.run(ValidateReturnForm(), {requested: "the first one, it's still sealed in its box"})
    assert chat.slots["item_condition"] == "unopened"


def test_side_facts_read_only_the_slots_asked_for():
    text = "tried another cable, box is unopened"
    assert side_facts(text, ["troubleshooting_done"]) == {"troubleshooting_done": True}
    assert side_facts(text, ["item_condition"]) == {"item_condition": "unopened"}
    assert side_facts("it is not damaged at all", ["item_condition"]) == {"item_condition": "undamaged"}
    assert side_facts("AK1234567", ["troubleshooting_done", "item_condition"]) == {}
    assert side_facts(None, ["item_condition"]) == {}


def test_a_bare_number_for_which_item_is_the_item_not_a_quantity(chat, service):
    """Found in a dialogue test: "2" to "which item?" was also read as two units of a one-unit line, and the customer
    was told "no more than you ordered" and asked how many."""
    chat.active_loop = "return_form"
    chat.run(ValidateReturnForm(), {"order_number": "AK1000003", "email": "emma.twenty@example.com"})
    assert chat.slot_events()["requested_slot"] == "order_line"
    chat.run(ValidateReturnForm(), {"order_line": "2", "quantity": "2"}, text="2")
    assert "utter_invalid_quantity" not in chat.responses
    assert chat.slots["order_line"] == "2" and chat.slots["quantity"] == "1"  # the line has one unit
    assert chat.slot_events()["requested_slot"] != "quantity"


def test_a_quantity_said_with_the_item_is_still_checked(chat, service):
    chat.active_loop = "return_form"
    chat.run(ValidateReturnForm(), {"order_number": "AK1000003", "email": "emma.twenty@example.com"})
    chat.run(ValidateReturnForm(), {"order_line": "2", "quantity": "2"}, text="2 of the cable")
    assert "utter_invalid_quantity" in chat.responses
