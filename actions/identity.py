"""Identity first (RET-4): nothing about an order is disclosed and no case is opened before this succeeded.

The verification token lives in the ``identity_token`` slot, which has only a custom mapping: no entity, button
payload or typed JSON can set it, only this module.  The service re-checks the token on every call anyway.
The same generic reply for an unknown order and a wrong email; after ``MAX_IDENTITY_FAILURES`` failures in this
conversation (or the service's own lock-out) the lock-out reply and the contacts (CON-1).
"""
from __future__ import annotations

import enum
import logging
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .handoff import utter_contacts
from .replies import BackendUnavailable, call_service
from .service import get_service

logger = logging.getLogger(__name__)

MAX_IDENTITY_FAILURES = 3


class IdentityState(str, enum.Enum):
    PENDING = "pending"      # order number or email still missing
    VERIFIED = "verified"
    FAILED = "failed"        # ask again
    LOCKED = "locked"        # stop the request, give contacts
    ERROR = "error"          # backend error, already told generically


def identity_key(order_number: str, email: str) -> str:
    return f"{order_number}|{email}"


def is_verified(tracker: Tracker) -> bool:
    return bool(tracker.get_slot("identity_token")) and tracker.get_slot("verified") is True


def verify_identity(dispatcher: CollectingDispatcher, tracker: Tracker) -> Tuple[List[Dict[Text, Any]], IdentityState]:
    """Verify (order number, email) once both are known and not yet verified together."""
    order_number, email = tracker.get_slot("order_number"), tracker.get_slot("email")
    if not order_number or not email:
        return [], IdentityState.PENDING
    key = identity_key(order_number, email)
    if is_verified(tracker) and tracker.get_slot("verified_identity") == key:
        return [], IdentityState.VERIFIED

    failures = int(tracker.get_slot("identity_failures") or 0)
    if failures >= MAX_IDENTITY_FAILURES:
        return _locked(dispatcher, failures)
    # a different order with the email verified for the previous one: try it, but if it does not match, simply ask
    # for this order's email instead of counting a failure (one customer, several orders)
    previous = str(tracker.get_slot("verified_identity") or "")
    carried_email = previous.endswith(f"|{email}") and previous != key

    service = get_service()
    try:
        result = call_service(dispatcher, service.verify_customer, tracker.sender_id, order_number, email)
    except BackendUnavailable:
        return _cleared(email_too=False), IdentityState.ERROR

    if result.verified:
        dispatcher.utter_message(response="utter_identity_verified", order_number=result.order_number or order_number)
        return [
            SlotSet("identity_token", result.token),
            SlotSet("verified", True),
            SlotSet("verified_identity", key),
            SlotSet("identity_failures", 0.0),
        ], IdentityState.VERIFIED

    if result.code == "invalid_input":
        dispatcher.utter_message(response="utter_identity_not_verified")
        return _cleared(email_too=True), IdentityState.FAILED
    if carried_email and result.code == "not_verified":
        return _cleared(email_too=True), IdentityState.PENDING

    failures += 1
    logger.info("identity not verified (%s), failure %d", result.code, failures)
    if result.code == "locked_out" or failures >= MAX_IDENTITY_FAILURES:
        return _locked(dispatcher, failures)
    dispatcher.utter_message(response="utter_identity_not_verified")
    return _cleared(email_too=True) + [SlotSet("identity_failures", float(failures))], IdentityState.FAILED


def _cleared(email_too: bool) -> List[Dict[Text, Any]]:
    events = [SlotSet("identity_token", None), SlotSet("verified", False), SlotSet("verified_identity", None)]
    if email_too:
        events.append(SlotSet("email", None))
    return events


def _locked(dispatcher: CollectingDispatcher, failures: int) -> Tuple[List[Dict[Text, Any]], IdentityState]:
    dispatcher.utter_message(response="utter_identity_locked_out")
    utter_contacts(dispatcher)
    return _cleared(email_too=True) + [SlotSet("identity_failures", float(failures))], IdentityState.LOCKED
