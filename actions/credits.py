"""AnkerCredits balance (CRD-6, CRD-7) for the verified order's customer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from .base import SupportFormValidation
from .flow import AnswerAction


class ValidateCreditsForm(SupportFormValidation):
    form = "credits_form"
    topic_slots = ()


class ActionCreditsBalance(AnswerAction):
    topic, action_name = "credits", "action_credits_balance"

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.credits_balance(tracker.sender_id, tracker.get_slot("order_number"))
