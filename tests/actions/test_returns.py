"""The return form, the preview (no write), the explicit "yes" and the case (RET-1..12, REF-1..3)."""

from __future__ import annotations

from actions.conversation import ActionAbandonRequest, ActionAskOrderLine
from actions.returns import ActionOpenReturn, ActionPreviewReturn, ValidateReturnForm

EMMA = {"order_number": "AK1000003", "email": "emma.twenty@example.com"}  # 2 lines, 20 days ago
NOAH = {"order_number": "AK1000004", "email": "noah.late@example.com"}  # 31 days ago
BULK = {"order_number": "AK1000005", "email": "bulk.buyer@example.com"}  # 11 cables


def fill(chat, identity, **facts):
    chat.active_loop = "return_form"
    chat.run(ValidateReturnForm(), identity)
    for slot, value in facts.items():
        chat.run(ValidateReturnForm(), {slot: value})
    return chat


def test_multi_line_order_asks_which_item_with_the_line_names_as_buttons(chat, service):
    chat.active_loop = "return_form"
    chat.run(ValidateReturnForm(), EMMA)
    assert chat.slot_events()["requested_slot"] == "order_line"
    chat.run(ActionAskOrderLine())
    assert chat.responses == ["utter_ask_order_line_2"]
    message = chat.message("utter_ask_order_line_2")
    names = {line.name for line in service.order_overview(chat.sender_id, "AK1000003").lines}
    assert {message["line_1_name"], message["line_2_name"]} == names
    assert {message["line_1_id"], message["line_2_id"]} == {"1", "2"}


def test_the_item_can_be_named_instead_of_clicked(chat, service):
    fill(chat, EMMA, order_line="the cable")
    line = next(
        candidate
        for candidate in service.order_overview(chat.sender_id, "AK1000003").lines
        if "Cable" in candidate.name
    )
    assert chat.slots["order_line"] == str(line.line_id)


def test_an_unknown_item_gets_a_hint(chat, service):
    fill(chat, EMMA, order_line="a toaster")
    assert "utter_invalid_order_line" in chat.responses
    assert chat.slots["order_line"] is None
    assert chat.slot_events()["requested_slot"] == "order_line"


def test_everything_in_one_message_is_used_without_asking_again(chat, service):
    chat.active_loop = "return_form"
    chat.run(ValidateReturnForm(), {**EMMA, "order_line": "1", "item_condition": "unopened", "quality_issue": False})
    assert chat.slot_events()["requested_slot"] is None
    assert chat.slots["quantity"] == "1"  # one unit on that line: not asked


def test_condition_validation_hint_and_normalisation(chat, service):
    fill(chat, EMMA, order_line="1")
    chat.run(ValidateReturnForm(), {"item_condition": "it's a bit scratched"})
    assert chat.responses == ["utter_invalid_item_condition"]
    chat.run(ValidateReturnForm(), {"item_condition": "Undamaged"})
    assert chat.slots["item_condition"] == "undamaged"
    assert chat.slot_events()["requested_slot"] == "quality_issue"


def test_quantity_is_asked_for_a_line_with_several_units_and_capped(chat, service):
    fill(chat, BULK)
    assert chat.slot_events()["requested_slot"] == "quantity"
    chat.run(ValidateReturnForm(), {"quantity": "50"})
    assert "utter_invalid_quantity" in chat.responses and chat.slots["quantity"] is None
    chat.run(ValidateReturnForm(), {"quantity": "two"})
    assert chat.slots["quantity"] == "2"


def test_approved_return_preview_writes_nothing_then_yes_opens_the_case(chat, service, counts):
    fill(chat, EMMA, order_line="1", item_condition="undamaged", quality_issue=False)
    before = counts()
    chat.run(ActionPreviewReturn())
    assert counts() == before
    assert chat.responses[0] == "utter_return_return_eligible"
    assert chat.messages[0]["custom"]["decision"]["outcome"] == "approved"
    assert "RET-1" in chat.messages[0]["custom"]["decision"]["clauses"]
    assert "utter_next_step_refund_expected" in chat.responses
    assert chat.responses[-1] == "utter_confirm_return"
    assert chat.slots["pending_confirmation"] == "return"

    chat.run(ActionOpenReturn())
    assert chat.responses[0] == "utter_case_opened"
    case_id = chat.messages[0]["case_id"]
    assert case_id.startswith("RET-")
    assert chat.messages[0]["custom"]["decision"]["case_id"] == case_id
    assert chat.slots["pending_confirmation"] is None and chat.slots["item_condition"] is None


def test_asking_twice_gives_the_same_case(chat, service):
    fill(chat, EMMA, order_line="1", item_condition="undamaged", quality_issue=False)
    chat.run(ActionPreviewReturn())
    chat.run(ActionOpenReturn())
    first = chat.messages[0]["case_id"]
    fill(chat, EMMA, order_line="1", item_condition="undamaged", quality_issue=False)
    chat.run(ActionPreviewReturn())
    chat.run(ActionOpenReturn())
    assert chat.responses[0] == "utter_case_already_open"
    assert chat.messages[0]["case_id"] == first


def test_window_passed_is_explained_and_nothing_is_offered_to_open(chat, service, counts):
    fill(chat, NOAH, order_line="1", item_condition="undamaged", quality_issue=False)
    before = counts()
    chat.run(ActionPreviewReturn())
    assert chat.responses[0] == "utter_return_return_window_passed"
    assert chat.messages[0]["deadline"]
    assert "utter_confirm_return" not in chat.responses
    assert chat.slots["pending_confirmation"] is None
    chat.run(ActionOpenReturn())  # a stray "yes" cannot open anything
    assert chat.messages == []
    assert counts() == before


def test_no_at_the_confirmation_writes_nothing(chat, service, counts):
    fill(chat, EMMA, order_line="1", item_condition="undamaged", quality_issue=False)
    chat.run(ActionPreviewReturn())
    before = counts()
    chat.run(ActionAbandonRequest())
    assert chat.responses == ["utter_request_abandoned"]
    assert chat.slots["pending_confirmation"] is None
    chat.run(ActionOpenReturn())
    assert chat.messages == []
    assert counts() == before


def test_incomplete_request_is_not_previewed(chat, service):
    fill(chat, EMMA, order_line="1")
    chat.run(ActionPreviewReturn())
    assert chat.messages == []


def test_a_turn_without_any_fact_returns_nothing_so_the_form_is_rejected(chat, service):
    """A side question mid-form: the validator must not answer, or Rasa would not let the rules handle it."""
    fill(chat, EMMA, order_line="1")
    events = chat.run(ValidateReturnForm(), {}, intent="faq", text="what is your return window?")
    assert events == [] and chat.messages == []
