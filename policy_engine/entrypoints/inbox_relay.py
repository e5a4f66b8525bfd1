"""The built-in inbox's way to the customer: agent replies and hand back go to the Rasa server's internal endpoint
``POST {RASA_INTERNAL_URL}/webhooks/socketio/agent`` (loopback), authenticated with ``HANDOFF_RELAY_TOKEN``
(``Authorization: Bearer``).  Rasa records the reply in the tracker and carries it by the conversation's channel (the
web chat's room, a messaging app's API, or kept for the REST channel's next answer); ``resume`` un-pauses the bot for
that conversation.  Both answer how the message went: ``live``, ``kept``, ``failed``, or ``""`` (not relayed)."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

logger = logging.getLogger(__name__)

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RasaRelay:
    base_url: str
    token: str
    api_token: str | None = None  # RASA_API_TOKEN: reads the live transcript from Rasa's tracker API

    def _request(self, url: str, payload: dict | None = None, token: str | None = None) -> tuple[int, Any]:
        """One HTTP call (standard library: the engine's run-time requirements have no HTTP client); (status, JSON)."""
        data = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - our own Rasa URL
                body = answer.read()
                return answer.status, json.loads(body or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None
        except (urllib.error.URLError, OSError, ValueError) as error:
            logger.warning("the relay to Rasa failed: %s", type(error).__name__)
            return 0, None

    def _post(self, payload: dict) -> str:
        """How the message went (chat_channels/agent_outbound.py): ``live``, ``kept`` (the REST channel's next
        answer), ``failed``; ``""`` when Rasa did not take it."""
        status, body = self._request(f"{self.base_url.rstrip('/')}/webhooks/socketio/agent", payload, self.token)
        if status != 200:
            logger.warning("the relay to Rasa answered %s", status)
            return ""
        return str((body or {}).get("delivery") or "live") if isinstance(body, dict) else "live"

    def deliver(self, conversation_id: str, channel: str, text: str, agent: str) -> str:
        return self._post({"conversation_id": conversation_id, "type": "reply", "text": text, "agent": agent})

    def resume(self, conversation_id: str, channel: str) -> str:
        return self._post({"conversation_id": conversation_id, "type": "resume"})

    def transcript(self, conversation_id: str) -> list[dict] | None:
        """The conversation's messages from Rasa's tracker (``GET /conversations/<id>/tracker``, API token): the
        customer's, the bot's and the agents' (bot messages with ``{"agent": name}`` metadata), oldest first."""
        if not self.api_token:
            return None
        query = urlencode({"token": self.api_token, "include_events": "ALL"})
        url = f"{self.base_url.rstrip('/')}/conversations/{quote(conversation_id, safe='')}/tracker?{query}"
        status, body = self._request(url)
        if status != 200 or not isinstance(body, dict):
            return None
        events = body.get("events")
        lines = []
        for event in events or []:
            kind, text = event.get("event"), event.get("text")
            if kind not in ("user", "bot") or not isinstance(text, str) or not text:
                continue
            agent = (event.get("metadata") or {}).get("agent") if kind == "bot" else None
            speaker = "customer" if kind == "user" else ("agent" if agent else "bot")
            lines.append({"speaker": speaker, "text": text, "agent": agent, "at": event.get("timestamp")})
        return lines


def relay_from_env(env=None):
    """``RASA_INTERNAL_URL`` (default ``http://127.0.0.1:$RASA_PORT``) and ``HANDOFF_RELAY_TOKEN`` (at least 32
    characters); without the token no relay (replies are stored, not delivered)."""
    from .inbox import NoRelay

    env = os.environ if env is None else env
    token = (env.get("HANDOFF_RELAY_TOKEN") or "").strip()
    if len(token) < 32:
        logger.warning(
            "HANDOFF_RELAY_TOKEN is not set (or shorter than 32 characters): agent replies are not delivered"
        )
        return NoRelay()
    url = env.get("RASA_INTERNAL_URL") or f"http://127.0.0.1:{env.get('RASA_PORT') or 5005}"
    return RasaRelay(url, token, (env.get("RASA_API_TOKEN") or "").strip() or None)
