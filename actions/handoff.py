"""Handing the customer over to people (CON-1, issue 17).

During live-chat hours the conversation joins the agents' queue (``service.request_handoff``: the summary with the
verified order, the decisions of this conversation and the transcript) and the bot pauses itself for it (Rasa's
``ConversationPaused``: the customer's messages are still logged in the tracker, for the agent, but the bot does not
answer them); the agent's replies and the hand back come through the web chat channel (chat_channels/handoff_relay.py).
Outside the hours a ticket with the same summary, the next opening and a confirmation to the verified purchase email;
the bot stays on.  Contacts and hours (CON-1) follow either way."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policy_engine.core.handoff import HandoffCause, TranscriptLine

from .replies import BackendUnavailable, call_service, reset_topic_events, utter_reasons
from .service import get_service

#: the transcript handed to the agent (the last lines; the tracker keeps them all)
TRANSCRIPT_EVENTS = 200


def utter_contacts(dispatcher: CollectingDispatcher, domain: dict[str, Any] | None = None) -> None:
    """``utter_contact_<code>`` with phone, email and hours as template variables (CON-1): one message."""
    service = get_service()
    try:
        decision = call_service(dispatcher, service.contacts)
    except BackendUnavailable:
        return
    utter_reasons(dispatcher, decision, domain or {}, service)


def transcript_of(tracker: Tracker) -> list[TranscriptLine]:
    """The customer's and the bot's messages of the conversation, oldest first (texts only)."""
    lines: list[TranscriptLine] = []
    for event in tracker.events[-TRANSCRIPT_EVENTS * 3 :]:
        kind, text = event.get("event"), event.get("text")
        if kind in ("user", "bot") and isinstance(text, str) and text:
            lines.append(TranscriptLine("customer" if kind == "user" else "bot", text))
    return lines[-TRANSCRIPT_EVENTS:]


def handoff_cause(tracker: Tracker) -> HandoffCause:
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    return HandoffCause.CUSTOMER_ASKED if intent == "human_handoff" else HandoffCause.NOT_UNDERSTOOD


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    service: Any,
    cause: HandoffCause,
    topic: str | None,
    domain: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Queue the conversation (CON-1 hours: the customer is told a person joins, the bot pauses) or open a ticket (the
    next opening, then the contacts); the events to add.  Shared by ``action_handoff`` and the decisions that need
    review (``flow.CommitAction``: the case just opened is in the summary the agent sees)."""
    try:
        decision = call_service(
            dispatcher,
            service.request_handoff,
            tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "unknown",
            cause=cause,
            topic=topic,
            transcript=transcript_of(tracker),
        )
    except BackendUnavailable:  # the customer got utter_backend_error (which offers trying again)
        return []
    utter_reasons(dispatcher, decision, domain or {}, service, tracker.current_slot_values())
    if decision.reason_codes == ("agent_joining",):
        return [ConversationPaused()]
    utter_contacts(dispatcher, domain)
    return []


class ActionHandoff(Action):
    """``human_handoff`` (or the way out after repeated failures): a person takes over, or a ticket."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = reset_topic_events() + [SlotSet("requested_slot", None)]
        topic = tracker.active_loop.get("name") if tracker.active_loop else None
        return events + hand_over(dispatcher, tracker, get_service(), handoff_cause(tracker), topic, domain)
