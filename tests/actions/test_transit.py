"""Parcels lost, damaged or late (INS-1, INS-2, REF-4): the problem, an explicit yes, then the claim."""

from __future__ import annotations

from actions.conversation import ActionAbandonRequest
from actions.transit import ActionConfirmTransit, ActionOpenTransitClaim, ValidateTransitForm

ZOE = {"order_number": "AK1000012", "email": "zoe.worryfree@example.com"}


def test_problem_is_validated_with_a_hint(chat, service):
    chat.run(ValidateTransitForm(), ZOE)
    assert chat.slot_events()["requested_slot"] == "transit_problem"
    chat.run(ValidateTransitForm(), {"transit_problem": "it is purple"})
    assert chat.responses == ["utter_invalid_transit_problem"]
    chat.run(ValidateTransitForm(), {"transit_problem": "I think it got lost"})
    assert chat.slots["transit_problem"] == "lost"
    assert chat.slot_events()["requested_slot"] is None


def test_confirmation_before_the_claim_is_written(chat, service, counts):
    chat.run(ValidateTransitForm(), {**ZOE, "transit_problem": "lost"})
    before = counts()
    chat.run(ActionConfirmTransit())
    # issue 15, item 5: the decision the claim would get comes before the question, and nothing is written
    assert chat.responses[0] == "utter_transit_worry_free_covered"
    assert chat.messages[0]["custom"]["decision"]["case_id"] is None
    assert "INS-1" in chat.messages[0]["custom"]["decision"]["clauses"]
    assert chat.responses[-1] == "utter_confirm_transit"
    assert chat.slots["pending_confirmation"] == "transit"
    assert counts() == before
    chat.run(ActionOpenTransitClaim())
    assert chat.responses[0] == "utter_case_opened"
    assert chat.messages[0]["case_id"].startswith("INS-")
    assert chat.messages[0]["custom"]["decision"]["reasons"][0] == "worry_free_covered"


def test_no_at_the_confirmation_writes_nothing(chat, service, counts):
    chat.run(ValidateTransitForm(), {**ZOE, "transit_problem": "delayed"})
    chat.run(ActionConfirmTransit())
    before = counts()
    chat.run(ActionAbandonRequest())
    chat.run(ActionOpenTransitClaim())
    assert chat.messages == [] and counts() == before


def test_shipping_insurance_means_one_compensation(chat, service):
    chat.run(
        ValidateTransitForm(),
        {"order_number": "AK1000013", "email": "lucas.insured@example.com", "transit_problem": "damaged"},
    )
    chat.run(ActionConfirmTransit())
    chat.run(ActionOpenTransitClaim())
    reasons = chat.messages[0]["custom"]["decision"]["reasons"]
    assert "single_compensation_with_shipping_insurance" in reasons


def test_without_worry_free_the_preview_says_so_before_asking_to_send_it_for_review_INS_1(chat, service, counts):
    """INS-1: an order without Worry-Free insurance: the preview tells it (a person reviews the claim), then asks."""
    chat.run(
        ValidateTransitForm(),
        {"order_number": "AK1000034", "email": "ruby.waiting@example.com", "transit_problem": "delayed"},
    )
    before = counts()
    chat.run(ActionConfirmTransit())
    decision = chat.messages[0]["custom"]["decision"]
    assert decision["topic"] == "transit" and decision["outcome"] == "needs_review", decision
    assert chat.responses[0] == "utter_transit_no_worry_free_insurance"
    assert chat.responses[-1] == "utter_confirm_transit" and chat.slots["pending_confirmation"] == "transit"
    assert counts() == before


def test_typed_problems_are_understood(chat, service):
    for typed, expected in [
        ("it never arrived", "lost"),
        ("the box came crushed", "damaged"),
        ("it's still not here yet, late", "delayed"),
    ]:
        chat.run(ValidateTransitForm(), {"transit_problem": typed})
        assert chat.slots["transit_problem"] == expected, typed
