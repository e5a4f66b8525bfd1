"""Decisions as values.

A decision reads like the policy: an outcome, the reasons (each a stable code, the clause ID it rests on and the
values that explain it), what is still missing, the next steps with their dates, and the policy version it was
taken under.  The bot picks its sentence by reason code (``domain.yml``), the web widget renders ``to_dict()``, and
the audit log stores the same dict.  Nothing here knows about wording, Rasa or the database.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any


class Outcome(str, enum.Enum):
    APPROVED = "approved"
    DENIED = "denied"
    NEEDS_INFORMATION = "needs_information"
    NEEDS_REVIEW = "needs_review"
    #: informational answers (refund status, credits balance, contacts): nothing to approve or deny
    ANSWERED = "answered"


def _freeze(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


def to_jsonable(value: Any) -> Any:
    """Decimal -> str (never float), dates -> ISO 8601, enums -> value, containers recursively."""
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


@dataclass(frozen=True)
class Reason:
    """Why: a stable code (e.g. ``return_window_passed``), the clause it applies (``RET-1``) and explaining values."""

    code: str
    clause: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _freeze(self.values))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "clause": self.clause, "values": to_jsonable(self.values)}


@dataclass(frozen=True)
class NextStep:
    """What happens next: a stable code (e.g. ``ship_item_back``), an optional clause, an optional due date/time."""

    code: str
    clause: str | None = None
    due: date | datetime | None = None
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _freeze(self.values))

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "clause": self.clause,
            "due": to_jsonable(self.due),
            "values": to_jsonable(self.values),
        }


@dataclass(frozen=True)
class Decision:
    """The answer to one request about one case.

    ``topic`` is one of: return, cancellation, refund, warranty, transit, credits, order_status, identity, contact.
    ``missing`` names facts still needed (e.g. ``serial_number``, ``proof_of_purchase``, ``troubleshooting_outcome``).
    ``values`` carries the figures a reply may quote (deadline, refund amount, expected date...).
    ``case_id`` is set once the service layer has recorded a case.
    """

    topic: str
    outcome: Outcome
    reasons: tuple[Reason, ...]
    policy_version: str
    missing: tuple[str, ...] = ()
    next_steps: tuple[NextStep, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    case_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", tuple(self.reasons))
        object.__setattr__(self, "missing", tuple(self.missing))
        object.__setattr__(self, "next_steps", tuple(self.next_steps))
        object.__setattr__(self, "values", _freeze(self.values))

    @property
    def clauses(self) -> tuple[str, ...]:
        """Every clause ID the decision applied, in first-cited order, without repeats."""
        seen: dict[str, None] = {}
        items: list[Reason | NextStep] = [*self.reasons, *self.next_steps]
        for item in items:
            if item.clause:
                seen.setdefault(item.clause, None)
        return tuple(seen)

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def primary_reason(self) -> Reason | None:
        return self.reasons[0] if self.reasons else None

    def with_case(self, case_id: str) -> Decision:
        from dataclasses import replace

        return replace(self, case_id=case_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "outcome": self.outcome.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "clauses": list(self.clauses),
            "missing": list(self.missing),
            "next_steps": [s.to_dict() for s in self.next_steps],
            "values": to_jsonable(self.values),
            "case_id": self.case_id,
            "policy_version": self.policy_version,
        }

    def widget_payload(self) -> dict[str, Any]:
        """The custom payload the bot attaches to a decision message (issue 3)."""
        return {
            "decision": {
                "topic": self.topic,
                "outcome": self.outcome.value,
                "reasons": [r.code for r in self.reasons],
                "clauses": list(self.clauses),
                "case_id": self.case_id,
                "policy_version": self.policy_version,
                "missing": list(self.missing),
                "next_steps": [s.to_dict() for s in self.next_steps],
            }
        }


def unique_clauses(decisions: Iterable[Decision]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for d in decisions:
        for c in d.clauses:
            seen.setdefault(c, None)
    return tuple(seen)


def make_decision(topic: str, outcome: Outcome, reasons: Iterable[Reason], policy: Any, **kw: Any) -> Decision:
    """A ``topic`` decision taken under ``policy`` (its version is recorded).  Each topic module binds its topic once:
    ``_decision = partial(make_decision, TOPIC)``."""
    return Decision(topic=topic, outcome=outcome, reasons=tuple(reasons), policy_version=policy.version, **kw)
