"""Parcels lost, damaged or delayed (INS-1, INS-2): the problem, the decision the claim would get (a preview, nothing
written), an explicit "yes", then the claim."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from policy_engine.core.transit import PROBLEMS, TransitRequest

from .base import SupportFormValidation, choose
from .flow import CommitAction, PreviewAction

#: how customers describe the problem when they do not click a button (input parsing, not wording)
PROBLEM_WORDS = (
    ("damaged", re.compile(r"\b(damaged|broken|crushed|smashed|dented|arrived (?:damaged|broken))\b", re.I)),
    ("delayed", re.compile(r"\b(late|delay(?:ed)?|not (?:arrived|here) yet|still waiting|overdue)\b", re.I)),
    ("lost", re.compile(r"\b(lost|missing|never (?:arrived|came|got it)|stolen|disappeared)\b", re.I)),
)


def parse_problem(value: Any) -> str | None:
    problem = choose(value, PROBLEMS)
    if problem is not None:
        return problem
    hits = [code for code, pattern in PROBLEM_WORDS if pattern.search(str(value or ""))]
    return hits[0] if len(hits) == 1 else None


class ValidateTransitForm(SupportFormValidation):
    form = "transit_form"
    topic_slots = ("transit_problem",)

    def validate_transit_problem(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        problem = parse_problem(value)
        if problem is None:
            return self.reject(dispatcher, tracker, "transit_problem")
        return self.accept("transit_problem", problem)


class ActionConfirmTransit(PreviewAction):
    """The decision the claim would get (``service.preview_transit``: nothing written), then, when there is something
    to open, ``utter_confirm_transit`` and ``pending_confirmation`` = transit (issue 15, item 5)."""

    topic, action_name = "transit", "action_confirm_transit"

    def ready(self, tracker: Tracker) -> bool:
        return tracker.get_slot("transit_problem") in PROBLEMS

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.preview_transit(*self.args(tracker), TransitRequest(problem=tracker.get_slot("transit_problem")))


class ActionOpenTransitClaim(CommitAction):
    topic, action_name = "transit", "action_open_transit_claim"

    def ready(self, tracker: Tracker) -> bool:
        return super().ready(tracker) and tracker.get_slot("transit_problem") in PROBLEMS

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.transit_claim(*self.args(tracker), TransitRequest(problem=tracker.get_slot("transit_problem")))
