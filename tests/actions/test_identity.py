"""Identity first (RET-4): verification by order number + purchase email, the same answer for an unknown order and a
wrong email, lock-out after the policy file's figure (the service's answer: the bot counts nothing itself), and no
credential in the conversation's slots (issue 12): the verification is a grant the service keeps."""

from __future__ import annotations

import pytest

from actions.cancellation import ActionPreviewCancellation, ValidateCancelForm
from actions.conversation import ActionAskOrderLine
from actions.returns import ValidateReturnForm
from tests.support.store import repository_policy

#: the one lock-out figure, policy/policy.yml identity.max_failed_attempts (RET-4)
MAX_IDENTITY_FAILURES = repository_policy().identity.max_failed_attempts

GOOD = {"order_number": "AK1000001", "email": "olivia.fresh@example.com"}


def test_verified_identity_asks_nothing_more_for_a_cancellation_and_stores_no_credential(chat, service):
    chat.active_loop = "cancel_form"
    chat.run(ValidateCancelForm(), GOOD)
    assert chat.slots["verified"] is True and "identity_token" not in chat.slots
    assert set(chat.slot_events()) <= {
        "order_number",
        "email",
        "verified",
        "verified_identity",
        "identity_failures",
        "verification_pending",
        "verification_code",
        "validation_failures",
        "requested_slot",
    }
    assert chat.responses == []  # the form is complete: "found your order" opens the decision (test_acknowledgement)
    assert chat.slot_events()["requested_slot"] is None


def test_order_number_and_email_are_normalised(chat, service):
    chat.run(ValidateCancelForm(), {"order_number": "my order is ak 1000001", "email": "Olivia.Fresh@Example.com"})
    assert chat.slots["order_number"] == "AK1000001"
    assert chat.slots["email"] == "olivia.fresh@example.com"
    assert chat.slots["verified"] is True


def test_the_form_asks_the_order_number_first_then_the_email(chat, service):
    chat.run(ValidateReturnForm(), {"email": "olivia.fresh@example.com"})
    assert chat.slot_events()["requested_slot"] == "order_number"
    assert chat.slots["verified"] is False


@pytest.mark.parametrize(
    "order_number,email",
    [
        ("AK1000001", "someone.else@example.com"),  # wrong email
        ("AK9999999", "olivia.fresh@example.com"),  # unknown order
    ],
)
def test_unknown_order_and_wrong_email_get_the_same_generic_answer(chat, service, order_number, email):
    chat.run(ValidateCancelForm(), {"order_number": order_number, "email": email})
    assert chat.responses == ["utter_identity_not_verified"]
    assert chat.slots["verified"] is False
    assert chat.slots["email"] is None
    assert chat.slot_events()["requested_slot"] == "email"


def test_the_policy_figure_of_wrong_emails_locks_out_with_contacts_and_ends_the_form(chat, service):
    for attempt in range(1, MAX_IDENTITY_FAILURES + 1):
        chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": f"wrong{attempt}@example.com"})
    assert "utter_identity_locked_out" in chat.responses
    assert "utter_contact_contact_channels" in chat.responses
    assert chat.slot_events()["requested_slot"] is None
    # even the right email does not verify now, in this conversation: only a one-time code to the purchase email
    # can (issue 12, tests/actions/test_identity_step_up.py)
    chat.run(ValidateCancelForm(), GOOD)
    assert chat.responses[0] == "utter_identity_code_sent"
    assert chat.slots["verified"] is False
    assert chat.slot_events()["requested_slot"] == "verification_code"


def test_the_bot_locks_out_exactly_at_the_policy_figure(chat, service):
    """One lock-out figure (issue 12): not after 3 like the old constant, but after identity.max_failed_attempts."""
    for attempt in range(1, MAX_IDENTITY_FAILURES):
        chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": f"wrong{attempt}@example.com"})
        assert chat.responses == ["utter_identity_not_verified"], attempt
    chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": "last@example.com"})
    assert chat.responses[0] == "utter_identity_locked_out"


def test_the_locked_out_form_ends_without_any_decision(chat, service, counts):
    for attempt in range(MAX_IDENTITY_FAILURES):
        chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": f"wrong{attempt}@example.com"})
    before = counts()
    chat.run(ActionPreviewCancellation())
    assert chat.messages == []
    assert counts() == before


def test_malformed_values_get_a_hint_and_are_not_sent_to_the_service(chat, service, counts):
    before = counts()
    chat.run(ValidateCancelForm(), {"order_number": "12345"})
    assert chat.responses == ["utter_invalid_order_number"]
    assert chat.slots["order_number"] is None
    chat.run(ValidateCancelForm(), {"email": "not an email"})
    assert chat.responses == ["utter_invalid_email"]
    assert counts() == before  # no verification attempt was recorded


def test_three_invalid_answers_offer_a_way_out_instead_of_the_same_question(chat, service):
    """Issue 15, item 3: the third failure's question is the offer (a person, stop, try once more), not the failed
    question again in the same turn."""
    for _ in range(3):
        chat.run(ValidateCancelForm(), {"order_number": "no idea"})
    assert chat.responses == ["utter_invalid_order_number"]
    assert chat.slot_events()["requested_slot"] == "handoff_choice"  # Rasa asks utter_ask_handoff_choice
    buttons = [b["payload"] for b in chat.domain["responses"]["utter_ask_handoff_choice"][0]["buttons"]]
    assert {"/human_handoff", "/stop", "/affirm"} <= set(buttons)


def test_after_the_offer_a_valid_answer_is_kept_for_the_failed_question(chat, service):
    for _ in range(3):
        chat.run(ValidateCancelForm(), {"order_number": "no idea"})
    chat.run(ValidateCancelForm(), {"handoff_choice": "oh wait, it's AK1000001"})
    assert chat.slots["order_number"] == "AK1000001" and chat.slots["retry_slot"] is None
    assert chat.slot_events()["requested_slot"] == "email" and chat.messages == []


def test_try_once_more_asks_the_failed_question_again_with_no_failure_counted(chat, service):
    for _ in range(3):
        chat.run(ValidateCancelForm(), {"order_number": "no idea"})
    chat.run(ValidateCancelForm(), {"handoff_choice": "/affirm"})
    assert chat.slot_events()["requested_slot"] == "order_number" and chat.messages == []
    assert chat.slots["validation_failures"] == 0 and chat.slots["retry_slot"] is None


def test_a_correction_reverifies(chat, service):
    chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": "olivia.fresh@exmaple.com"})
    assert chat.slots["verified"] is False
    chat.run(ValidateCancelForm(), {"email": "sorry, my email is olivia.fresh@example.com"})
    assert chat.slots["verified"] is True


def test_changing_the_order_number_after_verification_drops_the_token(chat, service):
    chat.run(ValidateCancelForm(), GOOD)
    chat.run(ValidateCancelForm(), {"order_number": "AK1000002"})
    assert chat.slots["verified"] is False
    assert chat.slot_events()["requested_slot"] == "email"


def test_a_forged_verified_slot_does_not_verify_anything(chat, service):
    """Slots only the action server sets: even if ``verified`` got into the slots, the service re-checks its grant."""
    chat.run(
        ActionPreviewCancellation(),
        {
            "order_number": "AK1000001",
            "email": "olivia.fresh@example.com",
            "verified": True,
            "verified_identity": "AK1000001|olivia.fresh@example.com",
        },
    )
    assert chat.responses == ["utter_identity_required"]
    assert chat.slots["verified"] is False


def test_order_lines_are_not_listed_before_verification(chat, service):
    chat.run(ActionAskOrderLine(), {"order_number": "AK1000003", "email": "emma.twenty@example.com"})
    assert chat.responses == ["utter_identity_required"]


def test_identity_slots_have_only_custom_mappings(domain):
    for name in ("verification_pending", "verified", "verified_identity", "identity_failures", "pending_confirmation"):
        assert [m["type"] for m in domain["slots"][name]["mappings"]] == ["custom"], name
    assert domain["slots"]["verification_pending"]["influence_conversation"] is False
    assert "identity_token" not in domain["slots"]  # issue 12: no credential in the tracker
    assert "verification_pending" not in domain["entities"] and "verified" not in domain["entities"]


def test_a_second_order_with_another_email_asks_for_that_email_without_counting_a_failure(chat, service):
    chat.run(ValidateCancelForm(), GOOD)
    chat.run(ValidateCancelForm(), {"order_number": "AK1000016"})  # grace's order, olivia's email carried over
    assert chat.responses == []
    assert chat.slots["email"] is None and chat.slots["verified"] is False
    assert chat.slot_events()["requested_slot"] == "email"
    assert not chat.slots["identity_failures"]
    chat.run(ValidateCancelForm(), {"email": "grace.refunds@example.com"})
    assert chat.slots["verified"] is True


def test_a_second_order_with_the_same_email_is_verified_at_once(chat, service):
    chat.run(ValidateCancelForm(), {"order_number": "AK1000014", "email": "grace.refunds@example.com"})
    chat.run(ValidateCancelForm(), {"order_number": "AK1000016"})
    assert chat.slots["verified"] is True
    assert chat.slots["verified_identity"] == "AK1000016|grace.refunds@example.com"
