"""A customer talking to the running bot over Rasa's REST channel, and what the tests read back.

Tests assert on what the bot *did*, never on its sentences: the decision payloads it attached
(``{"custom": {"decision": {...}}}``, see ``policy_engine.core.decision.Decision.widget_payload``), the responses it
chose (``utter_action`` names from the conversation tracker, ``GET /conversations/<id>/tracker``), the slots it set, and
the rows the action server wrote to the support database.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests


@dataclass
class Turn:
    """The bot's messages in answer to one customer message."""

    said: str
    messages: list[dict[str, Any]]
    seconds: float

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return [
            m["custom"]["decision"]
            for m in self.messages
            if isinstance(m.get("custom"), dict) and isinstance(m["custom"].get("decision"), dict)
        ]

    @property
    def decision(self) -> dict[str, Any]:
        """The one decision of this turn (fails the test clearly if there is none or several)."""
        found = self.decisions
        assert len(found) == 1, f"expected one decision after {self.said!r}, got {len(found)}: {self.messages}"
        return found[0]

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for m in self.messages for b in (m.get("buttons") or [])]


@dataclass
class Customer:
    """One conversation with a unique sender id."""

    rasa_url: str
    rest_token: str = ""  # REST_CHANNEL_TOKEN: the REST channel is server-to-server (issue 12)
    api_token: str = ""  # RASA_API_TOKEN: the tracker API needs it too
    sender: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}")
    #: the client address a proxy would report (the test stacks run with TRUST_PROXY=1): one of its own per customer
    forwarded_for: str = field(default_factory=lambda: "198.18.{}.{}".format(*uuid.uuid4().bytes[:2]))
    timeout: float = 60.0
    turns: list[Turn] = field(default_factory=list)

    @classmethod
    def of(cls, settings: Any, **kwargs: Any) -> Customer:
        """A new conversation with the stack described by ``settings`` (``botstack.Settings`` with secrets)."""
        return cls(
            settings.rasa_url, settings.secrets["REST_CHANNEL_TOKEN"], settings.secrets["RASA_API_TOKEN"], **kwargs
        )

    def says(self, text: str) -> Turn:
        started = time.perf_counter()
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            headers={
                "Authorization": f"Bearer {self.rest_token}",
                **({"X-Forwarded-For": self.forwarded_for} if self.forwarded_for else {}),
            },
            timeout=self.timeout,
        )
        response.raise_for_status()
        turn = Turn(text, response.json(), time.perf_counter() - started)
        self.turns.append(turn)
        return turn

    def tracker(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.rasa_url}/conversations/{self.sender}/tracker",
            params={"token": self.api_token},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return response.json()

    def slots(self) -> dict[str, Any]:
        return self.tracker()["slots"]

    def responses(self) -> list[str]:
        """Names of every response the bot uttered in this conversation, in order (``utter_...``; each part of a
        combined message counts)."""
        names = []
        for event in self.tracker()["events"]:
            if event.get("event") == "bot":
                metadata = event.get("metadata") or {}
                # a combined message (actions/combine.py) names every response it told, in order
                parts = metadata.get("utter_parts") or [metadata.get("utter_action")]
                names.extend(name for name in parts if name)
        return names

    def actions(self) -> list[str]:
        return [e["name"] for e in self.tracker()["events"] if e.get("event") == "action"]

    def all_decisions(self) -> list[dict[str, Any]]:
        return [d for turn in self.turns for d in turn.decisions]

    def transcript(self) -> str:
        """For assertion messages: what was said and what came back."""
        lines = []
        for turn in self.turns:
            lines.append(f"> {turn.said}")
            for message in turn.messages:
                lines.append(f"< {json.dumps({k: v for k, v in message.items() if k != 'recipient_id'})[:300]}")
        return "\n".join(lines)


def asked(customer: Customer, slot: str) -> None:
    """The form is now asking for ``slot`` (the bot understood the previous message)."""
    requested = customer.slots().get("requested_slot")
    assert requested == slot, (
        f"expected the bot to ask for {slot!r}, it asks for {requested!r}\n{customer.transcript()}"
    )


def verify(customer: Customer, order_number: str, email: str) -> None:
    asked(customer, "order_number")
    customer.says(order_number)
    asked(customer, "email")
    customer.says(email)


class SupportDatabase:
    """Read-only look at the SQLite support database the action server writes to."""

    def __init__(self, database_url: str) -> None:
        assert database_url.startswith("sqlite:///"), database_url
        self.path = Path(database_url[len("sqlite:///") :])

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql, params)]

    def order_id(self, order_number: str) -> int:
        found = self.rows("SELECT id FROM orders WHERE order_number = ?", order_number)
        assert found, f"demo order {order_number} is missing: was load-demo run?"
        return found[0]["id"]

    def cases(self, table: str, order_number: str) -> list[dict[str, Any]]:
        return self.rows(f"SELECT * FROM {table} WHERE order_id = ?", self.order_id(order_number))

    def audit(self, conversation_id: str) -> list[dict[str, Any]]:
        """The decision-audit rows the service wrote for one conversation, oldest first."""
        return self.rows("SELECT * FROM decision_audit WHERE conversation_id = ? ORDER BY id", conversation_id)

    def audit_for_case(self, case_id: str) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM decision_audit WHERE case_id = ? ORDER BY id", case_id)


_addresses = (f"198.51.100.{n % 250 + 1}" if n < 250 else f"203.0.113.{n % 250 + 1}" for n in range(500))


def new_address() -> str:
    """A client address no other caller of this function uses (documentation ranges, RFC 5737)."""
    return next(_addresses)


def web_session_token(rasa_url: str, origin: str | None = None) -> str:
    """A signed web chat session token, as the chat page gets one (``POST /webhooks/socketio/session``)."""
    headers = {"Origin": origin} if origin else {}
    response = requests.post(f"{rasa_url}/webhooks/socketio/session", headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()["token"]
