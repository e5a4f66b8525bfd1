"""The Telegram channel (issue 16): ``POST /webhooks/telegram/webhook``, verified by Telegram's secret token.

Rasa 3.6.21's own ``telegram`` connector checked nothing (anyone who found the URL could post updates as any
chat), called ``getMe`` on every request and failed on externally triggered messages. This one
(``chat_channels.telegram.TelegramInput`` in credentials.yml):

* is on only when ``TELEGRAM_BOT_TOKEN`` (from @BotFather) and ``TELEGRAM_WEBHOOK_SECRET`` (32-256 characters of
  A-Z a-z 0-9 _ -, chosen by you) are both set; one without the other stops Rasa at start; neither: 404;
* refuses (401, nothing parsed) every request whose ``X-Telegram-Bot-Api-Secret-Token`` header is not the secret
  (``hmac.compare_digest``); Telegram sends it once the webhook is registered with
  ``python -m chat_channels.telegram_webhook <public URL>`` (``setWebhook`` with ``secret_token``);
* handles each ``update_id`` once (``turns.Deduplicator``), answers 200 at once and runs the turn after;
* talks only in private chats (groups and channels are ignored: several people would share one conversation);
  the conversation id is ``tg-<chat id>``, the metadata's client key a keyed hash of ``telegram:<user id>``;
* renders buttons as an inline keyboard (one button a row) on the last piece of the text; a pressed button
  (``callback_query``) is answered (``answerCallbackQuery``, the spinner stops) and its ``callback_data`` is handled
  as the button's payload (a payload over 64 bytes travels as a key, its payload kept in ``turns.SharedMap``: Redis
  when the channels have one, so any Rasa process resolves it); texts are cut at 4096 UTF-16 units; a decision payload
  becomes one summary line with the case number; ``sendChatAction typing`` before each turn; plain text (no parse
  mode: nothing to escape);
* downloads a photo (its largest size within the limit) or a document with ``getFile`` and the bot's token
  (``<TELEGRAM_API_URL>/file/bot<token>/<file_path>``) into the upload storage (``messaging``, point 7; a declared
  ``file_size`` over ``UPLOAD_MAX_BYTES`` is refused before downloading); voice notes, videos, stickers, locations and
  contacts get ``messaging.ATTACHMENTS_NOT_YET`` or "I can only read text messages here".

``TELEGRAM_API_URL`` (default https://api.telegram.org) is where the Bot API calls go (tests: a local stub).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import render
from .guard import Guard
from .messaging import ChannelConfigError, Inbound, MessagingChannel, channel_config, env_url
from .platform_api import Api
from .telegram_webhook import DEFAULT_API_URL, SECRET_RE
from .turns import SharedMap
from .uploads import NOT_RECEIVED, UploadRefused

logger = logging.getLogger(__name__)

CALLBACK_DATA_BYTES = 64
ATTACHMENT_KEYS = ("photo", "document", "video", "voice", "audio", "animation", "video_note")
#: Telegram's file_path (getFile): e.g. photos/file_12.jpg, documents/file_3.pdf
FILE_PATH_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,200}")
#: a long payload's key (``_callback_data``) and how long a button under an old message keeps working
LONG_KEY_RE = re.compile(r"#[0-9a-f]{24}")
LONG_PAYLOAD_SECONDS = 30 * 24 * 3600


class TelegramInput(MessagingChannel):
    platform = "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        cls._install_logging()
        config = channel_config("Telegram", ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"))
        if config is None:
            return cls(None, None)
        if not SECRET_RE.fullmatch(config["TELEGRAM_WEBHOOK_SECRET"]):
            raise ChannelConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 32-256 characters of A-Z, a-z, 0-9, '_' and "
                "'-' (Telegram's rule for secret_token)"
            )
        return cls(config, Guard())

    def __init__(self, config: dict[str, str] | None, guard: Guard | None, dedup: Any = None) -> None:
        super().__init__(config, guard, dedup)
        self.long_payloads = SharedMap("telegram-payload", LONG_PAYLOAD_SECONDS, 10_000)
        if config is not None:
            token = config["TELEGRAM_BOT_TOKEN"]
            self.bot_id = token.split(":", 1)[0]
            self.secret = config["TELEGRAM_WEBHOOK_SECRET"].encode()
            self.api_url = env_url("TELEGRAM_API_URL", DEFAULT_API_URL)
            self.api = Api("telegram", f"{self.api_url}/bot{token}")
            self.file_base = f"{self.api_url}/file/bot{token}"

    # ---- receiving ------------------------------------------------------------------------------------------------
    def verified(self, request: Request) -> bool:
        presented = request.headers.get("x-telegram-bot-api-secret-token", "")
        return hmac.compare_digest(presented.encode("utf-8", "replace"), self.secret)

    def parse(self, update: dict[str, Any]) -> list[tuple[str, Inbound]]:
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            return []
        key = f"tg:{self.bot_id}:{update_id}"
        if isinstance(update.get("message"), dict):
            message = update["message"]
            chat, sender = message.get("chat") or {}, message.get("from") or {}
            inbound = self._inbound(chat, sender)
            if inbound is None:
                return []
            text = message.get("text")
            if isinstance(text, str):
                inbound.text = text
            elif any(k in message for k in ATTACHMENT_KEYS):
                inbound.kind = "attachment"
                inbound.extra.update(self._file_of(message))
            else:
                inbound.kind = "unsupported"
            return [(key, inbound)]
        if isinstance(update.get("callback_query"), dict):
            query = update["callback_query"]
            chat = (query.get("message") or {}).get("chat") or {}
            inbound = self._inbound(chat, query.get("from") or {})
            if inbound is None:
                return []
            data = query.get("data")
            if isinstance(data, str):
                inbound.text = data  # a long payload's key is looked up in resolve
            else:  # a game button or an old message's button without data
                inbound.kind = "unsupported"
            inbound.extra["callback_query_id"] = query.get("id")
            return [(key, inbound)]
        return []  # edited messages, channel posts, ... (setWebhook's allowed_updates does not ask for them)

    def _file_of(self, message: dict[str, Any]) -> dict[str, Any]:
        """The file to download: the largest photo size within the limit (else the smallest), or the document."""
        photos = [p for p in message.get("photo") or [] if isinstance(p, dict) and isinstance(p.get("file_id"), str)]
        if photos:
            fitting = [p for p in photos if int(p.get("file_size") or 0) <= self.uploads.max_bytes]
            best = max(fitting, key=lambda p: int(p.get("file_size") or 0)) if fitting else photos[0]
            return {"file_id": best["file_id"], "file_size": int(best.get("file_size") or 0)}
        document = message.get("document")
        if isinstance(document, dict) and isinstance(document.get("file_id"), str):
            return {"file_id": document["file_id"], "file_size": int(document.get("file_size") or 0)}
        return {}

    async def fetch_attachment(self, inbound: Inbound) -> bytes | None:
        file_id = inbound.extra.get("file_id")
        if not file_id:
            return None  # a voice note, a video...: not taken
        if inbound.extra.get("file_size", 0) > self.uploads.max_bytes:
            raise self.uploads.too_large()
        found = await self.api.post("getFile", json={"file_id": file_id}, what="getFile")
        path = ((found or {}).get("result") or {}).get("file_path") if isinstance(found, dict) else None
        if not isinstance(path, str) or not FILE_PATH_RE.fullmatch(path) or ".." in path:
            raise UploadRefused(502, NOT_RECEIVED)
        data = await self.api.download(f"{self.file_base}/{path}", self.uploads.max_bytes, what="file")
        if data is None:
            raise UploadRefused(502, NOT_RECEIVED)
        return data

    def _inbound(self, chat: dict[str, Any], sender: dict[str, Any]) -> Inbound | None:
        chat_id, user_id = chat.get("id"), sender.get("id")
        if chat.get("type") != "private" or not isinstance(chat_id, int) or not isinstance(user_id, int):
            logger.info("telegram: update outside a private chat ignored")
            return None
        if sender.get("is_bot"):
            return None
        return Inbound(conversation_id=f"tg-{chat_id}", user_key=f"telegram:{user_id}", reply_to=chat_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self.webhook_blueprint(on_new_message)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            update, refusal = await self.verified_json(request, "update", "missing or wrong secret token")
            if refusal is not None or update is None:
                return refusal or response.json({"error": "the body must be a JSON update"}, status=400)
            await self.accept(on_new_message, self.parse(update))
            return response.json({"ok": True})

        return webhook

    # ---- sending --------------------------------------------------------------------------------------------------
    async def acknowledge(self, inbound: Inbound) -> None:
        query_id = inbound.extra.get("callback_query_id")
        if query_id:
            await self.api.post("answerCallbackQuery", json={"callback_query_id": query_id})

    async def typing(self, inbound: Inbound) -> None:
        await self.api.post("sendChatAction", json={"chat_id": inbound.reply_to, "action": "typing"})

    async def resolve(self, inbound: Inbound) -> None:
        if inbound.text and LONG_KEY_RE.fullmatch(inbound.text):
            inbound.text = await self.long_payloads.get(inbound.text) or inbound.text

    @staticmethod
    def _callback_data(payload: str) -> str:
        """The payload itself, or a 64-byte-safe key for a longer one (its value in ``long_payloads``)."""
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_BYTES:
            return payload
        return "#" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]

    async def deliver(self, inbound: Inbound, messages: list[dict[str, Any]]) -> None:
        for payload in {render.payload_of(b) for m in messages for b in render.buttons_of(m) if not b.get("url")}:
            if self._callback_data(payload) != payload:  # kept where every Rasa process finds it (turns.SharedMap)
                await self.long_payloads.put(self._callback_data(payload), payload)
        for method, body in render.telegram(inbound.reply_to, messages, self._callback_data):
            await self.api.post(method, json=body)
