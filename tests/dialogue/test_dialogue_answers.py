"""Answers a person reads (issue 15, item 7), through the real Rasa server and action server: a decision turn is at
most three messages (the decision, what happens next, the question; the verification's acknowledgement opens the
first when the email was the last fact needed), the decision payload rides on the first, dates
are written as people write them and amounts carry their currency.  Before item 7 an approved return arrived as one
message per reason and per next step (eight for a return), and the refund in processing as five."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.dialogue.dialogue_client import verify
from tests.dialogue.test_dialogue_flows import fill_form

ROOT = Path(__file__).resolve().parents[2]
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
HUMAN_DATE = re.compile(r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} [A-Z][a-z]+ \d{4}")


#: "Thanks, I've found order {order_number}.": when the email was the last fact needed, it opens the decision's message
VERIFIED = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_identity_verified"][0]["text"]


def assert_reads_well(customer, at_most: int = 3) -> dict:
    turn = customer.turns[-1]
    messages = turn.messages
    texts = turn.texts
    # Rasa's output channels send a message's text, then its custom payload: the REST list has the first text and the
    # decision next to each other, then the other texts
    assert 1 <= len(texts) <= at_most, customer.transcript()
    assert messages[0].get("text") and (messages[1].get("custom") or {}).get("decision"), turn.messages
    for text in turn.texts:
        assert not ISO_DATE.search(text), text
        assert "{" not in text and "}" not in text, f"a placeholder left unfilled: {text}"
    return turn.decision


def test_a_return_preview_is_the_decision_the_next_steps_and_the_question(customer, support_db):
    customer.says("I want to return the cable from my order")
    verify(customer, "AK1000003", "emma.twenty@example.com")  # line 1 is returned in test_dialogue_flows
    before = support_db.cases("return_cases", "AK1000003")
    fill_form(customer, {"order_line": "2", "quantity": "1", "item_condition": "unopened", "quality_issue": "no"})
    decision = assert_reads_well(customer)
    assert decision["topic"] == "return" and decision["outcome"] == "approved", customer.transcript()
    assert len(decision["reasons"]) + len(decision["next_steps"]) > 3, "a decision with more parts than bubbles"
    responses = customer.responses()
    # every reason and next step is still told (by name), then the question, last
    for code in decision["reasons"]:
        assert f"utter_return_{code}" in responses, responses
    assert responses[-1] == "utter_confirm_return"
    assert customer.turns[-1].messages[-1]["text"] and customer.slots()["pending_confirmation"] == "return"
    assert support_db.cases("return_cases", "AK1000003") == before, "a preview writes nothing"


def test_a_refund_in_processing_is_two_messages_with_dates_and_the_amount_in_dollars(customer):
    customer.says("where is my refund?")
    verify(customer, "AK1000016", "grace.refunds@example.com")
    decision = assert_reads_well(customer, at_most=2)
    assert decision["topic"] == "refund" and "REF-3" in decision["clauses"], customer.transcript()
    # the email was the last fact the form needed: "found your order" opens the decision's message, no bubble of its own
    assert customer.turns[-1].texts[0].startswith(VERIFIED.split("{")[0] + "AK1000016"), customer.transcript()
    said = "\n".join(customer.turns[-1].texts)
    assert "$" in said, said
    assert HUMAN_DATE.search(said), said
