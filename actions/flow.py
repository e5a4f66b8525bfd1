"""The three shapes of a topic action, shared by the topic modules.

* ``PreviewAction``: call ``service.preview_<topic>`` (no write), tell the decision (reasons, next steps) and, when
  there is something to open, ask ``utter_confirm_<topic>`` and set ``pending_confirmation`` = topic.
* ``CommitAction``: after the customer's explicit ``affirm``: call the writing service function and announce the
  case (``utter_case_opened`` / ``utter_case_already_open`` when the request was repeated); the next steps were
  told with the preview.
* ``AnswerAction``: an informational answer (refund status, credits balance): tell the decision.

Every shape acts only for a verified conversation with a complete request; backend errors are told generically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policy_engine.core.decision import Outcome
from policy_engine.core.handoff import HandoffCause

from .handoff import hand_over
from .identity import acknowledge_in_decision, is_verified
from .replies import (
    BackendUnavailable,
    call_service,
    reset_identity_events,
    reset_topic_events,
    template_values,
    utter_decision,
)
from .service import get_service

ACTION_LISTEN = "action_listen"
#: outcomes for which the customer is asked to confirm opening a case (the others have nothing to open)
CONFIRMABLE = (Outcome.APPROVED, Outcome.NEEDS_REVIEW)


class TopicAction(Action, ABC):
    #: the value of ``pending_confirmation`` for this topic (return, cancellation, warranty, transit)
    topic: str = ""
    action_name: str = ""

    def name(self) -> str:
        return self.action_name

    def ready(self, tracker: Tracker) -> bool:
        """All facts the service call needs are in the slots (identity is checked separately)."""
        return True

    @abstractmethod
    def call(self, service: Any, tracker: Tracker) -> Any:
        """The one service call; ``args(tracker)`` gives its identity arguments."""

    @staticmethod
    def args(tracker: Tracker) -> tuple:
        return tracker.sender_id, tracker.get_slot("order_number")

    @abstractmethod
    def tell(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], decision: Any, service: Any
    ) -> list[dict[str, Any]]: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not is_verified(tracker) or not self.ready(tracker):
            # the form ended without a verified, complete request (lock-out, backend error): nothing to do
            return [SlotSet("pending_confirmation", None)]
        service = get_service()
        try:
            decision = call_service(dispatcher, self.call, service, tracker)
        except BackendUnavailable as error:
            return self.backend_error_events(error.identity_lost)
        events = self.tell(dispatcher, tracker, domain, decision, service)
        acknowledge_in_decision(dispatcher, tracker, domain)
        return events

    def backend_error_events(self, identity_lost: bool) -> list[dict[str, Any]]:
        """The events after a backend error (the customer was told generically): the request is dropped."""
        return reset_topic_events() + (reset_identity_events() if identity_lost else [])

    def timeout_events(self, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        """The action ran out of time (``actions/executor.py`` told ``utter_backend_error``): as a backend error."""
        return self.backend_error_events(identity_lost=False)


class PreviewAction(TopicAction, ABC):
    def tell(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], decision: Any, service: Any
    ) -> list[dict[str, Any]]:
        utter_decision(dispatcher, decision, domain, service, tracker.current_slot_values())
        if decision.outcome in CONFIRMABLE:
            dispatcher.utter_message(response=f"utter_confirm_{self.topic}")
            return [SlotSet("pending_confirmation", self.topic)]
        return reset_topic_events()


class CommitAction(TopicAction, ABC):
    def ready(self, tracker: Tracker) -> bool:
        return tracker.get_slot("pending_confirmation") == self.topic

    def backend_error_events(self, identity_lost: bool) -> list[dict[str, Any]]:
        """A plain backend error (or a timeout) keeps the request and ``pending_confirmation``: the customer's next
        "yes" retries it (the write is one transaction, idempotent by natural key: never two cases).  The rules
        expect ``pending_confirmation`` cleared after this action, so listen explicitly instead of letting the
        policies predict on.  Losing the verification drops everything, as before."""
        if identity_lost:
            return super().backend_error_events(identity_lost)
        return [FollowupAction(ACTION_LISTEN)]

    def tell(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], decision: Any, service: Any
    ) -> list[dict[str, Any]]:
        if decision.case_id:
            repeated = bool(decision.values.get("repeated"))
            dispatcher.utter_message(
                response="utter_case_already_open" if repeated else "utter_case_opened",
                json_message=decision.widget_payload(),
                **template_values(decision, None, service),
            )
            if decision.outcome == Outcome.NEEDS_REVIEW and not repeated:  # a person reviews it (issue 17, CON-1)
                return reset_topic_events() + hand_over(
                    dispatcher, tracker, service, HandoffCause.NEEDS_REVIEW, self.topic, domain
                )
        else:  # the decision changed since the preview (e.g. the window closed meanwhile): tell it as it is
            utter_decision(dispatcher, decision, domain, service, tracker.current_slot_values())
        return reset_topic_events()


class AnswerAction(TopicAction, ABC):
    def tell(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], decision: Any, service: Any
    ) -> list[dict[str, Any]]:
        utter_decision(dispatcher, decision, domain, service, tracker.current_slot_values())
        return reset_topic_events()


def slot_int(tracker: Tracker, name: str) -> int | None:
    value = tracker.get_slot(name)
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
