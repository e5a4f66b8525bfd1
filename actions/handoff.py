"""Handing the customer over to people (CON-1): contacts and hours come from ``service.contacts()``."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .replies import BackendUnavailable, call_service, reset_topic_events, utter_reasons
from .service import get_service


def utter_contacts(dispatcher: CollectingDispatcher) -> None:
    """``utter_contact_<code>`` with phone, email and hours as template variables (CON-1)."""
    service = get_service()
    try:
        decision = call_service(dispatcher, service.contacts)
    except BackendUnavailable:
        return
    utter_reasons(dispatcher, decision, service)


class ActionHandoff(Action):
    """``human_handoff`` (or the way out after repeated failures): stop the request, give contacts and hours."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff")
        utter_contacts(dispatcher)
        return reset_topic_events() + [SlotSet("requested_slot", None)]
