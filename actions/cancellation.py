"""Cancelling an order (CAN-1..3): identity, the preview, and the cancellation after the customer's "yes"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from .base import SupportFormValidation
from .flow import CommitAction, PreviewAction


class ValidateCancelForm(SupportFormValidation):
    form = "cancel_form"
    topic_slots = ()


class ActionPreviewCancellation(PreviewAction):
    topic, action_name = "cancellation", "action_preview_cancellation"

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.preview_cancellation(*self.args(tracker))


class ActionCancelOrder(CommitAction):
    topic, action_name = "cancellation", "action_cancel_order"

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.cancel_order(*self.args(tracker))
