"""Returns (RET-1..12): the return form, the preview of the decision and, after the customer's "yes", the case."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from policy_engine.core.returns import CONDITIONS, ReturnRequest

from .base import SupportFormValidation, as_bool, choose
from .flow import CommitAction, PreviewAction, slot_int

RETURN_SLOTS = ("order_line", "quantity", "item_condition", "quality_issue")


class ValidateReturnForm(SupportFormValidation):
    form = "return_form"
    topic_slots = RETURN_SLOTS
    needs_line = True

    def validate_item_condition(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        condition = choose(value, CONDITIONS)
        if condition is None:
            return self.reject(dispatcher, tracker, "item_condition")
        return self.accept("item_condition", condition)

    def validate_quality_issue(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = as_bool(value)
        if answer is None:
            return self.reject(dispatcher, tracker, "quality_issue")
        return self.accept("quality_issue", answer)


def return_request(tracker: Tracker) -> ReturnRequest:
    # a missing line or quantity (None) goes to the service as it is: the core's request check refuses it
    return ReturnRequest(
        line_id=slot_int(tracker, "order_line"),  # type: ignore[arg-type]
        quantity=slot_int(tracker, "quantity"),  # type: ignore[arg-type]
        condition=tracker.get_slot("item_condition"),
        quality_issue=bool(tracker.get_slot("quality_issue")),
    )


def _return_ready(tracker: Tracker) -> bool:
    return all(tracker.get_slot(s) is not None for s in RETURN_SLOTS) and slot_int(tracker, "order_line") is not None


class ActionPreviewReturn(PreviewAction):
    topic, action_name = "return", "action_preview_return"
    ready = staticmethod(_return_ready)

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.preview_return(*self.args(tracker), return_request(tracker))


class ActionOpenReturn(CommitAction):
    topic, action_name = "return", "action_open_return"

    def ready(self, tracker: Tracker) -> bool:
        return super().ready(tracker) and _return_ready(tracker)

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.open_return(*self.args(tracker), return_request(tracker))
