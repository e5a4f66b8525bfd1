"""Policy questions answered from the policy file: ``faq/<key>`` and ``credits_faq/<key>`` (retrieval intents).

The ResponseSelector picks the key; this action dispatches ``utter_faq/<key>`` (or ``utter_credits_faq/<key>``)
with ``service.policy_values()`` as template variables, so changing policy/policy.yml changes the answer.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from .replies import BackendUnavailable, call_service
from .service import get_service

logger = logging.getLogger(__name__)

RETRIEVAL_INTENTS = ("faq", "credits_faq")


def retrieval_key(tracker: Tracker) -> str | None:
    """``faq/return_window`` from the latest message (response selector, or a full intent name from a button)."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name") or ""
    if "/" in intent and intent.split("/", 1)[0] in RETRIEVAL_INTENTS:
        return intent
    if intent not in RETRIEVAL_INTENTS:
        return None
    selector = message.get("response_selector") or {}
    for name in (intent, "default"):
        key = ((selector.get(name) or {}).get("response") or {}).get("intent_response_key")
        if key and key.split("/", 1)[0] == intent:
            return key
    return None


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        key = retrieval_key(tracker)
        response = f"utter_{key}" if key else None
        if response is None or response not in (domain or {}).get("responses", {}):
            logger.info("no FAQ answer for %r", key)
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        service = get_service()
        try:
            values = call_service(dispatcher, service.policy_values)
        except BackendUnavailable:
            return []
        dispatcher.utter_message(response=response, **{str(k): str(v) for k, v in values.items()})
        return []
