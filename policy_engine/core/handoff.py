"""A person takes over (CON-1): is the live chat staffed now, when it opens next, and what the agent is shown.

Pure rules over the policy and an injected ``now``:

* ``live_chat_open(policy, now)``: the live-chat hours of ``contacts.live_chat_hours`` (weekdays, open..close in
  ``contacts.hours_timezone``) on a day that is not one of the policy's holidays (``calendar.holidays``).
* ``next_opening(policy, now)``: ``now`` when open, else the start of the next staffed period (aware, in the hours'
  time zone); ``None`` when the hours name no day at all.
* ``decide_handoff(policy, now, ...)``: the ``handoff`` decision the bot answers with: ``agent_joining`` (CON-1, queue
  position) during the hours, ``ticket_opened`` (CON-1, next opening, ticket number) outside them.
* ``expected_wait_minutes(position, recent_waits, default_minutes)``: the wait told beside the queue position.
* ``handoff_summary(...)``: what an agent sees before saying hello: verified order or not, the topic, every decision of
  the conversation with its clauses and case number, the transcript.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .decision import Decision, NextStep, Outcome, Reason
from .policy import Policy

TOPIC = "handoff"

REASON_CODES = ("agent_joining", "ticket_opened")

#: how far ahead ``next_opening`` looks (a year of holidays cannot close every day of it)
_HORIZON_DAYS = 400


class HandoffCause(str, enum.Enum):
    """Why the conversation goes to a person."""

    CUSTOMER_ASKED = "customer_asked"  # the human_handoff intent
    NOT_UNDERSTOOD = "not_understood"  # repeated misunderstanding (the fallback twice)
    NEEDS_REVIEW = "needs_review"  # a decision a person must review


def _local(policy: Policy, now: datetime) -> datetime:
    policy.local_date(now)  # refuses a naive clock
    return now.astimezone(ZoneInfo(policy.contacts.hours_timezone))


def live_chat_open(policy: Policy, now: datetime) -> bool:
    """CON-1: the live chat is staffed at ``now`` (its weekdays and hours, not on a holiday of the calendar)."""
    local = _local(policy, now)
    return policy.contacts.live_chat_hours.is_open(local) and local.date() not in policy.calendar.holidays


def next_opening(policy: Policy, now: datetime) -> datetime | None:
    """CON-1: ``now`` if the live chat is staffed, else when it opens next (aware, in the hours' time zone)."""
    if live_chat_open(policy, now):
        return _local(policy, now)
    hours = policy.contacts.live_chat_hours
    tz = ZoneInfo(policy.contacts.hours_timezone)
    local = _local(policy, now)
    for offset in range(_HORIZON_DAYS):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in hours.days or day in policy.calendar.holidays:
            continue
        opening = datetime.combine(day, hours.open, tzinfo=tz)
        if opening > local:
            return opening
    return None


def expected_wait_minutes(position: int, recent_waits: Sequence[timedelta], default_minutes: int) -> int:
    """CON-1's live chat: about how many minutes the conversation at ``position`` (1 = next) waits for an agent.

    The estimate (docs/handoff.md): ``position`` times the time one place in the queue takes, which is the median of
    ``recent_waits`` (how long recently taken conversations waited, from joining the queue to an agent taking them;
    the service passes the last 20 taken within 7 days) or, without any, the policy's
    ``contacts.live_chat_wait_minutes``; rounded up to whole minutes, at least 1.  Deliberately simple and on the
    long side: a customer told "about 5 minutes" who waits 3 is not let down."""
    if position < 1:
        return 0
    waits = [w.total_seconds() / 60 for w in recent_waits if w >= timedelta(0)]
    per_place = statistics.median(waits) if waits else float(default_minutes)
    return max(1, math.ceil(position * per_place))


def decide_handoff(
    policy: Policy,
    now: datetime,
    *,
    queue_position: int | None = None,
    expected_wait: int | None = None,
    ticket_id: str | None = None,
    cause: HandoffCause = HandoffCause.CUSTOMER_ASKED,
) -> Decision:
    """The answer to a request for a person: during the hours an agent joins (``queue_position``: 1 = next;
    ``expected_wait``: minutes, ``expected_wait_minutes``), outside them a ticket (``ticket_id``) and the next
    opening.  The service decides which by ``live_chat_open``."""
    contacts = policy.contacts
    base: dict[str, Any] = {"cause": cause.value, "email": contacts.email, "hours_timezone": contacts.hours_timezone}
    if live_chat_open(policy, now):
        values = {**base, "queue_position": queue_position, "expected_wait_minutes": expected_wait}
        reason = Reason("agent_joining", "CON-1", values)
        steps: tuple[NextStep, ...] = ()
    else:
        opening = next_opening(policy, now)
        values = {**base, "ticket_id": ticket_id, "next_opening": opening}
        reason = Reason("ticket_opened", "CON-1", values)
        steps = (NextStep("agent_replies", "CON-1", due=opening.date() if opening else None),)
    return Decision(
        topic=TOPIC,
        outcome=Outcome.ANSWERED,
        reasons=(reason,),
        policy_version=policy.version,
        values=values,
        next_steps=steps,
        case_id=ticket_id,
    )


@dataclass(frozen=True)
class TranscriptLine:
    """One message of the conversation: who (``customer``, ``bot``, ``agent``), what, when (aware, or None)."""

    speaker: str
    text: str
    at: datetime | None = None
    agent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "text": self.text,
            "at": self.at.isoformat() if self.at else None,
            "agent": self.agent,
        }


def decision_line(decision: Mapping[str, Any], *, created_at: datetime | None = None) -> dict[str, Any]:
    """One stored decision (``Decision.to_dict()``, as the audit keeps it) as the agent reads it: topic, outcome,
    case number and the clause of every reason and next step."""
    reasons = decision.get("reasons") or []
    cited = [*reasons, *(decision.get("next_steps") or [])]
    return {
        "topic": decision.get("topic"),
        "outcome": decision.get("outcome"),
        "case_id": decision.get("case_id"),
        "clauses": sorted({str(r.get("clause")) for r in cited if isinstance(r, Mapping) and r.get("clause")}),
        "reasons": [str(r.get("code")) for r in reasons if isinstance(r, Mapping) and r.get("code")],
        "at": created_at.isoformat() if created_at else None,
    }


def handoff_summary(
    *,
    verified_order: str | None,
    topic: str | None,
    cause: HandoffCause,
    decisions: Iterable[Mapping[str, Any]],
    transcript: Sequence[TranscriptLine],
) -> dict[str, Any]:
    """What the agent sees first (JSON-ready): the verified order number or ``None`` (not verified: ask RET-4's order
    number and purchase email before disclosing anything), the topic, why the bot handed over, the decisions (each
    ``decision_line``), the transcript.  The customer's words stay as written: whoever renders them escapes them."""
    return {
        "verified": verified_order is not None,
        "order_number": verified_order,
        "topic": topic,
        "cause": cause.value,
        "decisions": list(decisions),
        "transcript": [line.to_dict() for line in transcript],
    }
