"""FAQ answers quote the policy file; handoff gives the contacts (CON-1); backend errors stay generic; fallback."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from actions.conversation import ActionAbandonRequest, ActionAskAffirmation
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionHandoff
from actions.refunds import ActionRefundStatus, ValidateRefundForm
from actions.service import set_service
from policy_engine.service import SupportService
from policy_engine.store import make_session_factory
from tests.actions.conftest import load_domain

FAQ_KEYS = [name[len("utter_") :] for name in load_domain()["responses"] if "/" in name]


def selector(key: str) -> dict:
    intent = key.split("/")[0]
    return {"response_selector": {intent: {"response": {"intent_response_key": key}}}}


@pytest.mark.parametrize("key", FAQ_KEYS)
def test_every_faq_key_is_answered_with_the_policy_figures(chat, service, key):
    intent = key.split("/")[0]
    chat.run(ActionAnswerFaq(), intent=intent, extra=selector(key))
    assert chat.responses == [f"utter_{key}"]


def test_changing_the_policy_file_changes_the_answer(chat, service, engine):
    policy = service.policy
    longer = dataclasses.replace(policy, returns=dataclasses.replace(policy.returns, return_window_days=45))
    set_service(SupportService(make_session_factory(engine), longer, service.now))
    chat.run(ActionAnswerFaq(), intent="faq", extra=selector("faq/return_window"))
    assert chat.messages[0]["return_window_days"] == "45"


def test_a_full_retrieval_intent_name_also_works(chat, service):
    chat.run(ActionAnswerFaq(), intent="credits_faq/expiry")
    assert chat.responses == ["utter_credits_faq/expiry"]
    assert chat.messages[0]["credits_expiry_days"] == str(service.policy.credits.expiry_days)


def test_unknown_faq_key_asks_to_rephrase(chat, service):
    chat.run(ActionAnswerFaq(), intent="faq", extra=selector("faq/unicorns"))
    assert chat.responses == ["utter_ask_rephrase"]


def test_faq_keys_of_the_contract_all_have_answers(domain):
    contract = {
        "faq/" + k
        for k in [
            "return_window",
            "bulk_corporate",
            "mystery_box",
            "warranty_abroad",
            "extended_warranty",
            "refund_timing",
            "contact_hours",
            "proof_of_purchase",
            "warranty_not_covered",
            "warranty_period",
            "how_to_return",
            "worry_free",
        ]
    }
    contract |= {
        "credits_faq/" + k
        for k in [
            "how_to_earn",
            "when_credited",
            "expiry",
            "redeem",
            "reversed",
            "eligibility",
            "cash_value",
            "merge_accounts",
        ]
    }
    assert contract <= set(FAQ_KEYS)


def test_handoff_stops_the_request_and_queues_for_a_person_in_live_chat_hours(chat, service):
    """CON-1 (issue 17): the test clock is a Wednesday 11:00 in Los Angeles: an agent joins (tests/actions/
    test_handoff.py has the rest)."""
    chat.run(ActionHandoff(), {"item_condition": "damaged", "pending_confirmation": "return"})
    assert chat.responses == ["utter_handoff_agent_joining"]
    assert chat.messages[0]["custom"]["decision"]["clauses"] == ["CON-1"]
    assert chat.slots["pending_confirmation"] is None and chat.slots["item_condition"] is None


def test_stop_drops_the_pending_request(chat, service):
    chat.run(ActionAbandonRequest(), {"pending_confirmation": "warranty", "defect": "broken"})
    assert chat.responses == ["utter_request_abandoned"]
    assert chat.slots["pending_confirmation"] is None and chat.slots["defect"] is None


class Broken:
    """A service whose every call fails like a database outage would."""

    policy = None

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise RuntimeError("connection refused: postgresql://secret@db/support")

        return fail


def test_backend_errors_are_logged_and_never_shown(chat, service, caplog):
    chat.run(ValidateRefundForm(), {"order_number": "AK1000016", "email": "grace.refunds@example.com"})
    set_service(Broken())
    with caplog.at_level(logging.ERROR):
        chat.run(ActionRefundStatus())
    assert chat.responses == ["utter_backend_error"]
    assert all("secret" not in str(m) for m in chat.messages)
    assert "connection refused" in caplog.text


def test_backend_error_during_verification_ends_the_form_generically(chat, service):
    set_service(Broken())
    chat.run(ValidateRefundForm(), {"order_number": "AK1000016", "email": "grace.refunds@example.com"})
    assert chat.responses == ["utter_backend_error"]
    assert chat.slot_events()["requested_slot"] is None
    assert chat.slots["verified"] is False


def test_backend_error_in_handoff_still_answers(chat, service):
    set_service(Broken())
    chat.run(ActionHandoff())
    assert chat.responses == ["utter_backend_error"]
    assert not [e for e in chat.events if e.get("event") == "pause"]  # the bot stays on


@pytest.mark.parametrize(
    "intent,ranking,expected",
    [
        ("request_return", [], "utter_ask_affirmation_request_return"),
        ("nlu_fallback", [{"name": "nlu_fallback"}, {"name": "cancel_order"}], "utter_ask_affirmation_cancel_order"),
        ("greet", [], "utter_ask_rephrase"),
    ],
)
def test_fallback_asks_did_you_mean_by_intent(chat, service, intent, ranking, expected):
    chat.run(ActionAskAffirmation(), intent=intent, extra={"intent_ranking": ranking})
    assert chat.responses == [expected]


def test_a_message_held_back_between_several_flows_gets_a_choice_of_them_and_something_else(chat, service, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "order_status", "confidence": 0.38},
        {"name": "parcel_issue", "confidence": 0.28},
        {"name": "inform", "confidence": 0.2},  # not a flow: no button
        {"name": "case_status", "confidence": 0.11},
        {"name": "cancel_order", "confidence": 0.03},  # too unlikely to offer
    ]
    chat.run(ActionAskAffirmation(), intent="nlu_fallback", extra={"intent_ranking": ranking})
    assert chat.responses == ["utter_ask_which_request"]
    buttons = chat.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/order_status", "/parcel_issue", "/case_status", "/out_of_scope"]
    titles = [
        domain["responses"][f"utter_choice_{n}"][0]["text"] for n in ("order_status", "parcel_issue", "case_status")
    ]
    assert [b["title"] for b in buttons] == [*titles, domain["responses"]["utter_choice_something_else"][0]["text"]]


def test_one_flow_in_the_running_gets_its_own_yes_no_question(chat, service):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "refund_status", "confidence": 0.52},
        {"name": "greet", "confidence": 0.08},
        {"name": "credits_balance", "confidence": 0.07},  # below the bar for a choice
    ]
    chat.run(ActionAskAffirmation(), intent="nlu_fallback", extra={"intent_ranking": ranking})
    assert chat.responses == ["utter_ask_affirmation_refund_status"]


def test_affirmation_buttons_repeat_the_intent_or_say_out_of_scope(domain):
    for name, variations in domain["responses"].items():
        if name.startswith("utter_ask_affirmation_"):
            payloads = [b["payload"] for b in variations[0]["buttons"]]
            assert payloads == ["/" + name[len("utter_ask_affirmation_") :], "/out_of_scope"], name
