"""Chatwoot (issue 17): the open-source support inbox, with this assistant as its agent bot.

Chatwoot holds the customer's conversation (its website widget, or any of its inboxes) and posts the agent bot's
events to ``POST /webhooks/chatwoot/webhook`` (the agent bot's "webhook URL"); the bot answers through Chatwoot's
messages API, and a person takes over inside Chatwoot.  Chatwoot's documented payloads and API
(https://www.chatwoot.com/developers/api/, "Agent Bots", "Webhooks", "Messages", "Conversations"):

* events: ``{"event": "message_created", "id", "content", "message_type": "incoming"|"outgoing"|..., "private",
  "conversation": {"id", "status": "pending"|"open"|"resolved"|..., ...}, "account": {"id"}, "sender": {"id",
  "type": "contact"|"user"}, ...}`` and ``{"event": "conversation_status_changed", "id" (the conversation), "status",
  "account": {"id"}, ...}``;
* a reply: ``POST {CHATWOOT_URL}/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages`` with
  ``{"content", "message_type": "outgoing", "private": false}`` (``private: true``: a note only agents see),
  header ``api_access_token: <the agent bot's access token>``;
* the handoff: ``POST .../conversations/{conversation_id}/toggle_status`` with ``{"status": "open"}``: the
  conversation leaves the bot ("pending") for the agents' queue; an agent setting it back to "pending" hands it back.

Authentication of the webhook: Chatwoot signs its webhook deliveries with the webhook's secret:
``X-Chatwoot-Timestamp`` (Unix seconds) and ``X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret,
"<timestamp>.<raw body>")>``; a delivery whose signature does not match, or whose timestamp is more than
``CHATWOOT_MAX_SKEW_SECONDS`` (300) old, gets 401 and nothing is parsed.  This is exactly what Chatwoot sends:
its ``lib/webhooks/trigger.rb`` (github.com/chatwoot/chatwoot; pinned by ``spec/lib/webhooks/trigger_spec.rb``,
"adds X-Chatwoot-Timestamp and X-Chatwoot-Signature headers with timestamp.body HMAC") sets ``X-Chatwoot-Timestamp``
to ``Time.now.to_i`` and ``X-Chatwoot-Signature`` to ``"sha256=#{OpenSSL::HMAC.hexdigest('SHA256', secret,
"#{ts}.#{body}")}"`` over the JSON body as sent, with the agent bot's secret, plus an ``X-Chatwoot-Delivery`` UUID;
Chatwoot signs only when the bot has a secret, so an unsigned delivery means the secret is not set there.  Bodies
are bounded by Rasa's ``SANIC_REQUEST_MAX_SIZE``; each message id is handled once (``turns.Deduplicator``).

The bot answers only conversations Chatwoot marks ``pending`` (the bot's): when ``action_handoff`` pauses the
conversation (during the live-chat hours, CON-1), the channel opens it in Chatwoot (``toggle_status`` open) and
leaves a private note for the agent (verified order, the decisions with their clauses and case numbers; the
transcript is Chatwoot's own conversation); messages of an ``open`` conversation are the agent's business and the
bot stays silent.  ``conversation_status_changed`` back to ``pending`` resumes the bot (``utter_handback``).

Variables (all or none; docs/channels.md, docs/handoff.md): ``CHATWOOT_URL`` (the Chatwoot installation),
``CHATWOOT_BOT_TOKEN`` (the agent bot's access token), ``CHATWOOT_WEBHOOK_SECRET`` (the webhook's signing secret).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from .guard import Guard
from .handoff_relay import HANDBACK_RESPONSE, conversation_paused, rasa_app
from .messaging import Inbound, MessagingChannel, channel_config
from .platform_api import Api
from .render import decision_summary

logger = logging.getLogger(__name__)

MAX_SKEW_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Chatwoot's webhook signature: ``sha256=`` + hex HMAC-SHA256 over ``"<timestamp>.<raw body>"``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def handoff_note(events: list[dict[str, Any]]) -> str:
    """The private note an agent reads first: every decision of the conversation (its one-line summary with clauses
    and case number) and whether an order was verified."""
    lines = ["Handed over by the assistant (CON-1)."]
    verified = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == "verified_identity" and event.get("value"):
            verified = event["value"]
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        decision = custom.get("decision") if isinstance(custom, dict) else None
        if isinstance(decision, dict) and decision.get("topic") != "handoff":
            clauses = ", ".join(decision.get("clauses") or [])
            lines.append(f"- {decision_summary(custom)} [{clauses}]")
    lines.insert(1, f"Verified order: {verified}." if verified else "Not verified (ask for order number and email).")
    return "\n".join(lines)


class ChatwootInput(MessagingChannel):
    platform = "chatwoot"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        cls._install_logging()
        config = channel_config(
            "Chatwoot",
            ("CHATWOOT_URL", "CHATWOOT_BOT_TOKEN", "CHATWOOT_WEBHOOK_SECRET"),
            min_lengths={"CHATWOOT_WEBHOOK_SECRET": 16},
        )
        return cls(config, Guard() if config else None)

    def __init__(self, config: dict[str, str] | None, guard: Guard | None, dedup: Any = None) -> None:
        super().__init__(config, guard, dedup)
        if config is not None:
            self.secret = config["CHATWOOT_WEBHOOK_SECRET"]
            token = {"api_access_token": config["CHATWOOT_BOT_TOKEN"]}
            self.api = Api("chatwoot", config["CHATWOOT_URL"].rstrip("/"), headers=token)
            self.max_skew = float(os.environ.get("CHATWOOT_MAX_SKEW_SECONDS") or MAX_SKEW_SECONDS)

    # ---- receiving ------------------------------------------------------------------------------------------------
    def verified(self, request: Request) -> bool:
        timestamp = request.headers.get("x-chatwoot-timestamp", "")
        presented = request.headers.get("x-chatwoot-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.max_skew:
            return False
        expected = signature(self.secret, timestamp, request.body or b"")
        return hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode())

    def parse(self, event: dict[str, Any]) -> list[tuple[str, Inbound]]:
        if event.get("event") != "message_created" or event.get("message_type") != "incoming" or event.get("private"):
            return []
        account = (event.get("account") or {}).get("id")
        conversation = event.get("conversation") or {}
        conversation_id, message_id = conversation.get("id"), event.get("id")
        if not all(isinstance(v, int) for v in (account, conversation_id, message_id)):
            return []
        if conversation.get("status") != "pending":  # an agent has it (open), or it is over: not the bot's turn
            return []
        sender = event.get("sender") or {}
        text = event.get("content")
        inbound = Inbound(
            conversation_id=f"cw-{account}-{conversation_id}",
            user_key=f"chatwoot:{account}:{sender.get('id')}",
            reply_to=(account, conversation_id),
        )
        if isinstance(text, str) and text:
            inbound.text = text
        elif event.get("attachments"):
            inbound.kind = "attachment"
        else:
            inbound.kind = "unsupported"
        return [(f"cw:{account}:{message_id}", inbound)]

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        webhook = self.webhook_blueprint(on_new_message)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            event, refusal = await self.verified_json(request, "event", "missing, stale or wrong signature")
            if refusal is not None or event is None:
                return refusal or response.json({"error": "the body must be a JSON event"}, status=400)
            if event.get("event") == "conversation_status_changed":
                await self.status_changed(event)
            else:
                await self.accept(on_new_message, self.parse(event))
            return response.json({"ok": True})

        return webhook

    async def status_changed(self, event: dict[str, Any]) -> None:
        """An agent set the conversation back to ``pending``: the bot answers again (hand back)."""
        account, conversation_id = (event.get("account") or {}).get("id"), event.get("id")
        if event.get("status") != "pending" or not isinstance(account, int) or not isinstance(conversation_id, int):
            return
        sender = f"cw-{account}-{conversation_id}"
        app = rasa_app()
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        if agent is None or not await conversation_paused(app, sender):
            return
        async with agent.lock_store.lock(sender):
            tracker = await agent.tracker_store.retrieve(sender)
            if tracker is None:
                return
            variants = (getattr(agent.domain, "responses", {}) or {}).get(HANDBACK_RESPONSE) or []
            text = variants[0].get("text") if variants else None
            tracker.update(ConversationResumed())
            if text:
                tracker.update(BotUttered(text, metadata={"utter_action": HANDBACK_RESPONSE}))
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)
        if text:
            await self.deliver(Inbound(sender, "", (account, conversation_id)), [{"text": text}])

    async def handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], inbound: Inbound) -> None:
        await super().handle(on_new_message, inbound)
        app = rasa_app()
        if await conversation_paused(app, inbound.conversation_id):  # action_handoff paused it: a person takes over
            await self.open_for_agents(app, inbound)

    async def open_for_agents(self, app: Any, inbound: Inbound) -> None:
        account, conversation_id = inbound.reply_to
        tracker = await app.ctx.agent.tracker_store.retrieve(inbound.conversation_id)
        events = [e.as_dict() for e in tracker.events] if tracker is not None else []
        base = f"api/v1/accounts/{account}/conversations/{conversation_id}"
        await self.api.post(
            f"{base}/messages",
            json={"content": handoff_note(events), "message_type": "outgoing", "private": True},
            what="note",
        )
        await self.api.post(f"{base}/toggle_status", json={"status": "open"}, what="toggle_status")

    # ---- sending --------------------------------------------------------------------------------------------------
    async def deliver(self, inbound: Inbound, messages: list[dict[str, Any]]) -> None:
        account, conversation_id = inbound.reply_to
        for message in messages:
            text = message.get("text") or ""
            custom = message.get("custom")
            if not text:
                text = decision_summary(custom) or ""
            if not text:
                continue
            buttons = message.get("buttons") or []
            if buttons:
                text += "\n" + "\n".join(f"- {b.get('title')}" for b in buttons if isinstance(b, dict))
            await self.api.post(
                f"api/v1/accounts/{account}/conversations/{conversation_id}/messages",
                json={"content": text, "message_type": "outgoing", "private": False},
                what="messages",
            )
