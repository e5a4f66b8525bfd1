"""Issue 12, finding 9: after ``utter_backend_error`` during a confirmation, "yes" again retries without refilling the
form; a timed-out action (``actions/executor.py``'s ``GuardedExecutor``) keeps the conversation state consistent."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from rasa_sdk.events import FollowupAction
from sqlalchemy.exc import OperationalError

from actions.cancellation import ActionCancelOrder, ActionPreviewCancellation, ValidateCancelForm
from actions.executor import BACKEND_ERROR_RESPONSE, GuardedExecutor
from actions.returns import ActionOpenReturn, ActionPreviewReturn, ValidateReturnForm

LISTEN = FollowupAction("action_listen")


def locked(*_args, **_kwargs):
    raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))


def cancellation_pending(chat):
    chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": "olivia.fresh@example.com"})
    assert chat.slots["verified"] is True
    chat.run(ActionPreviewCancellation())
    assert chat.slots["pending_confirmation"] == "cancellation"
    return chat


def test_yes_after_a_backend_error_retries_the_pending_cancellation(chat, service, counts, monkeypatch):
    cancellation_pending(chat)
    slots_before = dict(chat.slots)
    before = counts()
    with monkeypatch.context() as patch:
        patch.setattr(service, "cancel_order", locked)
        chat.run(ActionCancelOrder())
    assert chat.responses == [BACKEND_ERROR_RESPONSE]
    assert chat.events == [LISTEN]  # no slot touched: the request and pending_confirmation stay
    assert chat.slots == slots_before and counts() == before

    chat.run(ActionCancelOrder())  # the customer says "yes" again
    assert chat.responses == ["utter_case_opened"]
    assert chat.slots["pending_confirmation"] is None
    after = counts()
    assert after["cancellations"] == before["cancellations"] + 1

    chat.run(ActionCancelOrder(), {"pending_confirmation": "cancellation"})  # a double "yes": still one case
    assert chat.responses == ["utter_case_already_open"]
    assert counts()["cancellations"] == after["cancellations"]


def test_a_return_is_retried_with_the_collected_facts(chat, service, counts, monkeypatch):
    chat.active_loop = "return_form"
    chat.run(
        ValidateReturnForm(),
        {
            "order_number": "AK1000003",
            "email": "emma.twenty@example.com",
            "order_line": "1",
            "item_condition": "unopened",
            "quality_issue": False,
        },
    )
    chat.active_loop = None
    chat.run(ActionPreviewReturn())
    assert chat.slots["pending_confirmation"] == "return"
    collected = {k: chat.slots[k] for k in ("order_line", "quantity", "item_condition", "quality_issue")}
    assert None not in collected.values()
    with monkeypatch.context() as patch:
        patch.setattr(service, "open_return", locked)
        chat.run(ActionOpenReturn())
    assert chat.responses == [BACKEND_ERROR_RESPONSE]
    assert {k: chat.slots[k] for k in collected} == collected
    chat.run(ActionOpenReturn())
    assert chat.responses == ["utter_case_opened"]
    assert counts()["return_cases"] == 1


def test_losing_the_verification_still_drops_the_request(chat, service, monkeypatch):
    cancellation_pending(chat)
    from policy_engine.service import NotVerified

    def not_verified(*_args, **_kwargs):
        raise NotVerified("grant expired")

    monkeypatch.setattr(service, "cancel_order", not_verified)
    chat.run(ActionCancelOrder())
    assert chat.responses == ["utter_identity_required"]
    assert chat.slots["pending_confirmation"] is None and chat.slots["verified"] is False


def test_a_preview_error_still_drops_the_request(chat, service, monkeypatch):
    chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": "olivia.fresh@example.com"})
    monkeypatch.setattr(service, "preview_cancellation", locked)
    chat.run(ActionPreviewCancellation())
    assert chat.responses == [BACKEND_ERROR_RESPONSE]
    assert chat.slots["pending_confirmation"] is None


# ---------------------------------------------------------------------------------------------- the executor


@pytest.fixture
def executor():
    ex = GuardedExecutor(timeout=0.5, threads=2)
    ex.register_package("actions")
    yield ex
    ex.shutdown()


def call(chat, name, new_slots=None):
    """What Rasa posts to /webhook for ``name`` (the tracker as ``Chat`` would give it to the action)."""
    state = chat.tracker(new_slots).current_state()
    return {
        "next_action": name,
        "sender_id": chat.sender_id,
        "tracker": state,
        "domain": chat.domain,
        "version": "3.6.21",
    }


def apply(chat, result, new_slots=None):
    chat.slots.update(new_slots or {})
    for event in result["events"]:
        if event.get("event") == "slot":
            chat.slots[event["name"]] = event["value"]
    return [r.get("response") for r in result["responses"]]


def test_actions_run_in_worker_threads_off_the_event_loop(executor, chat, service):
    seen = []
    original = service.policy_values

    def policy_values():
        seen.append(threading.current_thread().name)
        return original()

    service.policy_values = policy_values
    message = {"intent": {"name": "faq/return_window", "confidence": 1.0}}
    payload = call(chat, "action_answer_faq")
    payload["tracker"]["latest_message"] = message
    result = asyncio.run(executor.run(payload))
    assert [r["response"] for r in result["responses"]] == ["utter_faq/return_window"]
    assert seen and seen[0].startswith("action") and seen[0] != threading.main_thread().name


def test_a_commit_that_times_out_and_commits_late_is_retried_once(executor, chat, service, counts, monkeypatch):
    cancellation_pending(chat)
    before = counts()
    slots_before = dict(chat.slots)
    original = service.cancel_order
    finished = threading.Event()

    def slow_cancel(*args, **kwargs):
        time.sleep(1.5)  # past the executor's 0.5 s: the customer is already told to try again
        try:
            return original(*args, **kwargs)  # ...and the case is written after all
        finally:
            finished.set()

    monkeypatch.setattr(service, "cancel_order", slow_cancel)
    result = asyncio.run(executor.run(call(chat, "action_cancel_order")))
    assert apply(chat, result) == [BACKEND_ERROR_RESPONSE]
    assert result["events"] == [LISTEN]
    assert chat.slots == slots_before  # the pending confirmation survives the timeout
    assert finished.wait(10)
    assert counts()["cancellations"] == before["cancellations"] + 1  # the late commit

    monkeypatch.setattr(service, "cancel_order", original)
    result = asyncio.run(executor.run(call(chat, "action_cancel_order")))  # "yes" again
    assert apply(chat, result) == ["utter_case_already_open"]  # the same case, not a second one
    assert counts()["cancellations"] == before["cancellations"] + 1
    assert chat.slots["pending_confirmation"] is None


def test_a_timed_out_form_validation_keeps_what_was_collected(executor, chat, service, monkeypatch):
    chat.run(ValidateReturnForm(), {"order_number": "AK1000003"})
    assert chat.slots["order_number"] == "AK1000003"
    finished = threading.Event()
    original = service.verify_customer

    def slow_verify(*args, **kwargs):
        time.sleep(1.5)
        try:
            return original(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(service, "verify_customer", slow_verify)
    chat.active_loop = "return_form"
    new = {"email": "emma.twenty@example.com", "requested_slot": "email"}
    result = asyncio.run(executor.run(call(chat, "validate_return_form", new)))
    responses = apply(chat, result, new)
    assert responses == [BACKEND_ERROR_RESPONSE]
    # the email given this turn was not checked: cleared and asked again; the order number stays, the form goes on
    assert chat.slots["email"] is None and chat.slots["order_number"] == "AK1000003"
    assert chat.slots["requested_slot"] == "email"
    assert chat.slots["verified"] is not True
    assert finished.wait(10)

    monkeypatch.setattr(service, "verify_customer", original)
    new = {"email": "emma.twenty@example.com"}
    result = asyncio.run(executor.run(call(chat, "validate_return_form", new)))
    assert "utter_identity_verified" in apply(chat, result, new)
    assert chat.slots["verified"] is True


def test_a_call_still_queued_when_it_times_out_never_runs(chat, service, monkeypatch):
    executor = GuardedExecutor(timeout=0.3, threads=1)
    executor.register_package("actions")
    gate, ran = threading.Event(), []
    monkeypatch.setattr(service, "policy_values", lambda: (gate.wait(5), ran.append(1), {})[-1])
    payload = call(chat, "action_answer_faq")
    payload["tracker"]["latest_message"] = {"intent": {"name": "faq/return_window", "confidence": 1.0}}

    async def two_calls():
        return await asyncio.gather(executor.run(payload), executor.run(payload))

    try:
        results = asyncio.run(two_calls())
        assert all([r["response"] for r in res["responses"]] == [BACKEND_ERROR_RESPONSE] for res in results)
        gate.set()
        time.sleep(0.5)
        assert ran == [1]  # the first call ran to its end in its thread; the queued one was dropped
    finally:
        gate.set()
        executor.shutdown()
