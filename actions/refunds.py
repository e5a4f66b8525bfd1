"""Where a refund stands (REF-1..4): identity, then the status with the expected dates."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from .base import SupportFormValidation
from .flow import AnswerAction


class ValidateRefundForm(SupportFormValidation):
    form = "refund_form"
    topic_slots = ()


class ActionRefundStatus(AnswerAction):
    topic, action_name = "refund", "action_refund_status"

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.refund_status(*self.args(tracker))
