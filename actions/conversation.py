"""Conversation mechanics: stopping a request, asking which order line, and the fallback's "did you mean ...?"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .identity import is_verified
from .replies import BackendUnavailable, call_service, reset_identity_events, reset_topic_events
from .service import get_service

#: orders with up to this many lines get one button per line (utter_ask_order_line_<n>); more get a list
MAX_LINE_BUTTONS = 5


class ActionAbandonRequest(Action):
    """``stop`` or "no" at the confirmation: the request is dropped and nothing is written."""

    def name(self) -> str:
        return "action_abandon_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_request_abandoned")
        return reset_topic_events() + [SlotSet("requested_slot", None)]


class ActionAskOrderLine(Action):
    """Which item? The line names go into ``utter_ask_order_line_<n>`` as template variables (one button each)."""

    def name(self) -> str:
        return "action_ask_order_line"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not is_verified(tracker):  # never list an order's contents before verification
            dispatcher.utter_message(response="utter_identity_required")
            return []
        service = get_service()
        try:
            overview = call_service(
                dispatcher, service.order_overview, tracker.sender_id, tracker.get_slot("order_number")
            )
        except BackendUnavailable as error:
            return reset_identity_events() if error.identity_lost else []
        lines = list(overview.lines)
        values: dict[str, str] = {}
        for index, line in enumerate(lines, start=1):
            values[f"line_{index}_id"] = str(line.line_id)
            values[f"line_{index}_name"] = line.name
            values[f"line_{index}_quantity"] = str(line.quantity)
        values["line_list"] = "; ".join(f"{line.line_id}: {line.name}" for line in lines)
        count = len(lines)
        response = f"utter_ask_order_line_{count}" if 2 <= count <= MAX_LINE_BUTTONS else "utter_ask_order_line_many"
        dispatcher.utter_message(response=response, **values)
        return []


#: the two-stage fallback offers a choice among the flows the classifier ranked this high (among its first four)
CHOICE_MIN_CONFIDENCE = 0.1
CHOICE_RANKS = 4


def flow_choices(ranking: list[dict[str, Any]], responses: dict[str, Any]) -> list[str]:
    """The intents to offer, best first: those of the classifier's first ``CHOICE_RANKS`` (``nlu_fallback`` left out)
    with at least ``CHOICE_MIN_CONFIDENCE`` that have a choice button (``utter_choice_<intent>`` in domain.yml)."""
    ranked = [r for r in ranking if r.get("name") != "nlu_fallback"][:CHOICE_RANKS]
    return [
        str(r["name"])
        for r in ranked
        if float(r.get("confidence") or 0.0) >= CHOICE_MIN_CONFIDENCE and f"utter_choice_{r['name']}" in responses
    ]


def button_title(responses: dict[str, Any], name: str) -> str:
    return str(responses[name][0]["text"])


class ActionAskAffirmation(Action):
    """Two-stage fallback, first stage. Two or more case flows in the running (the flow gate held back a message that
    could be a return or a cancellation, config.yml): "Which of these?" with one button each and "Something else".
    One: "did you mean ...?" by intent (``utter_ask_affirmation_<intent>``). None: a plain rephrase request.
    Any intent button ends the fallback with that intent (Rasa's TwoStageFallbackAction); "Something else" is
    ``/out_of_scope``, its "no"."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        responses = (domain or {}).get("responses", {})
        intent = (message.get("intent") or {}).get("name")
        ranking = message.get("intent_ranking") or []
        if intent == "nlu_fallback":
            choices = flow_choices(ranking, responses)
            if len(choices) >= 2:
                buttons = [{"title": button_title(responses, f"utter_choice_{c}"), "payload": f"/{c}"} for c in choices]
                buttons.append(
                    {"title": button_title(responses, "utter_choice_something_else"), "payload": "/out_of_scope"}
                )
                dispatcher.utter_message(response="utter_ask_which_request", buttons=buttons)
                return []
            if len(ranking) > 1:
                intent = ranking[1].get("name")
        response = f"utter_ask_affirmation_{intent}"
        if response not in responses:
            response = "utter_ask_rephrase"
        dispatcher.utter_message(response=response)
        return []
