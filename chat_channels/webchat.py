"""The socket.io channel of the web chat page: Rasa's own, with two defects of Rasa 3.6.21 fixed.

1. ``session_persistence: true`` never delivered a reply: Rasa calls ``AsyncServer.enter_room()`` without ``await``,
   which python-socketio >= 5.10 made a coroutine, so the browser never joins its session's room and every
   ``bot_uttered`` sent to that room is lost (RasaHQ/rasa#13027, still open). Here the call is awaited when needed.
2. A custom payload (``json_message``, e.g. ``{"decision": {...}}``) was splatted into ``emit(**json_message)``, so
   any key other than emit's own arguments raised ``TypeError`` and the rest of the turn was lost. Here it is sent as
   the event's data, ``{"custom": {...}}``, the shape the REST channel uses too; rasa-webchat ignores it (no custom
   component) and the page's own decision panel renders it (web/index.html).

Used from credentials.yml as ``chat_channels.webchat.WebChatInput`` with the same settings as ``socketio``.
Runs inside the Rasa server (.venv-rasa); imports nothing from the engine or the actions.
"""
from __future__ import annotations

import inspect
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, sending custom payloads as data: ``bot_uttered`` with ``{"custom": payload}``."""

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class WebChatInput(SocketIOInput):
    """Rasa's socket.io input (same settings, same ``/socket.io`` path) with the two fixes above."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def get_output_channel(self) -> Optional[WebChatOutput]:
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None

        # Re-registering an event replaces Rasa's handler for it (python-socketio keeps one handler per event).
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data or {}
            if not data.get("session_id"):
                import uuid

                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, data["session_id"], namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            if self.session_persistence:
                if not data.get("session_id"):
                    logger.warning("socket.io message without a session_id ignored (send session_request first)")
                    return
                sender_id = data["session_id"]
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key, {})
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            message = UserMessage(
                data.get("message", ""),
                WebChatOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            await on_new_message(message)

        return webhook
