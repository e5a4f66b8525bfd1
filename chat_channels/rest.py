"""The REST channel for server-to-server use (tests, the benchmark, a store's own backend): token, bounds, limits.

Rasa 3.6.21's ``rest`` channel trusted whoever posted: any sender id (so anyone could speak in another customer's
verified conversation, issue 12 finding 3), any size, any shape (an empty body or a JSON array gave a 500 with a
traceback, a missing sender shared the conversation ``"default"``, finding 11). Here, at the same URL
``POST /webhooks/rest/webhook``:

* ``Authorization: Bearer <REST_CHANNEL_TOKEN>`` is required (constant-time compare); without it 401 and nothing
  is parsed. With ``REST_CHANNEL_TOKEN`` unset the channel is off: every request gets 404.
* the body must be a JSON object with ``sender`` (``guard.SENDER_ID_RE``) and ``message`` (a string of at most
  ``MAX_MESSAGE_CHARS``): otherwise 400 (or 413 for a long message) with a JSON error, never a traceback;
* messages are rate-limited per conversation and per client address (429 with a JSON error);
* the metadata is ``{"client": <keyed hash of the address>}`` only; the caller's own metadata is dropped;
* a turn that produced no message gets ``guard.NO_ANSWER`` (action server down, an exception in Rasa).

Request bodies over ``SANIC_REQUEST_MAX_SIZE`` are refused with 413 by Sanic before anything is read.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import privacy
from .agent_outbound import address_book
from .guard import NO_ANSWER, Guard
from .handoff_relay import conversation_paused, rasa_app

logger = logging.getLogger(__name__)


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class TokenRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        privacy.install()
        environ = dict(os.environ)
        token = environ.get("REST_CHANNEL_TOKEN", "").strip()
        if token and len(token) < 32:
            raise ValueError("REST_CHANNEL_TOKEN must be at least 32 characters (or unset to turn the channel off)")
        if not token:
            logger.info("REST channel off: REST_CHANNEL_TOKEN is not set")
        return cls(token or None, Guard(environ))

    def __init__(self, token: str | None, guard: Guard) -> None:
        self.token = token
        self.guard = guard

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        return (
            self.token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(presented.strip().encode(), self.token.encode())
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("token_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if self.token is None:
                return _error(404, "not found")
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.token is None:
                return _error(404, "not found")
            if not self._authorised(request):
                await self.guard.refusal_pause()
                return _error(401, "a valid bearer token is required")
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return _error(400, "the body must be a JSON object with 'sender' and 'message'")
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object with 'sender' and 'message'")
            sender = body.get("sender")
            if not self.guard.valid_sender(sender):
                return _error(400, "'sender' must be 1-64 characters: letters, digits, '_', '.', ':' or '-'")
            verdict = self.guard.check_text(body.get("message"))
            if not verdict.ok:
                return _error(verdict.status, verdict.reply)
            forwarded = request.headers.get("x-forwarded-for", "")
            client = self.guard.client_key(self.guard.client_address(request.ip, forwarded))
            verdict = await self.guard.allow_message(sender, client)
            if not verdict.ok:
                await self.guard.refusal_pause()
                return _error(429, verdict.reply)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        body["message"],
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=self.guard.metadata(client),
                    )
                )
            except Exception:  # noqa: BLE001 - logged without the message; the caller is told below
                logger.exception("REST message could not be handled")
            # a paused conversation (an agent has it, issue 17) is silent on purpose; the REST channel cannot push the
            # agent's replies: they were kept (agent_outbound.py) and come first in this answer (docs/handoff.md)
            kept = [{"recipient_id": sender, "text": m["text"]} for m in await address_book().take(sender)]
            if not kept and not collector.messages and not await conversation_paused(rasa_app(), sender):
                collector.messages.append({"recipient_id": sender, "text": NO_ANSWER})
            return response.json(kept + collector.messages)

        return webhook
