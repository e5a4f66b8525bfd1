"""'Thanks, I've found order AK...' (issue 15, item 7): when the email is the last thing the form needs, the decision
follows in the same turn, and the acknowledgement opens its first message instead of being a bubble of its own, so a
cancellation turn is three messages (found + decision, next steps, the question), not four."""

from __future__ import annotations

from actions.cancellation import ActionPreviewCancellation, ValidateCancelForm
from actions.returns import ValidateReturnForm

OLIVIA = {"order_number": "AK1000001", "email": "olivia.fresh@example.com"}


def test_the_form_that_ends_holds_the_acknowledgement_and_the_decision_opens_with_it(chat, service):
    chat.active_loop = "cancel_form"
    chat.run(ValidateCancelForm(), OLIVIA)
    assert chat.responses == [] and chat.slots["verified"] is True
    chat.run(ActionPreviewCancellation(), {"verified": True})  # the slot events since the customer's message
    first = chat.messages[0]
    assert first["utter_parts"][0] == "utter_identity_verified" and first["response"] == "utter_identity_verified"
    assert first["text"].splitlines()[0] == "Thanks, I've found order AK1000001."
    assert first["custom"]["decision"]["topic"] == "cancellation"  # the payload stays on the first message
    assert len(chat.messages) <= 3 and chat.responses[-1] == "utter_confirm_cancellation"


def test_a_decision_in_a_later_turn_has_no_acknowledgement(chat, service):
    chat.active_loop = "cancel_form"
    chat.run(ValidateCancelForm(), OLIVIA)
    chat.run(ActionPreviewCancellation())  # verified in an earlier turn
    assert "utter_identity_verified" not in chat.responses


def test_a_form_with_more_to_ask_acknowledges_at_once(chat, service):
    chat.active_loop = "return_form"
    chat.run(ValidateReturnForm(), {"order_number": "AK1000003", "email": "emma.twenty@example.com"})
    assert chat.responses == ["utter_identity_verified"]  # then "which item?"
    assert chat.slot_events()["requested_slot"] == "order_line"
