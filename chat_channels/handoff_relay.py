"""A person takes over (issue 17), the Rasa side of the web chat.

While an agent has the conversation the bot is paused: ``action_handoff`` returns Rasa's ``ConversationPaused`` event,
so Rasa still logs every customer message into the tracker (the transcript stays complete) but predicts nothing.
This module gives the web chat channel two things:

* ``POST /webhooks/socketio/agent``, the internal endpoint the agent inbox calls (``policy_engine/entrypoints/
  inbox_relay.py``): ``Authorization: Bearer $HANDOFF_RELAY_TOKEN`` (constant-time compare; the route answers 404
  when the variable is unset) from a loopback peer (the socket's address, never ``X-Forwarded-For``; set
  ``HANDOFF_RELAY_ALLOW_REMOTE=1`` when the inbox runs on another host of a private network). Body
  ``{"conversation_id", "type": "reply", "text", "agent"}``: the agent's words are appended to the tracker as a bot
  message with ``{"agent": name}`` metadata and emitted to the conversation's socket.io room;
  ``{"conversation_id", "type": "resume"}``: ``ConversationResumed``, ``utter_handback`` (domain.yml, also sent) and
  ``action_listen`` are appended, so the bot answers the next message again as in any other turn.
  The message goes out by the conversation's channel (``agent_outbound.send``): a messaging app's API, kept for the
  REST channel's next response, or the web chat's room; the answer says how (``delivery``: live, kept, failed).
* ``conversation_paused(app, sender_id)``: the channel sends no "something went wrong" when a turn is silent
  because the bot is paused.

Runs inside the Rasa server (.venv-rasa): imports nothing from the engine or the actions.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import agent_outbound

logger = logging.getLogger(__name__)

MAX_AGENT_TEXT = 2000
HANDBACK_RESPONSE = "utter_handback"


def relay_token(environ: dict[str, str]) -> str | None:
    token = (environ.get("HANDOFF_RELAY_TOKEN") or "").strip()
    if token and len(token) < 32:
        raise ValueError("HANDOFF_RELAY_TOKEN must be at least 32 characters (or unset: agent replies are off)")
    return token or None


def _loopback(ip: str | None) -> bool:
    try:
        return ipaddress.ip_address(ip or "").is_loopback
    except ValueError:
        return False


def rasa_app() -> Any:
    """The Rasa server's Sanic app (``rasa_server``), or None."""
    from sanic import Sanic

    try:
        return Sanic.get_app()
    except Exception:  # noqa: BLE001 - no app, or several: then the check below answers "not paused"
        return None


async def conversation_paused(app: Any, sender_id: str) -> bool:
    """The tracker of ``sender_id`` is paused (an agent has the conversation)."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:  # noqa: BLE001 - a store error must not silence the "something went wrong" answer
        return False
    return bool(tracker is not None and tracker.is_paused())


def _handback_text(agent: Any) -> str | None:
    responses = getattr(getattr(agent, "domain", None), "responses", {}) or {}
    variants = responses.get(HANDBACK_RESPONSE) or []
    return variants[0].get("text") if variants and isinstance(variants[0], dict) else None


class AgentRelay:
    """The internal endpoint; ``emit(conversation_id, message)`` sends one bot message into the customer's chat."""

    def __init__(self, token: str | None, emit: Any, *, allow_remote: bool = False) -> None:
        self.token = token
        self.emit = emit
        self.allow_remote = allow_remote

    @classmethod
    def from_env(cls, emit: Any) -> AgentRelay:
        environ = dict(os.environ)
        allow = (environ.get("HANDOFF_RELAY_ALLOW_REMOTE") or "").strip().lower() in {"1", "true", "yes"}
        return cls(relay_token(environ), emit, allow_remote=allow)

    def _authorised(self, request: Request) -> bool:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        return (
            self.token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(presented.strip().encode(), self.token.encode())
        )

    async def handle(self, request: Request) -> HTTPResponse:
        if self.token is None:
            return response.json({"error": "not found"}, status=404)
        peer = request.conn_info.client_ip if request.conn_info else None
        if not self.allow_remote and not _loopback(peer):
            return response.json({"error": "forbidden"}, status=403)
        if not self._authorised(request):
            return response.json({"error": "a valid bearer token is required"}, status=401)
        try:
            body = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("conversation_id"), str):
            return response.json({"error": "the body must be a JSON object with conversation_id and type"}, status=400)
        conversation_id, kind = body["conversation_id"], body.get("type")
        text = body.get("text")
        if kind == "reply" and (not isinstance(text, str) or not text.strip() or len(text) > MAX_AGENT_TEXT):
            return response.json({"error": f"text must be 1-{MAX_AGENT_TEXT} characters"}, status=400)
        if kind not in ("reply", "resume"):
            return response.json({"error": "type must be reply or resume"}, status=400)
        agent = request.app.ctx.agent
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.tracker_store.retrieve(conversation_id)
            if tracker is None:
                return response.json({"error": "no such conversation"}, status=404)
            channel = tracker.get_latest_input_channel()
            if kind == "reply" and isinstance(text, str):
                name = str(body.get("agent") or "agent")[:80]
                message: dict[str, Any] | None = {"text": text.strip(), "metadata": {"agent": name}}
                tracker.update(BotUttered(text.strip(), metadata={"agent": name}))
            else:
                handback = _handback_text(agent)
                message = {"text": handback} if handback else None
                tracker.update(ConversationResumed())
                if handback:
                    tracker.update(BotUttered(handback, metadata={"utter_action": HANDBACK_RESPONSE}))
                # the pause ended the turn of action_handoff without action_listen: close it, so that the next
                # message is predicted from a listening state like any other turn
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)
        delivery: str | None = None
        if message is not None:  # by the conversation's channel: a messaging app, REST (kept), else the web chat
            delivery = await agent_outbound.send(request.app, conversation_id, channel, message)
            if delivery is None:
                await self.emit(conversation_id, message)
                delivery = "live"
        return response.json({"status": "ok", "delivery": delivery})
