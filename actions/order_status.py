"""Where an order is (issue 15, item 1): identity (RET-4), then the status, each parcel with its carrier, tracking
number and link, and for a late parcel the way on: the delay claim with Worry-Free insurance (INS-1), else the
contacts (CON-1).

At most three messages: the order's status (the first reason, with the widget payload), one line per parcel, and the
next step (the delay-claim question has buttons that start the transit flow with the problem already set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .base import SupportFormValidation
from .combine import utter_parts
from .flow import AnswerAction
from .replies import reset_topic_events, template_values, utter_next_steps

#: the next step of a late parcel with Worry-Free insurance (INS-1): the delay claim, asked as a yes/no question
DELAY_CLAIM = "transit_claim"
#: reasons the parcel lines already say: told only when the order has no parcel line to show
SAID_BY_PARCELS = ("in_transit", "partly_delivered", "delivered")


@dataclass(frozen=True)
class ParcelLine:
    """One parcel's values, given to ``template_values`` like a reason's (its own values win over the order's)."""

    values: dict[str, Any]


class ValidateOrderStatusForm(SupportFormValidation):
    form = "order_status_form"
    topic_slots = ()


def parcel_response(parcel: dict[str, Any]) -> str:
    """The response for one parcel line: delivered, late, on its way (with or without an expected date), and the
    variant without a link when the carrier has no tracking page."""
    if parcel.get("status") == "delivered":
        state = "delivered"
    elif parcel.get("late"):
        state = "late"
    elif parcel.get("expected_latest") is not None:
        state = "in_transit"
    else:
        state = "in_transit_undated"
    return f"utter_order_status_parcel_{state}" + ("" if parcel.get("tracking_url") else "_no_link")


class ActionOrderStatus(AnswerAction):
    topic, action_name = "order_status", "action_order_status"

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.order_status(*self.args(tracker))

    def tell(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], decision: Any, service: Any
    ) -> list[dict[str, Any]]:
        parcels = list(decision.values.get("parcels") or ())
        reasons = [r for r in decision.reasons if not (parcels and r.code in SAID_BY_PARCELS)] or decision.reasons[:1]
        first = reasons[0]
        # the status and one line per parcel are one message (its own values win over the order's: its dates, its
        # link); what happens next is the second; the transit claim's question, if any, the third (issue 15, item 7)
        parts = [(f"utter_order_status_{first.code}", template_values(decision, first, service))]
        parts += [(parcel_response(p), template_values(decision, ParcelLine(p), service)) for p in parcels]
        utter_parts(dispatcher, domain, parts, tracker.current_slot_values(), decision.widget_payload())
        utter_next_steps(dispatcher, decision, domain, service, tracker.current_slot_values())
        if any(step.code == DELAY_CLAIM for step in decision.next_steps):
            # INS-1: the question asked is the transit claim's own confirmation (data/rules/transit.yml answers
            # "yes" with the claim for a delayed parcel, "no" with nothing written)
            return [
                *reset_topic_events(),
                SlotSet("transit_problem", "delayed"),
                SlotSet("pending_confirmation", "transit"),
            ]
        return reset_topic_events()
