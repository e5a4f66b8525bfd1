"""Coming back to a case (issue 15, item 4): identity first (RET-4), then where the order's case stands: its number,
when it was opened, its deadline and the next step, in at most three messages.

A warranty claim opened earlier that still lacks facts is continued: its line and the facts it already has go into
the warranty form's slots (``case_continuable`` = true; data/rules/cases.yml starts the warranty form), and the
warranty actions decide it as of the day it was opened (WAR-10, ``service.as_of_opening`` /
``continue_warranty_claim``).  A claim past its WAR-10 deadline is refused citing WAR-10; another order's case number
answers exactly like an unknown one.

A claim for a purchase elsewhere (``WAR-E000003``) has no order: its identity is the email the claim is kept under,
proven by the one-time code the bought-elsewhere path uses (``ClaimEmailValidation``: ``claim_email``,
``claim_email_code``), asked instead of the order number and email; ``service.purchase_claim_status`` answers an
unknown number and another email's claim alike (RET-4).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from policy_engine.core.cases import is_purchase_case, normalise_case_number

from .base import CODE_SLOT, HANDOFF_CHOICE, IDENTITY_ASK_ORDER, SupportFormValidation
from .flow import AnswerAction
from .replies import BackendUnavailable, call_service, reset_topic_events, template_values, utter_next_steps
from .service import get_service
from .warranty_purchase import ClaimEmailValidation

#: the reason whose case is continued in the warranty form
CONTINUABLE = "warranty_claim_continuable"
#: the stored facts of a continued claim -> the warranty form's slots
CLAIM_FACT_SLOTS = {"serial_number": "serial_number", "defect": "defect", "cause": "defect_cause"}


#: a WAR-E claim's identity: the email it is kept under and the one-time code mailed to it
PURCHASE_IDENTITY = ("claim_email", "claim_email_code")


def purchase_identity_reset() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in PURCHASE_IDENTITY]


class ValidateCaseForm(ClaimEmailValidation, SupportFormValidation):
    """Order number and email (RET-4) for a case on an order; for a ``WAR-E`` number, the claim's email and its code
    instead (asked only then: ``next_slot``)."""

    form = "case_form"
    topic_slots = ()

    @property
    def ask_order(self) -> list[str]:
        return [*IDENTITY_ASK_ORDER, CODE_SLOT, *PURCHASE_IDENTITY, HANDOFF_CHOICE]

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if is_purchase_case(case_number_asked(tracker)):
            return list(PURCHASE_IDENTITY)
        return await super().required_slots(domain_slots, dispatcher, tracker, domain)

    def next_slot(self, tracker: Tracker) -> str | None:
        if is_purchase_case(case_number_asked(tracker)):
            if tracker.get_slot("claim_email") is None:
                return "claim_email"
            return None if tracker.get_slot("claim_email_code") == "verified" else "claim_email_code"
        slot = super().next_slot(tracker)
        return None if slot in PURCHASE_IDENTITY else slot

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        number = case_number_asked(tracker)
        if not is_purchase_case(number):
            return await super().run(dispatcher, tracker, domain)
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested in PURCHASE_IDENTITY and requested not in tracker.slots_to_validate():
            return []  # nothing for the question asked: Rasa rejects the form and the rules take the message
        events = await self.get_validation_events(dispatcher, tracker, domain)
        events.append(SlotSet("case_number", number))
        tracker.add_slots(events)
        return events + [SlotSet(REQUESTED_SLOT, self.next_slot(tracker))]


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

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        number = case_number_asked(tracker)
        if not is_purchase_case(number):
            return await super().run(dispatcher, tracker, domain)
        done = [*reset_topic_events(), *purchase_identity_reset(), SlotSet("case_continuable", False)]
        if tracker.get_slot("claim_email_code") != "verified":
            return done  # the form ended without a proven email (a backend error): nothing to tell
        service = get_service()
        try:
            decision = call_service(dispatcher, service.purchase_claim_status, tracker.sender_id, number)
        except BackendUnavailable:
            return done
        self.tell(dispatcher, tracker, domain, decision, service)
        return done

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
