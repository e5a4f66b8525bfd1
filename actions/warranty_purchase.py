"""Warranty for a product bought elsewhere (WAR-9, WAR-12, WAR-20; issue 15, item 2): where, which product, when,
for how much, the serial number, the defect, troubleshooting (WAR-6), the receipt and a photo (uploads); the decision
(``service.preview_purchase_claim``: no order, no verification); on the customer's yes the email the claim is kept
under, checked by a one-time code sent to it, then the ``WAR-E`` case with its evidence (``open_purchase_claim``).

An upload arrives as ``/upload_file{"upload_id": "..."}`` (the chat page after its upload, or a messaging channel
after it downloaded the file); ``service.register_upload`` accepts only an upload of this conversation."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from policy_engine.core import formats
from policy_engine.core.errors import InvalidRequest
from policy_engine.core.warranty_request import WarrantyRequest

from .base import SERIAL_RE, UNKNOWN, as_bool
from .flow import CONFIRMABLE
from .replies import BackendUnavailable, call_service, template_values, utter_decision
from .service import get_service
from .uploads import HoldsUploads

TOPIC = "purchase_warranty"
PURCHASE_SLOTS = (
    "purchase_seller",
    "purchase_product",
    "purchase_sku",
    "purchase_day",
    "purchase_price",
    "purchase_serial",
    "purchase_defect",
    "purchase_troubleshooting",
    "purchase_receipt",
    "purchase_photo",
    "claim_email",
    "claim_email_code",
)
NO_FILE = ("none", "skipped")
MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\.?,?\s+(\d{4})\b")
_MONTH_DAY = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_US = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_AMOUNT = re.compile(r"(\d{1,6}(?:[.,]\d{1,2})?)")
_OTHER_SELLER = re.compile(r"^\s*(somewhere else|other|another (shop|store)|elsewhere)\s*$", re.I)


def parse_day(text: str) -> date | None:
    """``2025-03-14``, ``14 March 2025``, ``March 14, 2025``, ``03/14/2025`` (US order) -> a date, else None."""
    t = str(text or "").strip().lower()
    try:
        if m := _ISO.search(t):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if (m := _DAY_MONTH.search(t)) and m[2] in MONTHS:
            return date(int(m[3]), MONTHS[m[2]], int(m[1]))
        if (m := _MONTH_DAY.search(t)) and m[1] in MONTHS:
            return date(int(m[3]), MONTHS[m[1]], int(m[2]))
        if m := _US.search(t):
            return date(int(m[3]), int(m[1]), int(m[2]))
    except ValueError:
        return None
    return None


def parse_price(text: str) -> Decimal | None:
    """``$59.99``, ``59,99``, ``60 dollars`` -> Decimal, else None."""
    cleaned = re.sub(r"(\d),(\d{3})\b", r"\1\2", str(text or "")).replace(",", ".")
    m = _AMOUNT.search(cleaned)
    if m is None:
        return None
    try:
        return Decimal(m[1]).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def reset_purchase_events() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in PURCHASE_SLOTS] + [SlotSet("pending_confirmation", None)]


class ValidatePurchaseWarrantyForm(HoldsUploads, FormValidationAction):
    takes_uploads = ("purchase_receipt", "purchase_photo")

    def name(self) -> str:
        return "validate_purchase_warranty_form"

    def validate_purchase_seller(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not text or _OTHER_SELLER.match(text) or len(text) > 80:
            dispatcher.utter_message(response="utter_invalid_purchase_seller")
            return {"purchase_seller": None}
        return {"purchase_seller": text}

    def validate_purchase_product(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            found = call_service(dispatcher, get_service().find_product, str(value or "")[:200])
        except BackendUnavailable:
            return {"purchase_product": None}
        if not found:
            dispatcher.utter_message(response="utter_invalid_purchase_product")
            return {"purchase_product": None}
        return {"purchase_product": found["name"], "purchase_sku": found["sku"]}

    def validate_purchase_day(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        day = parse_day(str(value or ""))
        if day is None or day > date.today() or day.year < 2000:
            dispatcher.utter_message(response="utter_invalid_purchase_day")
            return {"purchase_day": None}
        return {"purchase_day": day.isoformat()}

    def validate_purchase_price(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        price = parse_price(str(value or ""))
        if price is None or price > Decimal("100000"):
            dispatcher.utter_message(response="utter_invalid_purchase_price")
            return {"purchase_price": None}
        return {"purchase_price": str(price)}

    def validate_purchase_serial(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        for candidate in SERIAL_RE.findall(str(value or "").upper()):
            if sum(ch.isdigit() for ch in candidate) >= formats.SERIAL_MIN_DIGITS:
                return {"purchase_serial": candidate}
        return {"purchase_serial": UNKNOWN}  # WAR-7 accepts a photo instead: never asked twice

    def validate_purchase_defect(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not formats.DEFECT_MIN_CHARS <= len(text) <= formats.TEXT_MAX_CHARS:
            dispatcher.utter_message(response="utter_invalid_purchase_defect")
            return {"purchase_defect": None}
        return {"purchase_defect": text}

    def validate_purchase_troubleshooting(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = as_bool(value)
        if answer is None:
            dispatcher.utter_message(response="utter_invalid_purchase_troubleshooting")
        return {"purchase_troubleshooting": answer}

    def _upload(self, slot: str, kind: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict:
        if value in NO_FILE:
            return {slot: value}
        try:
            get_service().register_upload(tracker.sender_id, str(value or ""), kind)
        except InvalidRequest:
            dispatcher.utter_message(response=f"utter_invalid_{slot}")
            return {slot: None}
        except Exception:  # noqa: BLE001 - told generically, logged by call_service's pattern
            dispatcher.utter_message(response="utter_backend_error")
            return {slot: None}
        dispatcher.utter_message(response=f"utter_upload_received_{'receipt' if kind == 'receipt' else 'photo'}")
        return {slot: str(value)}

    def validate_purchase_receipt(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._upload("purchase_receipt", "receipt", value, dispatcher, tracker)

    def validate_purchase_photo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._upload("purchase_photo", "defect", value, dispatcher, tracker)


class ClaimEmailValidation:
    """The email a claim without an order is kept under, proven by a one-time code mailed to it
    (``service.send_claim_email_code`` / ``verify_claim_email``): when a claim is opened here, and when the customer
    comes back to a ``WAR-E`` claim (``actions/cases.py``)."""

    def validate_claim_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = formats.EMAIL_IN_TEXT.search(str(value or ""))
        if found is None:
            dispatcher.utter_message(response="utter_invalid_claim_email")
            return {"claim_email": None}
        try:
            answer = call_service(dispatcher, get_service().send_claim_email_code, tracker.sender_id, found[0])
        except BackendUnavailable:
            return {"claim_email": None}
        if answer.code != "code_sent":
            dispatcher.utter_message(response="utter_invalid_claim_email")
            return {"claim_email": None}
        return {"claim_email": found[0].lower()}

    def validate_claim_email_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            answer = call_service(dispatcher, get_service().verify_claim_email, tracker.sender_id, str(value))
        except BackendUnavailable:
            return {"claim_email_code": None}
        if answer.verified:
            return {"claim_email_code": "verified"}
        if answer.code == "code_expired":
            dispatcher.utter_message(response="utter_claim_email_code_expired")
            return {"claim_email_code": None, "claim_email": None}
        dispatcher.utter_message(response="utter_invalid_claim_email_code")
        return {"claim_email_code": None}


class ValidatePurchaseEmailForm(ClaimEmailValidation, HoldsUploads, FormValidationAction):
    def name(self) -> str:
        return "validate_purchase_email_form"


def stated_purchase(tracker: Tracker) -> tuple[str, dict[str, Any], WarrantyRequest]:
    serial = tracker.get_slot("purchase_serial")
    photo = tracker.get_slot("purchase_photo")
    stated = {
        "seller": tracker.get_slot("purchase_seller") or "",
        "purchased_on": date.fromisoformat(str(tracker.get_slot("purchase_day"))),
        "price": Decimal(str(tracker.get_slot("purchase_price"))),
        "country": "US",
    }
    request = WarrantyRequest(
        line_id=None,
        serial_number=None if serial in (None, UNKNOWN) else serial,
        defect=tracker.get_slot("purchase_defect") or "",
        troubleshooting_done=tracker.get_slot("purchase_troubleshooting"),
        evidence_provided=bool(photo and photo not in NO_FILE),
    )
    return str(tracker.get_slot("purchase_sku") or ""), stated, request


def _ready(tracker: Tracker) -> bool:
    needed = ("purchase_seller", "purchase_sku", "purchase_day", "purchase_price", "purchase_defect")
    return all(tracker.get_slot(s) for s in needed)


class ActionPreviewPurchaseWarranty(Action):
    """The decision for the purchase as stated; a yes/no question when there is something to open."""

    def name(self) -> str:
        return "action_preview_purchase_warranty"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not _ready(tracker):
            return reset_purchase_events()
        service = get_service()
        try:
            sku, stated, request = stated_purchase(tracker)
            decision = call_service(dispatcher, service.preview_purchase_claim, tracker.sender_id, sku, stated, request)
        except (BackendUnavailable, ValueError, InvalidOperation):
            return reset_purchase_events()
        utter_decision(dispatcher, decision, domain, service, tracker.current_slot_values())
        if decision.outcome in CONFIRMABLE:
            dispatcher.utter_message(response="utter_confirm_purchase_warranty")
            return [SlotSet("pending_confirmation", TOPIC)]
        return reset_purchase_events()


class ActionOpenPurchaseClaim(Action):
    """After the yes and the email's code: the ``WAR-E`` case with its evidence."""

    def name(self) -> str:
        return "action_open_purchase_claim"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("pending_confirmation") != TOPIC or not _ready(tracker):
            return reset_purchase_events()
        if tracker.get_slot("claim_email_code") != "verified":
            return reset_purchase_events()
        service = get_service()
        try:
            sku, stated, request = stated_purchase(tracker)
            decision = call_service(dispatcher, service.open_purchase_claim, tracker.sender_id, sku, stated, request)
        except (BackendUnavailable, ValueError, InvalidOperation):
            return reset_purchase_events()
        if decision.case_id:
            repeated = bool(decision.values.get("repeated"))
            dispatcher.utter_message(
                response="utter_case_already_open" if repeated else "utter_case_opened",
                json_message=decision.widget_payload(),
                **template_values(decision, None, service),
            )
        else:
            utter_decision(dispatcher, decision, domain, service, tracker.current_slot_values())
        return reset_purchase_events()


class ActionAbandonPurchaseClaim(Action):
    def name(self) -> str:
        return "action_abandon_purchase_claim"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_request_abandoned")
        return reset_purchase_events() + [SlotSet("requested_slot", None)]


__all__ = ["parse_day", "parse_price"]
