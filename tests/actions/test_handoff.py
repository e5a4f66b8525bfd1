"""``action_handoff`` (CON-1, issue 17) with a real SQLite store: in live-chat hours the conversation is queued with
its transcript and the bot pauses (Rasa's ``pause`` event); outside them a ticket, the next opening as people write
it, the contacts, and the bot stays on."""

from __future__ import annotations

from datetime import datetime, timezone

from actions.handoff import ActionHandoff
from actions.service import set_service
from policy_engine.service import SupportService
from tests.support.smtp import RecordingMailer
from tests.support.store import repository_policy

#: Saturday 15 March 2025, 12:00 in Los Angeles
SATURDAY_NOON = datetime(2025, 3, 15, 19, 0, tzinfo=timezone.utc)


def _kinds(events):
    return [e.get("event") for e in events]


def test_in_hours_the_conversation_is_queued_with_its_transcript_and_the_bot_pauses_CON_1(chat, service):
    chat.run(ActionHandoff(), text="can I talk to a real person <b>please</b>", intent="human_handoff")
    assert chat.responses == ["utter_handoff_agent_joining"]
    assert chat.messages[0]["queue_position"] == "1"
    assert "pause" in _kinds(chat.events)
    queued = service.handoff_queue()
    assert [h["conversation_id"] for h in queued] == [chat.sender_id]
    summary = service.handoff_detail(queued[0]["id"])["summary"]
    assert summary["cause"] == "customer_asked" and summary["verified"] is False
    assert summary["transcript"][-1] == {
        "speaker": "customer",
        "text": "can I talk to a real person <b>please</b>",
        "at": None,
        "agent": None,
    }


def test_outside_hours_a_ticket_with_the_next_opening_and_the_bot_stays_on_CON_1(chat, service):
    closed = SupportService(service._sessions, repository_policy(), lambda: SATURDAY_NOON, RecordingMailer())
    set_service(closed)
    chat.run(ActionHandoff(), text="agent please", intent="human_handoff")
    assert chat.responses == ["utter_handoff_ticket_opened", "utter_contact_contact_channels"]
    ticket = chat.messages[0]
    assert ticket["ticket_id"].startswith("HND-") and ticket["case_id"] == ticket["ticket_id"]
    assert ticket["next_opening"] == "Monday 17 March 2025 at 10:00 PDT"
    assert "pause" not in _kinds(chat.events)
    assert closed.tickets()[0]["case_id"] == ticket["ticket_id"]


def test_a_decision_that_needs_review_hands_over_with_its_case_in_the_summary_INS_1_CON_1(chat, service):
    """Issue 17, item 1: the claim a person must review (INS-1 without Worry-Free) is opened, then the conversation
    joins the queue with that decision (case number, clauses) in the summary, and the bot pauses."""
    from actions.transit import ActionConfirmTransit, ActionOpenTransitClaim, ValidateTransitForm

    chat.run(
        ValidateTransitForm(),
        {"order_number": "AK1000034", "email": "ruby.waiting@example.com", "transit_problem": "delayed"},
    )
    chat.run(ActionConfirmTransit())
    chat.run(ActionOpenTransitClaim(), intent="affirm", text="yes")
    assert chat.responses == ["utter_case_opened", "utter_handoff_agent_joining"]
    case = chat.messages[0]["custom"]["decision"]
    assert case["outcome"] == "needs_review" and case["case_id"]
    handoff = chat.messages[1]["custom"]["decision"]
    assert handoff["topic"] == "handoff" and handoff["reasons"] == ["agent_joining"] and handoff["clauses"] == ["CON-1"]
    assert chat.messages[1]["queue_position"] == "1" and chat.messages[1]["expected_wait_minutes"] == "5"
    assert "pause" in _kinds(chat.events)
    (queued,) = service.handoff_queue()
    assert queued["cause"] == "needs_review" and queued["topic"] == "transit"
    assert queued["expected_wait_minutes"] == 5  # no conversation taken yet: the policy's live_chat_wait_minutes
    summary = service.handoff_detail(queued["id"])["summary"]
    assert summary["verified"] is True and summary["order_number"] == "AK1000034"
    reviewed = [d for d in summary["decisions"] if d["case_id"] == case["case_id"]]
    assert reviewed and reviewed[0]["outcome"] == "needs_review" and "INS-1" in reviewed[0]["clauses"]


def test_outside_hours_a_decision_that_needs_review_gets_a_ticket_and_the_bot_stays_on(chat, service):
    from actions.transit import ActionConfirmTransit, ActionOpenTransitClaim, ValidateTransitForm

    closed = SupportService(service._sessions, repository_policy(), lambda: SATURDAY_NOON, RecordingMailer())
    set_service(closed)
    chat.run(
        ValidateTransitForm(),
        {"order_number": "AK1000034", "email": "ruby.waiting@example.com", "transit_problem": "delayed"},
    )
    chat.run(ActionConfirmTransit())
    chat.run(ActionOpenTransitClaim(), intent="affirm", text="yes")
    assert chat.responses == ["utter_case_opened", "utter_handoff_ticket_opened", "utter_contact_contact_channels"]
    assert "pause" not in _kinds(chat.events)
    (ticket,) = closed.tickets()
    assert ticket["cause"] == "needs_review" and ticket["case_id"] == chat.messages[1]["ticket_id"]
