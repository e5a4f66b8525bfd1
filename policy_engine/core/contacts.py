"""How to reach support (CON-1): phone, email and live chat with their hours from the policy file."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .decision import Decision, NextStep, Outcome, Reason
from .policy import Policy

TOPIC = "contact"

REASON_CODES = ("contact_channels",)


def contact_info(policy: Policy, now: datetime | None = None) -> Decision:
    """CON-1.  With ``now`` (timezone-aware), ``values`` also says whether phone and chat are open at that moment."""
    c = policy.contacts
    values = {
        "email": c.email,
        "phone_us": c.phone_us,
        "phone_hours": c.phone_hours.to_dict(),
        "live_chat_hours": c.live_chat_hours.to_dict(),
        "hours_timezone": c.hours_timezone,
        "phone_open": c.phone_hours.to_dict()["open"],
        "phone_close": c.phone_hours.to_dict()["close"],
        "chat_open": c.live_chat_hours.to_dict()["open"],
        "chat_close": c.live_chat_hours.to_dict()["close"],
    }
    if now is not None:
        local = now.astimezone(ZoneInfo(c.hours_timezone))
        policy.local_date(now)  # rejects a naive clock
        values["phone_open_now"] = c.phone_hours.is_open(local)
        values["live_chat_open_now"] = c.live_chat_hours.is_open(local)
    return Decision(
        topic=TOPIC,
        outcome=Outcome.ANSWERED,
        reasons=(Reason("contact_channels", "CON-1", values),),
        policy_version=policy.version,
        values=values,
        next_steps=(NextStep("email_support", "CON-1", values={"email": c.email}),),
    )
