"""What the customer reads of a ticket (issue 17, CON-1): the next opening as people write it, and the confirmation
email sent to the verified purchase email."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo


def people_moment(moment: datetime, tz: ZoneInfo) -> str:
    """``Monday 11 March 2024 at 10:00 PDT``: a time as people write it, in the store's time zone."""
    local = moment.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M %Z}"


def ticket_message(sender: str, to: str, ticket_id: str, opening: str | None, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Your Anker support request {ticket_id}"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    when = f"The team is next available on {opening}; " if opening else ""
    message.set_content(
        f"We have your request {ticket_id} from the support chat.\n\n"
        f"{when}a person will read the conversation and reply to this address.\n\n"
        "You do not need to repeat anything: the conversation and any decisions are attached to the request.\n"
    )
    return message
