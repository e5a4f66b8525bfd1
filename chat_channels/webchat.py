"""The socket.io channel of the web chat page: Rasa's own protocol, with its defects and its open doors closed.

Rasa 3.6.21's ``socketio`` channel, rewritten here:

1. **Conversations belong to their client** (issue 12, finding 3). Rasa's channel let a client pick any
   ``session_id`` and joined it to that room: whoever knew a victim's id saw their replies and spoke in their
   verified session. Here a connection needs a signed session token (``session.SessionTokens``, issued by
   ``POST /webhooks/socketio/session``), and the conversation id is the token's, whatever the client sends.
2. **Bounded, rate-limited input** (findings 7, 8, 11): socket.io frames over 64 KB are refused by the transport,
   messages over ``MAX_MESSAGE_CHARS`` get a polite reply and are not parsed, messages and new sessions are
   rate-limited per conversation and per client address (``guard.Guard``); the client's own metadata
   (rasa-webchat's ``customData``) is dropped, the message carries only ``{"client": <keyed hash>}``.
3. **Origins**: a browser connection whose ``Origin`` is not one of ``CHAT_ALLOWED_ORIGINS`` is refused (websockets
   are not covered by CORS).
4. **Outages are spoken** (finding 10): a turn that produced no message at all (action server down, an exception
   in Rasa) gets ``guard.NO_ANSWER`` instead of silence.
5. **Files**: ``POST /webhooks/socketio/upload`` takes a photo or PDF for the token's conversation
   (``webchat_upload.py``: session token, size and type limits, rate limit; stored outside the web root).
6. Rasa's two 3.6.21 defects stay fixed: ``enter_room`` is awaited (python-socketio >= 5.10 made it a coroutine, so
   with ``session_persistence`` every reply was lost, RasaHQ/rasa#13027), and a custom payload (``json_message``,
   e.g. ``{"decision": {...}}``) is sent as the event's data ``{"custom": {...}}`` instead of being splatted into
   ``emit()``.

Used from credentials.yml as ``chat_channels.webchat.WebChatInput``. Runs inside the Rasa server (.venv-rasa);
imports nothing from the engine or the actions.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from . import privacy
from .guard import NO_ANSWER, Guard
from .handoff_relay import AgentRelay, conversation_paused, rasa_app
from .session import SessionTokens
from .uploads import UploadStore
from .webchat_upload import receive_upload

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, sending custom payloads as data: ``bot_uttered`` with ``{"custom": payload}``.
    Counts what it sent, so that a turn with no answer can be told so."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


def allowed_origins(environ: dict[str, str]) -> list[str]:
    raw = environ.get("CHAT_ALLOWED_ORIGINS", "")
    return [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]


class WebChatInput(SocketIOInput):
    """The web chat's socket.io input at ``/socket.io`` (rasa-webchat 1.0.1 speaks it unchanged)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        privacy.install()
        environ = dict(os.environ)
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("socketio_path", "/socket.io"),
            guard=Guard(environ),
            tokens=SessionTokens.from_env(environ),
            origins=allowed_origins(environ),
            uploads=UploadStore.from_env(environ),
        )

    def __init__(
        self,
        user_message_evt: str,
        bot_message_evt: str,
        namespace: str | None,
        socketio_path: str,
        *,
        guard: Guard,
        tokens: SessionTokens,
        origins: list[str],
        uploads: UploadStore | None = None,
    ) -> None:
        super().__init__(
            user_message_evt, bot_message_evt, namespace, session_persistence=True, socketio_path=socketio_path
        )
        self.guard = guard
        self.tokens = tokens
        self.origins = origins
        self.uploads = uploads or UploadStore.from_env({})

    def get_output_channel(self) -> WebChatOutput | None:
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def _origin_allowed(self, origin: str | None) -> bool:
        # no Origin header: not a browser page (a browser always sends one on websockets and cross-origin XHR)
        return not origin or not self.origins or origin.rstrip("/") in self.origins

    def _client(self, request: Request) -> str:
        forwarded = request.headers.get("x-forwarded-for", "")
        return self.guard.client_key(self.guard.client_address(request.ip, forwarded))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # several Rasa servers (docs/deploy.md): SOCKETIO_MESSAGE_QUEUE=redis://... lets an emit on one server (an
        # agent's reply through the relay, handoff_relay.py) reach the customer's socket on another (python-socketio's
        # documented message queue); unset, emits stay in this process (one server: make run, the tests)
        queue = (os.environ.get("SOCKETIO_MESSAGE_QUEUE") or "").strip()
        manager = AsyncRedisManager(queue, channel="support-socketio") if queue else None
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=[],
            max_http_buffer_size=MAX_FRAME_BYTES,
            client_manager=manager,
        )
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def emit_to_conversation(conversation_id: str, message: dict[str, Any]) -> None:
            await sio.emit(self.bot_message_evt, message, room=conversation_id, namespace=namespace)

        relay = AgentRelay.from_env(emit_to_conversation)

        @webhook.route("/agent", methods=["POST"])
        async def agent_message(request: Request) -> HTTPResponse:
            # a person takes over (issue 17): the agent inbox's replies and hand back (handoff_relay.py)
            return await relay.handle(request)

        @webhook.route("/session", methods=["POST"])
        async def new_session(request: Request) -> HTTPResponse:
            if not self._origin_allowed(request.headers.get("origin")):
                return response.json({"error": "origin not allowed"}, status=403)
            if not await self.guard.allow_session(self._client(request)):
                await self.guard.refusal_pause()
                return response.json({"error": "too many new sessions; try again in a minute"}, status=429)
            issued = self.tokens.issue()
            return response.json(
                {"token": issued["token"], "expires_at": issued["expires_at"]}, headers={"Cache-Control": "no-store"}
            )

        @webhook.route("/upload", methods=["POST"], stream=True)
        async def upload(request: Request) -> HTTPResponse:
            return await receive_upload(
                request,
                tokens=self.tokens,
                guard=self.guard,
                store=self.uploads,
                origin_allowed=self._origin_allowed,
                client=self._client(request),
            )

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: dict | None) -> bool:
            if not self._origin_allowed(environ.get("HTTP_ORIGIN")):
                logger.info("socket.io connection refused: origin not allowed")
                return False
            token = auth.get("token") if isinstance(auth, dict) else None
            if not token:
                token = (parse_qs(environ.get("QUERY_STRING", "")).get("token") or [None])[0]
            session_id = self.tokens.session_id(token)
            if session_id is None:
                logger.info("socket.io connection refused: no valid session token")
                return False
            request = environ.get("sanic.request")
            client = self._client(request) if request is not None else self.guard.client_key("unknown")
            await sio.save_session(sid, {"session_id": session_id, "client": client}, namespace=namespace)
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            session_id = session["session_id"]  # the token's, whatever the client asked for
            joined = sio.enter_room(sid, session_id, namespace=namespace)
            if inspect.isawaitable(joined):
                await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            sender_id, client = session["session_id"], session["client"]
            output = WebChatOutput(sio, self.bot_message_evt)
            text = data.get("message") if isinstance(data, dict) else None
            verdict = self.guard.check_text(text)
            if verdict.ok:
                verdict = await self.guard.allow_message(sender_id, client)
            if not verdict.ok:
                logger.info("socket.io message refused: %s", verdict.error)
                if verdict.status == 429:
                    await self.guard.refusal_pause()
                await output.send_text_message(sender_id, verdict.reply)
                return
            message = UserMessage(
                text, output, sender_id, input_channel=self.name(), metadata=self.guard.metadata(client)
            )
            try:
                await on_new_message(message)
            except Exception:  # noqa: BLE001 - logged; the customer is told below
                logger.exception("socket.io message could not be handled")
            if output.sent == 0 and not await conversation_paused(rasa_app(), sender_id):
                await output.send_text_message(sender_id, NO_ANSWER)  # silence while an agent has it is expected

        return webhook
