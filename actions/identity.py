"""Identity first (RET-4): nothing about an order is disclosed and no case is opened before this succeeded.

The verification lives in the service, bound to the conversation id (a grant; issue 12, finding 4): the tracker
holds no credential, only ``verified`` / ``verified_identity`` (custom mappings: only this module sets them, and the
service re-checks its grant on every call anyway).  The bot counts nothing itself: every limit is the service's
(``identity:`` in policy/policy.yml), told through ``Verification.code``:

* ``verified``: ``utter_identity_verified``;
* ``not_verified`` / ``invalid_input``: the same generic ``utter_identity_not_verified`` for an unknown order and a
  wrong email, the email is asked again;
* ``locked_out`` (this conversation's or this client's failures reached the lock-out figure): the lock-out reply and
  the contacts (CON-1); the form ends.  A later attempt in this conversation gets a one-time code instead;
* ``code_sent`` (step-up): ``utter_identity_code_sent`` ("if the details match, we've sent a code"), the same answer
  whether or not they matched; the form then asks ``verification_code`` and ``service.verify_code`` checks it
  (``invalid_code``: ``utter_invalid_verification_code``; ``code_expired``: ``utter_verification_code_expired`` and
  the email is asked again, which sends a new code).

The client (``metadata["client"]`` of the latest user message: the channel's keyed hash of the caller's address,
which clients cannot set) is passed to the service for its per-client throttling; None without one (``rasa shell``).
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .combine import prepend_part
from .handoff import utter_contacts
from .replies import BackendUnavailable, call_service
from .service import get_service

logger = logging.getLogger(__name__)

#: "Thanks, I've found order {order_number}."
VERIFIED_RESPONSE = "utter_identity_verified"

#: the slot the forms ask once the service sent a one-time code; ``verification_pending`` remembers for which
#: (order number, email) the code was requested (set only by this module: custom mapping)
CODE_SLOT = "verification_code"
PENDING_SLOT = "verification_pending"


class IdentityState(str, enum.Enum):
    PENDING = "pending"  # order number or email still missing
    VERIFIED = "verified"
    FAILED = "failed"  # ask the email again
    CODE_REQUIRED = "code"  # ask the one-time code (step-up)
    LOCKED = "locked"  # stop the request, give contacts
    ERROR = "error"  # backend error, already told generically


def identity_key(order_number: str | None, email: str) -> str:
    return f"{order_number}|{email}"


def is_verified(tracker: Tracker) -> bool:
    return tracker.get_slot("verified") is True


def client_of(tracker: Tracker) -> str | None:
    """The channel's client key of the latest user message, if any (never something the client can set)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    client = metadata.get("client") if isinstance(metadata, dict) else None
    return client if isinstance(client, str) and client else None


def awaiting_code(tracker: Tracker) -> bool:
    """A code was requested for the (order number, email) now in the slots and the customer has not verified."""
    order_number, email = tracker.get_slot("order_number"), tracker.get_slot("email")
    pending = tracker.get_slot(PENDING_SLOT)
    return bool(pending and order_number and email and pending == identity_key(order_number, email))


def verify_identity(dispatcher: CollectingDispatcher, tracker: Tracker) -> tuple[list[dict[str, Any]], IdentityState]:
    """Verify (order number, email) once both are known and not yet verified together; in step-up, the code."""
    order_number, email = tracker.get_slot("order_number"), tracker.get_slot("email")
    if not order_number or not email:
        return [], IdentityState.PENDING
    key = identity_key(order_number, email)
    if is_verified(tracker) and tracker.get_slot("verified_identity") == key:
        return [], IdentityState.VERIFIED
    if awaiting_code(tracker):
        if tracker.get_slot(CODE_SLOT) is None:
            return [], IdentityState.CODE_REQUIRED
        return _check_code(dispatcher, tracker, email)

    # a different order with the email verified for the previous one: try it, but if it does not match, simply ask
    # for this order's email instead of telling a failure (one customer, several orders)
    previous = str(tracker.get_slot("verified_identity") or "")
    carried_email = previous.endswith(f"|{email}") and previous != key

    service = get_service()
    try:
        result = call_service(
            dispatcher, service.verify_customer, tracker.sender_id, order_number, email, client=client_of(tracker)
        )
    except BackendUnavailable:
        return _cleared(email_too=False), IdentityState.ERROR

    if result.verified:
        return _verified(dispatcher, result.order_number or order_number, email), IdentityState.VERIFIED
    if result.code == "code_sent":
        dispatcher.utter_message(response="utter_identity_code_sent")
        return _cleared(email_too=False) + [
            SlotSet(PENDING_SLOT, key),
            SlotSet(CODE_SLOT, None),
        ], IdentityState.CODE_REQUIRED
    if result.code == "invalid_input":
        dispatcher.utter_message(response="utter_identity_not_verified")
        return _cleared(email_too=True), IdentityState.FAILED
    if carried_email and result.code == "not_verified":
        return _cleared(email_too=True), IdentityState.PENDING

    failures = int(tracker.get_slot("identity_failures") or 0) + 1
    logger.info("identity not verified (%s), %d attempts left", result.code, result.attempts_left)
    if result.code == "locked_out":
        return _locked(dispatcher, failures)
    dispatcher.utter_message(response="utter_identity_not_verified")
    return _cleared(email_too=True) + [SlotSet("identity_failures", float(failures))], IdentityState.FAILED


def _check_code(
    dispatcher: CollectingDispatcher, tracker: Tracker, email: str
) -> tuple[list[dict[str, Any]], IdentityState]:
    service = get_service()
    try:
        result = call_service(
            dispatcher, service.verify_code, tracker.sender_id, tracker.get_slot(CODE_SLOT), client=client_of(tracker)
        )
    except BackendUnavailable:
        return [SlotSet(CODE_SLOT, None)], IdentityState.ERROR
    if result.verified:
        return _verified(dispatcher, result.order_number, email), IdentityState.VERIFIED
    if result.code == "code_expired":
        dispatcher.utter_message(response="utter_verification_code_expired")
        return _cleared(email_too=True), IdentityState.FAILED
    dispatcher.utter_message(response="utter_invalid_verification_code")
    return [SlotSet(CODE_SLOT, None)], IdentityState.CODE_REQUIRED


def _verified(dispatcher: CollectingDispatcher, order_number: str | None, email: str) -> list[dict[str, Any]]:
    dispatcher.utter_message(response=VERIFIED_RESPONSE, order_number=order_number)
    return [
        SlotSet("order_number", order_number),
        SlotSet("verified", True),
        SlotSet("verified_identity", identity_key(order_number, email)),
        SlotSet("identity_failures", 0.0),
        SlotSet(PENDING_SLOT, None),
        SlotSet(CODE_SLOT, None),
    ]


def just_verified(events: list[dict[str, Any]]) -> bool:
    """``events`` (this turn's) verify the conversation."""
    return any(e.get("event") == "slot" and e.get("name") == "verified" and e.get("value") is True for e in events)


def verified_this_turn(tracker: Tracker) -> bool:
    """The conversation was verified since the customer's last message (by the form that just ended)."""
    since: list[dict[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        since.append(event)
    return just_verified(since)


def acknowledge_in_decision(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> None:
    """When the form verified the customer and ended in this turn, its "Thanks, I've found order AK..." was held back
    (``base.SupportFormValidation.run``): it opens the decision's first message instead of a bubble of its own, so a
    decision turn stays at three messages (issue 15, item 7)."""
    if not verified_this_turn(tracker):
        return
    order_number = tracker.get_slot("order_number")
    if not dispatcher.messages:
        dispatcher.utter_message(response=VERIFIED_RESPONSE, order_number=order_number)
        return
    prepend_part(dispatcher, domain, (VERIFIED_RESPONSE, {"order_number": order_number}), tracker.current_slot_values())


def _cleared(email_too: bool) -> list[dict[str, Any]]:
    events = [
        SlotSet("verified", False),
        SlotSet("verified_identity", None),
        SlotSet(PENDING_SLOT, None),
        SlotSet(CODE_SLOT, None),
    ]
    if email_too:
        events.append(SlotSet("email", None))
    return events


def _locked(dispatcher: CollectingDispatcher, failures: int) -> tuple[list[dict[str, Any]], IdentityState]:
    dispatcher.utter_message(response="utter_identity_locked_out")
    utter_contacts(dispatcher)
    return _cleared(email_too=True) + [SlotSet("identity_failures", float(failures))], IdentityState.LOCKED
