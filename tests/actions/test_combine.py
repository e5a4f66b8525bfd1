"""Several responses as one message (``actions/combine.py``, issue 15 item 7): the wording only from ``domain.yml``,
every placeholder filled or the parts sent one by one, the parts named in order."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.combine import fill, render, utter_parts

DOMAIN = {
    "responses": {
        "utter_a": [{"text": "Return approved for {product}."}],
        "utter_b": [{"text": "Refund of {amount} by {due}."}],
        "utter_c": [
            {"text": "Ship it back to {country_now}.", "buttons": [{"title": "OK {case_id}", "payload": "/affirm"}]}
        ],
        "utter_two_variations": [{"text": "One."}, {"text": "Two."}],
    }
}


def test_fill_uses_values_and_refuses_to_leave_a_placeholder():
    assert fill("Refund of {amount}.", {"amount": "$12.00"}) == "Refund of $12.00."
    assert fill("Refund of {amount} by {due}.", {"amount": "$12.00"}) is None
    # a value is inserted as it is, never read as a template itself
    assert fill("{product}", {"product": "{amount}"}) == "{amount}"


def test_render_only_names_in_the_domain_with_one_variation():
    assert render(DOMAIN, "utter_a", {"product": "PowerCore"}) == {
        "text": "Return approved for PowerCore.",
        "buttons": [],
    }
    assert render(DOMAIN, "utter_missing", {}) is None
    assert render(DOMAIN, "utter_two_variations", {}) is None  # Rasa chooses among variations: left to Rasa


def test_parts_become_one_message_naming_every_part_with_the_payload_on_it():
    dispatcher = CollectingDispatcher()
    parts = [("utter_a", {"product": "PowerCore"}), ("utter_b", {"amount": "$12.00", "due": "Friday 12 December 2026"})]
    utter_parts(dispatcher, DOMAIN, parts, json_message={"decision": {"topic": "return"}})
    [message] = dispatcher.messages
    assert message["text"] == "Return approved for PowerCore.\nRefund of $12.00 by Friday 12 December 2026."
    assert message["response"] == "utter_a" and message["utter_parts"] == ["utter_a", "utter_b"]
    assert message["custom"] == {"decision": {"topic": "return"}}
    assert message["product"] == "PowerCore"  # the first part's values: Rasa renders ``response`` with them


def test_slots_fill_what_the_values_do_not_and_later_buttons_go_along():
    dispatcher = CollectingDispatcher()
    utter_parts(
        dispatcher, DOMAIN, [("utter_a", {"product": "X"}), ("utter_c", {"case_id": "RET-1"})], {"country_now": "US"}
    )
    [message] = dispatcher.messages
    assert message["text"].endswith("Ship it back to US.")
    assert message["buttons"] == [{"title": "OK RET-1", "payload": "/affirm"}]


def test_a_part_that_cannot_be_filled_sends_every_part_by_name_as_rasa_would():
    dispatcher = CollectingDispatcher()
    utter_parts(
        dispatcher, DOMAIN, [("utter_a", {"product": "X"}), ("utter_b", {"amount": "$1.00"})], json_message={"k": 1}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_a", "utter_b"]
    assert [m.get("text") for m in dispatcher.messages] == [None, None]  # Rasa fills them
    assert dispatcher.messages[0]["custom"] == {"k": 1} and not dispatcher.messages[1]["custom"]


def test_one_part_is_sent_as_it_always_was():
    dispatcher = CollectingDispatcher()
    utter_parts(dispatcher, DOMAIN, [("utter_b", {"amount": "$1.00", "due": "today"})])
    [message] = dispatcher.messages
    assert message["response"] == "utter_b" and message.get("text") is None and "utter_parts" not in message
