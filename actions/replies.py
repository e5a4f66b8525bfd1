"""Decision -> bot messages, and the guarded service call every action uses.

A decision is told by response *name*: ``utter_<topic>_<reason code>`` for each reason and ``utter_next_step_<code>``
for each next step, the reasons as one message (carrying ``json_message=decision.widget_payload()`` for the web
widget) and the next steps as another (``actions/combine.py``).  The figures go in as template variables
(``template_values``); the wording is in ``domain.yml``.

Backend errors are never shown: ``call_service`` logs them and sends the generic ``utter_backend_error``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policy_engine.core.errors import NotVerified

from .combine import Part, utter_parts

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: slots describing the request in progress; cleared when a request is finished, abandoned or handed off
TOPIC_SLOTS = (
    "order_line",
    "product",
    "quantity",
    "item_condition",
    "quality_issue",
    "serial_number",
    "defect",
    "defect_cause",
    "troubleshooting_done",
    "evidence_provided",
    "country_now",
    "shipped_internationally",
    "transit_problem",
    "validation_failures",
    "retry_slot",
    "handoff_choice",
    "pending_confirmation",
    "case_number",  # coming back to a case (actions/cases.py)
    "case_continuable",
)
#: identity slots (RET-4); only actions set ``verified``, ``verified_identity`` and ``verification_pending``
#: (the verification itself is a grant the service keeps, bound to the conversation id: no credential in the tracker)
IDENTITY_SLOTS = ("order_number", "email", "verified", "verified_identity", "verification_pending", "verification_code")


class BackendUnavailable(Exception):
    """Raised by ``call_service`` after it told the customer (generically) and logged the cause.
    ``identity_lost``: the service refused the verification token (expired or not this conversation's)."""

    def __init__(self, identity_lost: bool = False) -> None:
        super().__init__("identity lost" if identity_lost else "backend error")
        self.identity_lost = identity_lost


def reset_topic_events() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in TOPIC_SLOTS]


def reset_identity_events() -> list[dict[str, Any]]:
    return [
        SlotSet("verified", False),
        SlotSet("verified_identity", None),
        SlotSet("verification_pending", None),
        SlotSet("verification_code", None),
    ]


#: how amounts are written for the policy's ISO 4217 currency (others: "12.34 CHF")
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def human_date(day: date) -> str:
    """A date as people write it: ``Friday 12 December 2026``."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def human_moment(moment: datetime, tz: ZoneInfo | None) -> str:
    """A time as people write it, in the store's time zone: ``Friday 12 December 2026 at 10:00 PST``."""
    if tz is not None and moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return f"{human_date(moment.date())} at {moment:%H:%M %Z}".strip()


def money(amount: Decimal, currency: str | None) -> str:
    """``$12.34``; a currency without a symbol here: ``12.34 CHF``; never through float."""
    text = format(amount.quantize(Decimal("0.01")), "f")
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{text} {currency}" if currency else text


def _text(value: Any, tz: ZoneInfo | None, currency: str | None = None) -> str | None:
    """One template value as text: amounts (Decimal: every Decimal in a decision is money) with the currency, never
    float; dates and times as people write them, in the policy timezone."""
    if value is None or isinstance(value, Mapping):
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return money(value, currency)
    if isinstance(value, datetime):
        return human_moment(value, tz)
    if isinstance(value, date):
        return human_date(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = [_text(v, tz, currency) for v in value]
        return ", ".join(p for p in parts if p)
    return str(value)


def template_values(decision: Any, item: Any = None, service: Any = None) -> dict[str, str]:
    """The template variables for one message about ``decision``: ``support_email`` (CON-1, from the policy), the
    decision's values, then the reason's or next step's own values (they win), ``due`` for a next step,
    ``case_id`` and ``policy_version``.  Datetimes are shown in the policy timezone."""
    tz = policy_tz(service)
    currency = getattr(getattr(service, "policy", None), "currency", None)
    out: dict[str, str] = {}
    contacts = getattr(getattr(service, "policy", None), "contacts", None)
    if contacts is not None:
        out["support_email"] = contacts.email
    sources = [decision.values]
    if item is not None:
        sources.append(item.values)
    for source in sources:
        for key, value in source.items():
            text = _text(value, tz, currency)
            if text is not None:
                out[str(key)] = text
    if item is not None and getattr(item, "due", None) is not None:
        out["due"] = _text(item.due, tz, currency) or ""
    out["case_id"] = decision.case_id or ""
    out["policy_version"] = decision.policy_version
    return out


def policy_tz(service: Any) -> ZoneInfo | None:
    policy = getattr(service, "policy", None)
    try:
        return ZoneInfo(policy.timezone) if policy is not None else None
    except Exception:  # pragma: no cover - a bad timezone is rejected when the policy loads
        return None


def reason_parts(decision: Any, service: Any = None) -> list[Part]:
    """``utter_<topic>_<code>`` with its template values, for every reason."""
    return [
        (f"utter_{decision.topic}_{reason.code}", template_values(decision, reason, service))
        for reason in decision.reasons
    ]


def step_parts(decision: Any, domain: Mapping[str, Any], service: Any = None) -> list[Part]:
    """``utter_next_step_<code>`` for every next step that has a response (others are logged, not invented)."""
    responses = domain.get("responses", {}) if domain else {}
    parts: list[Part] = []
    for step in decision.next_steps:
        name = f"utter_next_step_{step.code}"
        if responses and name not in responses:
            logger.warning("no response %s in domain.yml; next step not told", name)
            continue
        parts.append((name, template_values(decision, step, service)))
    return parts


def utter_reasons(
    dispatcher: CollectingDispatcher,
    decision: Any,
    domain: Mapping[str, Any],
    service: Any = None,
    slots: Mapping[str, Any] | None = None,
) -> None:
    """The reasons as one message, carrying the widget payload (``decision.widget_payload()``)."""
    utter_parts(dispatcher, domain, reason_parts(decision, service), slots, decision.widget_payload())


def utter_next_steps(
    dispatcher: CollectingDispatcher,
    decision: Any,
    domain: Mapping[str, Any],
    service: Any = None,
    slots: Mapping[str, Any] | None = None,
) -> None:
    """What happens next, as one message."""
    utter_parts(dispatcher, domain, step_parts(decision, domain, service), slots)


def utter_decision(
    dispatcher: CollectingDispatcher,
    decision: Any,
    domain: Mapping[str, Any],
    service: Any = None,
    slots: Mapping[str, Any] | None = None,
) -> None:
    """A decision in at most two messages: why (every reason), then what happens next (every next step); the
    question that may follow is the third (issue 15, item 7)."""
    utter_reasons(dispatcher, decision, domain, service, slots)
    utter_next_steps(dispatcher, decision, domain, service, slots)


def call_service(dispatcher: CollectingDispatcher, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one service call.  ``NotVerified`` -> ``utter_identity_required``; anything else that goes wrong is
    logged with its traceback and the customer gets only the generic ``utter_backend_error``.  Both raise
    ``BackendUnavailable`` (with ``identity_lost`` set) so the action can stop and reset its slots."""
    try:
        return func(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - nothing from the backend reaches the customer
        if isinstance(error, NotVerified):
            logger.info("service call %s refused: not verified", getattr(func, "__name__", func))
            dispatcher.utter_message(response="utter_identity_required")
            raise BackendUnavailable(identity_lost=True) from error
        logger.exception("service call %s failed", getattr(func, "__name__", func))
        dispatcher.utter_message(response="utter_backend_error")
        raise BackendUnavailable(identity_lost=False) from error
