"""The form-validation base class every ``validate_<topic>_form`` builds on (in the spirit of RasaHQ/financial-demo).

Each turn in which the customer gave something (a slot was extracted), in this order:
1. every slot set in this turn is checked by its ``validate_<slot>`` (format only, no backend);
   facts stated for other open slots of the form are kept (``side_facts``: troubleshooting done, the condition),
   and an answer that was only such a fact is noted instead of rejected;
   a bad value is cleared and the customer gets ``utter_invalid_<slot>`` (a hint); after ``MAX_FAILURES`` failures
   in a row the form's next question is ``handoff_choice`` (the offer of a person, to stop, or to try once more)
   instead of the failed question again, and the next answer is tried for the failed slot (``retry_slot``);
2. identity first (RET-4): once order number and email are known, ``identity.verify_identity``;
   a lock-out ends the form (``requested_slot`` = None) and nothing else is asked or disclosed; when the service
   sent a one-time code (step-up), ``verification_code`` is asked next and checked the same way;
3. once verified, facts that need the order (which line, how many units) are resolved against
   ``service.order_overview``; an order with one line needs no question;
4. the next missing slot of ``self.ask_order`` is requested; none left ends the form.

Subclasses set ``form`` and ``topic_slots`` (asking order) and may add ``validate_<slot>`` methods.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from policy_engine.core import formats

from .identity import (
    CODE_SLOT,
    VERIFIED_RESPONSE,
    IdentityState,
    awaiting_code,
    is_verified,
    just_verified,
    verify_identity,
)
from .replies import BackendUnavailable, call_service, reset_topic_events
from .service import get_service
from .side_facts import side_facts
from .uploads import hold_upload

MAX_FAILURES = 3
#: the question asked instead of a question that failed MAX_FAILURES times, and the slot that failed
HANDOFF_CHOICE, RETRY_SLOT = "handoff_choice", "retry_slot"
IDENTITY_ASK_ORDER = ("order_number", "email")

# the formats live in policy_engine/core/formats.py (the "in text" forms: an identifier inside a customer's sentence)
ORDER_NUMBER_RE = formats.ORDER_NUMBER_IN_TEXT
EMAIL_RE = formats.EMAIL_IN_TEXT
VERIFICATION_CODE_RE = formats.VERIFICATION_CODE_IN_TEXT
SERIAL_RE = formats.SERIAL_IN_TEXT
QUANTITY_WORDS = {
    w: i
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    )
}
UNKNOWN = "unknown"


def first_int(value: Any) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else None
    text = str(value or "").strip().lower()
    match = re.search(r"\d+", text)
    if match:
        return int(match.group())
    return next((n for word, n in QUANTITY_WORDS.items() if re.search(rf"\b{word}\b", text)), None)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in {"true", "yes", "y"}:
        return True
    if text in {"false", "no", "n"}:
        return False
    return None


def choose(value: Any, allowed: Sequence[str]) -> str | None:
    """The one allowed code named in ``value`` (the code itself, or as words in a sentence), else None."""
    text = re.sub(r"[\s_-]+", " ", str(value or "").strip().lower())
    if text.replace(" ", "_") in allowed:
        return text.replace(" ", "_")
    hits = [code for code in allowed if re.search(rf"\b{re.escape(code.replace('_', ' '))}\b", text)]
    return hits[0] if len(hits) == 1 else None


def match_line(lines: Sequence[Any], value: Any) -> Any | None:
    """The order line the customer means: its line id, or a unique match on SKU or product name."""
    text = str(value or "").strip().lower()
    if not text:
        return None
    by_id = [line for line in lines if str(line.line_id) == text]
    if by_id:
        return by_id[0]
    hits = [
        line
        for line in lines
        if line.sku.lower() == text or text in line.name.lower() or (len(line.name) > 3 and line.name.lower() in text)
    ]
    if len(hits) == 1:
        return hits[0]
    words = [w for w in re.findall(r"[a-z0-9]+", text) if len(w) > 2]
    scored = sorted(
        ((sum(w in line.name.lower() for w in words), line.line_id, line) for line in lines),
        key=lambda t: (-t[0], t[1]),
    )
    if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][2]
    return None


class SupportFormValidation(FormValidationAction, ABC):
    @property
    @abstractmethod
    def form(self) -> str:
        """The form this validates (subclasses set a class attribute, e.g. ``form = "return_form"``)."""

    topic_slots: Sequence[str] = ()
    #: forms about one order line (returns, warranty) resolve ``order_line``/``quantity`` against the order
    needs_line: bool = False
    #: the questions a file answers (WAR-7's photo); a file sent while another is asked is held (actions/uploads.py)
    takes_uploads: tuple[str, ...] = ()

    def name(self) -> str:
        return f"validate_{self.form}"

    @property
    def ask_order(self) -> list[str]:
        """The form's slots as in domain.yml; ``verification_code`` is asked only in the identity step-up,
        ``handoff_choice`` only after MAX_FAILURES invalid answers."""
        return [*IDENTITY_ASK_ORDER, CODE_SLOT, *self.topic_slots, HANDOFF_CHOICE]

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        # handoff_choice is validated (rasa-sdk validates only these) but asked only after failures (next_slot)
        return self.ask_order

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        held = hold_upload(dispatcher, tracker, self.takes_uploads)
        if held is not None:
            return held
        if not tracker.slots_to_validate():
            # nothing was extracted this turn: answer nothing, so that Rasa rejects the form and the rules can
            # handle the message (a side question, stop, a person...) before the form asks again
            return []
        requested = tracker.get_slot(REQUESTED_SLOT)
        said = tracker.slots_to_validate().get(requested) if requested else None
        wanted = [slot for slot in self.topic_slots if slot != requested and tracker.get_slot(slot) is None]
        facts = side_facts(said, wanted)
        hints = CollectingDispatcher()
        counters = {name: tracker.get_slot(name) for name in ("validation_failures", RETRY_SLOT)}
        events = await self.get_validation_events(hints, tracker, domain)
        if facts and requested and any(e.get("name") == requested and e.get("value") is None for e in events):
            # the answer was about something else the form needs: keep it, and instead of "that doesn't look like
            # <a serial number>" (and a failure counted) say it was noted; the question is asked again
            events += [SlotSet(name, value) for name, value in counters.items()]
            dispatcher.utter_message(response="utter_fact_noted")
        else:
            dispatcher.messages.extend(hints.messages)
        events += [SlotSet(slot, value) for slot, value in facts.items()]
        tracker.add_slots(events)

        identity_events, state = verify_identity(dispatcher, tracker)
        tracker.add_slots(identity_events)
        events += identity_events
        if state in (IdentityState.LOCKED, IdentityState.ERROR):
            return events + reset_topic_events() + [SlotSet(REQUESTED_SLOT, None)]

        if state is IdentityState.VERIFIED and self.needs_line:
            try:
                line_events = self.resolve_line(dispatcher, tracker)
            except BackendUnavailable as error:
                extra = [SlotSet("verified", False)] if error.identity_lost else []
                return events + extra + reset_topic_events() + [SlotSet(REQUESTED_SLOT, None)]
            tracker.add_slots(line_events)
            events += line_events

        next_slot = self.next_slot(tracker)
        if next_slot is None and state is IdentityState.VERIFIED and just_verified(identity_events):
            # nothing more to ask: the decision follows in this turn, and its first message says the order was found
            # (identity.acknowledge_in_decision): not a bubble of its own before it (issue 15, item 7)
            dispatcher.messages[:] = [m for m in dispatcher.messages if m.get("response") != VERIFIED_RESPONSE]
        return events + [SlotSet(REQUESTED_SLOT, next_slot)]

    def next_slot(self, tracker: Tracker) -> str | None:
        if tracker.get_slot(RETRY_SLOT):
            return HANDOFF_CHOICE
        if not is_verified(tracker):
            if awaiting_code(tracker):
                return CODE_SLOT
            return next((s for s in IDENTITY_ASK_ORDER if tracker.get_slot(s) is None), "email")
        skipped = (CODE_SLOT, HANDOFF_CHOICE)  # asked only in the step-up / after MAX_FAILURES (above)
        return next((s for s in self.ask_order if s not in skipped and tracker.get_slot(s) is None), None)

    def timeout_events(self, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """The validation ran out of time (``actions/executor.py`` told ``utter_backend_error``).  What the customer
        gave this turn was not checked, so it is cleared and asked again; the slots collected before stay, and so does
        the form (no I/O here: the abandoned call may still be running in its thread)."""
        events = [SlotSet(name, None) for name in tracker.slots_to_validate()]
        tracker.add_slots(events)
        return events + [SlotSet(REQUESTED_SLOT, self.next_slot(tracker) or tracker.get_slot(REQUESTED_SLOT))]

    # ---------------------------------------------------------------------------------------- failures and hints
    def reject(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, **hint: Any) -> dict[str, Any]:
        """Clear ``slot``, give the hint ``utter_invalid_<slot>``; after MAX_FAILURES in a row offer a way out."""
        failures = int(tracker.get_slot("validation_failures") or 0) + 1
        dispatcher.utter_message(response=f"utter_invalid_{slot}", **hint)
        if failures >= MAX_FAILURES:
            # the offer of a person becomes this turn's question (next_slot): never the same question again with it
            return {slot: None, "validation_failures": 0.0, RETRY_SLOT: slot}
        return {slot: None, "validation_failures": float(failures)}

    def validate_handoff_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to the offer of a person that was not "a person" or "stop" (the rules take those): tried for the
        question that failed; valid, it is kept; anything else ("try once more") asks that question again, with no
        failure counted."""
        retry = tracker.get_slot(RETRY_SLOT)
        cleared = {HANDOFF_CHOICE: None, RETRY_SLOT: None, "validation_failures": 0.0}
        check = getattr(self, f"validate_{retry}", None) if retry else None
        if check is None or str(value or "").startswith("/"):
            return cleared
        result = check(value, CollectingDispatcher(), tracker, domain)  # its hint is not told: the question is
        if isinstance(result, dict) and result.get(retry) is not None:
            return {**cleared, **result, RETRY_SLOT: None, HANDOFF_CHOICE: None}
        return cleared

    @staticmethod
    def accept(slot: str, value: Any) -> dict[str, Any]:
        return {slot: value, "validation_failures": 0.0}

    # ---------------------------------------------------------------------------------------- identity slots
    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        match = ORDER_NUMBER_RE.search(str(value or ""))
        if not match:
            return self.reject(dispatcher, tracker, "order_number")
        return self.accept("order_number", f"AK{match.group(1)}")

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        match = EMAIL_RE.search(str(value or ""))
        if not match:
            return self.reject(dispatcher, tracker, "email")
        return self.accept("email", match.group().lower())

    def validate_verification_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The one-time code (RET-4 step-up): 6 digits, spaces or a dash allowed ("123 456"); checked by the
        service in ``verify_identity``."""
        match = VERIFICATION_CODE_RE.search(str(value or ""))
        if not match:
            return self.reject(dispatcher, tracker, CODE_SLOT)
        return self.accept(CODE_SLOT, match.group(1) + match.group(2))

    # ---------------------------------------------------------------------------------------- order line
    def validate_order_line(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or len(text) > 200:
            return self.reject(dispatcher, tracker, "order_line")
        return {"order_line": text}  # matched against the order once verified (resolve_line)

    def validate_quantity(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = first_int(value)
        if number is None or not 1 <= number <= 999:
            return self.reject(dispatcher, tracker, "quantity")
        return self.accept("quantity", str(number))

    @staticmethod
    def number_answered_the_line(tracker: Tracker) -> bool:
        """This turn's message is a bare number given to "which item?"."""
        text = str((tracker.latest_message or {}).get("text") or "").strip()
        return (
            tracker.get_slot("requested_slot") == "order_line"
            and text.isdigit()
            and "quantity" in (tracker.slots_to_validate())
        )

    def resolve_line(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """Which line (asked only if the order has several) and how many units (asked only if more than one)."""
        service = get_service()
        overview = call_service(dispatcher, service.order_overview, tracker.sender_id, tracker.get_slot("order_number"))
        lines = list(overview.lines)
        chosen, events = tracker.get_slot("order_line"), []
        line = None
        if chosen is not None:
            line = match_line(lines, chosen)
            if line is None:
                events += [SlotSet(k, v) for k, v in self.reject(dispatcher, tracker, "order_line").items()]
        elif len(lines) == 1:
            line = lines[0]
        elif tracker.get_slot("product"):
            line = match_line(lines, tracker.get_slot("product"))
        if line is None:
            return events
        events.append(SlotSet("order_line", str(line.line_id)))
        if "quantity" in self.topic_slots:
            quantity = first_int(tracker.get_slot("quantity"))
            if quantity is not None and self.number_answered_the_line(tracker):
                # "2" to "which item?" is item 2, not two units of it (the NLU also tags it as a quantity)
                events.append(SlotSet("quantity", None))
                quantity = None
            if quantity is None and line.quantity == 1:
                events.append(SlotSet("quantity", "1"))
            elif quantity is not None and quantity > line.quantity:
                tracker.add_slots(events)
                hint = self.reject(dispatcher, tracker, "quantity", max_quantity=str(line.quantity))
                events += [SlotSet(k, v) for k, v in hint.items()]
        return events
