"""Coming back to a case (issue 15, item 4): identity first (RET-4), then where the order's case stands: its number,
when it was opened, its deadline and the next step, in at most three messages.

A warranty claim opened earlier that still lacks facts is continued: its line and the facts it already has go into
the warranty form's slots (``case_continuable`` = true; data/rules/cases.yml starts the warranty form), and the
warranty actions decide it as of the day it was opened (WAR-10, ``service.as_of_opening`` /
``continue_warranty_claim``).  A claim past its WAR-10 deadline is refused citing WAR-10; another order's case number
answers exactly like an unknown one.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policy_engine.core.cases import normalise_case_number

from .base import SupportFormValidation
from .flow import AnswerAction
from .replies import reset_topic_events, template_values, utter_next_steps

#: the reason whose case is continued in the warranty form
CONTINUABLE = "warranty_claim_continuable"
#: the stored facts of a continued claim -> the warranty form's slots
CLAIM_FACT_SLOTS = {"serial_number": "serial_number", "defect": "defect", "cause": "defect_cause"}


class ValidateCaseForm(SupportFormValidation):
    form = "case_form"
    topic_slots = ()


def case_number_asked(tracker: Tracker) -> str | None:
    """The case number the customer named: the ``case_number`` slot, else one typed in the message that started this
    (``RET-12``, ``war 000007``)."""
    for text in (tracker.get_slot("case_number"), (tracker.latest_message or {}).get("text")):
        number = normalise_case_number(text)
        if number is not None:
            return number
    return None


class ActionCaseStatus(AnswerAction):
    topic, action_name = "case_status", "action_case_status"

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.case_status(*self.args(tracker), case_number_asked(tracker))

    def tell(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], decision: Any, service: Any
    ) -> list[dict[str, Any]]:
        first = decision.reasons[0]
        dispatcher.utter_message(
            response=f"utter_case_status_{first.code}",
            json_message=decision.widget_payload(),
            **template_values(decision, first, service),
        )
        if first.code != CONTINUABLE:  # at most two next steps: three messages in all
            utter_next_steps(dispatcher, decision, domain, service)
            return [*reset_topic_events(), SlotSet("case_number", None), SlotSet("case_continuable", False)]
        # the warranty form asks only what the claim still lacks (its question is this turn's second message)
        values = decision.values
        events = [*reset_topic_events(), SlotSet("case_number", None), SlotSet("case_continuable", True)]
        events.append(SlotSet("order_line", str(values.get("line_id"))))
        events += [SlotSet(slot, values[fact]) for fact, slot in CLAIM_FACT_SLOTS.items() if values.get(fact)]
        return events
