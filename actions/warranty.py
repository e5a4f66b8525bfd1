"""Warranty claims (WAR-1..22): the item, serial number, defect and its cause, troubleshooting (WAR-6/7), evidence,
and the country the product is used in (WAR-2); the preview, then the claim after the customer's "yes"."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from policy_engine.core import formats
from policy_engine.core.warranty_request import CAUSES, WarrantyRequest

from .base import SERIAL_RE, UNKNOWN, SupportFormValidation, as_bool, choose
from .flow import CommitAction, PreviewAction, slot_int
from .uploads import register

WARRANTY_SLOTS = (
    "order_line",
    "serial_number",
    "defect",
    "defect_cause",
    "troubleshooting_done",
    "evidence_provided",
    "country_now",
    "shipped_internationally",
)
DEFECT_CAUSES = tuple(c for c in CAUSES if c)
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
UPLOAD_ID_RE = re.compile(r"[0-9a-f]{32}")  # chat_channels/uploads.py
#: "I can't find it", "don't have the serial", "no idea": no serial number (WAR-7 accepts visual evidence instead)
NO_SERIAL_RE = re.compile(r"\b(can'?t|cannot|don'?t|do not|no idea|not sure|unknown|lost|missing|none)\b", re.I)


class ValidateWarrantyForm(SupportFormValidation):
    form = "warranty_form"
    topic_slots = WARRANTY_SLOTS
    needs_line = True
    takes_uploads = ("evidence_provided",)

    def validate_serial_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == UNKNOWN:  # "I can't find it": WAR-7 accepts clear visual evidence instead
            return self.accept("serial_number", UNKNOWN)
        for candidate in SERIAL_RE.findall(str(value or "").upper()):
            if sum(ch.isdigit() for ch in candidate) >= formats.SERIAL_MIN_DIGITS:
                return self.accept("serial_number", candidate)
        if NO_SERIAL_RE.search(str(value or "")):
            return self.accept("serial_number", UNKNOWN)
        return self.reject(dispatcher, tracker, "serial_number")

    def validate_defect(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not formats.DEFECT_MIN_CHARS <= len(text) <= formats.TEXT_MAX_CHARS:
            return self.reject(dispatcher, tracker, "defect")
        return self.accept("defect", text)

    def validate_defect_cause(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        cause = choose(value, DEFECT_CAUSES)
        if cause is None:
            return self.reject(dispatcher, tracker, "defect_cause")
        return self.accept("defect_cause", cause)

    def _yes_no(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        answer = as_bool(value)
        if answer is None:
            return self.reject(dispatcher, tracker, slot)
        return self.accept(slot, answer)

    def validate_troubleshooting_done(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._yes_no("troubleshooting_done", value, dispatcher, tracker)

    def validate_evidence_provided(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """WAR-7: the photo itself (registered as the claim's ``defect`` evidence), or "I don't have one" (the decision
        then says whether the serial number is enough); a bare "yes" asks for the file."""
        if isinstance(value, str) and UPLOAD_ID_RE.fullmatch(value):  # the file was sent: its upload's id
            if not register(dispatcher, tracker, value, "defect"):
                return {"evidence_provided": None}
            dispatcher.utter_message(response="utter_upload_received_photo")
            return self.accept("evidence_provided", True)
        if as_bool(value) is False:
            return self.accept("evidence_provided", False)
        return self.reject(dispatcher, tracker, "evidence_provided")

    def validate_shipped_internationally(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._yes_no("shipped_internationally", value, dispatcher, tracker)

    def validate_country_now(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not COUNTRY_RE.match(text):  # the NLU maps country names to ISO codes (data/nlu/lookups.yml)
            return self.reject(dispatcher, tracker, "country_now")
        return self.accept("country_now", text.upper())


def warranty_request(tracker: Tracker) -> WarrantyRequest:
    serial = tracker.get_slot("serial_number")
    return WarrantyRequest(
        line_id=slot_int(tracker, "order_line"),
        serial_number=None if serial in (None, UNKNOWN) else serial,
        defect=tracker.get_slot("defect") or "",
        cause=tracker.get_slot("defect_cause"),
        troubleshooting_done=tracker.get_slot("troubleshooting_done"),
        evidence_provided=bool(tracker.get_slot("evidence_provided")),
        country_now=tracker.get_slot("country_now"),
        shipped_internationally=bool(tracker.get_slot("shipped_internationally")),
    )


def _warranty_ready(tracker: Tracker) -> bool:
    return all(tracker.get_slot(s) is not None for s in WARRANTY_SLOTS) and slot_int(tracker, "order_line") is not None


class ActionPreviewWarranty(PreviewAction):
    topic, action_name = "warranty", "action_preview_warranty"
    ready = staticmethod(_warranty_ready)

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.preview_warranty(*self.args(tracker), warranty_request(tracker))


class ActionOpenWarrantyClaim(CommitAction):
    topic, action_name = "warranty", "action_open_warranty_claim"

    def ready(self, tracker: Tracker) -> bool:
        return super().ready(tracker) and _warranty_ready(tracker)

    def call(self, service: Any, tracker: Tracker) -> Any:
        return service.open_warranty_claim(*self.args(tracker), warranty_request(tracker))
