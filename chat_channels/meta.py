"""WhatsApp (Business Cloud API) and Facebook Messenger (issue 16): Meta's signed webhooks.

Both platforms deliver to a webhook that Meta first checks with a handshake (``GET ?hub.mode=subscribe&
hub.verify_token=<yours>&hub.challenge=<n>``: answer the challenge only if the token is yours), then signs every
``POST`` with ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>``. Rasa 3.6.21's
``facebook`` connector checked only the old SHA-1 header with ``==`` and handled the first event of a batch; it had no
WhatsApp connector at all. Here:

* ``chat_channels.meta.WhatsAppInput`` (``/webhooks/whatsapp/webhook``) is on when ``WHATSAPP_ACCESS_TOKEN``,
  ``WHATSAPP_APP_SECRET``, ``WHATSAPP_VERIFY_TOKEN`` (at least 32 characters, chosen by you) and
  ``WHATSAPP_PHONE_NUMBER_ID`` are set; ``chat_channels.meta.MessengerInput`` (``/webhooks/messenger/webhook``) when
  ``MESSENGER_PAGE_ACCESS_TOKEN``, ``MESSENGER_APP_SECRET`` and ``MESSENGER_VERIFY_TOKEN`` are. Some but not all:
  Rasa does not start. None: 404.
* the signature is checked on the raw body with ``hmac.compare_digest`` before anything is parsed: 403 without a
  valid one (and a log line without personal data); a wrong verify token in the handshake: 403.
* every message of every entry and change is handled (Meta batches), each message id (``wamid...``, ``mid``) once;
  the webhook answers 200 at once, the turns run after, the replies go through the Graph API (``META_GRAPH_API_URL``,
  default https://graph.facebook.com/v21.0) with the access token as a bearer token.
* conversation ids: ``wa-<keyed hash of the phone number>`` (a phone number is personal: it is kept in no id, no
  log line and no tracker; without a number, of the business-scoped user id, answered with ``recipient``),
  ``fb-<page-scoped id>``; metadata ``{"client": <keyed hash of the platform user>}``.
  WhatsApp messages for another phone number id of the same business account are ignored.
* WhatsApp: reply buttons (at most 3) or a list (up to 10 rows), a button reply or list reply handled as the
  button's payload; the incoming message is marked read with a typing indicator. Messenger: quick replies (and
  postbacks) handled as their payload, ``typing_on`` before each turn. Texts cut at 4096 / 2000 characters.
* WhatsApp photos and documents: downloaded with the access token (``GET /<media id>`` for the media URL, then the
  URL, only on Meta's hosts or the configured Graph API's) into the upload storage (``messaging``, point 7); their
  voice notes and videos, and Messenger's attachments: ``render.ATTACHMENTS_NOT_YET``; locations, contacts,
  stickers: "I can only read text messages here"; reactions, echoes, delivery and read receipts, statuses: ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import render_meta
from .guard import Guard
from .messaging import Inbound, MessagingChannel, channel_config, channel_off, env_url
from .platform_api import Api
from .uploads import NOT_RECEIVED, UploadRefused

logger = logging.getLogger(__name__)

GRAPH_API_URL = "https://graph.facebook.com/v21.0"
#: Meta's challenge is a number; anything else is not echoed (the answer is reflected content)
CHALLENGE_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
WHATSAPP_ATTACHMENTS = ("image", "document", "audio", "video")
#: what is downloaded into the upload storage (the types themselves are checked by their bytes)
WHATSAPP_DOWNLOADS = ("image", "document")
MESSENGER_DOWNLOADS = ("image", "file")
MEDIA_ID_RE = re.compile(r"[0-9]{1,32}")
#: where Meta serves media (the URL of ``GET /<media id>``): the access token is sent nowhere else
MEDIA_HOSTS = ("fbsbx.com", "fbcdn.net", "facebook.com", "whatsapp.net")
WHATSAPP_IGNORED = ("reaction", "system", "request_welcome", "order")
MESSENGER_ATTACHMENTS = ("image", "video", "audio", "file")


def signature_valid(raw: bytes, header: str, app_secret: bytes) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` against HMAC-SHA256(app secret, raw body), in constant time."""
    scheme, _, presented = (header or "").partition("=")
    if scheme.strip().lower() != "sha256" or not presented:
        return False
    expected = hmac.new(app_secret, raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(presented.strip().lower().encode("ascii", "replace"), expected.encode("ascii"))


class MetaChannel(MessagingChannel):
    """The webhook both platforms share: handshake, signature, batch, de-duplication."""

    names: tuple[str, ...] = ()
    secret_name = verify_name = token_name = ""
    label = "Meta"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        cls._install_logging()
        config = channel_config(cls.label, cls.names, min_lengths={cls.verify_name: 32})
        return cls(config, Guard() if config is not None else None)

    def __init__(self, config: dict[str, str] | None, guard: Guard | None, dedup: Any = None) -> None:
        super().__init__(config, guard, dedup)
        if config is not None:
            self.app_secret = config[self.secret_name].encode("utf-8")
            self.verify_token = config[self.verify_name].encode("utf-8")
            self.api = Api(
                self.platform,
                env_url("META_GRAPH_API_URL", GRAPH_API_URL),
                {"Authorization": f"Bearer {config[self.token_name]}"},
            )

    def _media_host_ok(self, url: str) -> bool:
        """The access token goes only to Meta's media hosts (or the configured Graph API's host, e.g. a test stub)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        graph = urlsplit(self.api.base_url)
        if parts.scheme == graph.scheme and host == (graph.hostname or "").lower() and parts.port == graph.port:
            return True
        return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in MEDIA_HOSTS)

    def parse(self, body: dict[str, Any]) -> list[tuple[str, Inbound]]:
        raise NotImplementedError

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self.webhook_blueprint(on_new_message)

        @webhook.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> HTTPResponse:
            if not self.enabled:
                return channel_off()
            mode = request.args.get("hub.mode", "")
            token = request.args.get("hub.verify_token", "")
            challenge = request.args.get("hub.challenge", "")
            if (
                mode == "subscribe"
                and hmac.compare_digest(token.encode("utf-8", "replace"), self.verify_token)
                and CHALLENGE_RE.fullmatch(challenge)
            ):
                logger.info("%s webhook verified by the handshake", self.platform)
                return response.text(challenge)
            logger.warning("%s webhook handshake refused", self.platform)
            await self.refused()
            return response.json({"error": "forbidden"}, status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return channel_off()
            raw = request.body or b""
            if not signature_valid(raw, request.headers.get("x-hub-signature-256", ""), self.app_secret):
                logger.warning("%s webhook refused: missing or wrong X-Hub-Signature-256", self.platform)
                await self.refused()
                return response.json({"error": "forbidden"}, status=403)
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "the body must be JSON"}, status=400)
            if not isinstance(body, dict):
                return response.json({"error": "the body must be a JSON object"}, status=400)
            await self.accept(on_new_message, self.parse(body))
            return response.text("EVENT_RECEIVED")

        return webhook


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


class WhatsAppInput(MetaChannel):
    platform = "whatsapp"
    label = "WhatsApp"
    names = ("WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_PHONE_NUMBER_ID")
    secret_name, verify_name, token_name = "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN"

    def __init__(self, config: dict[str, str] | None, guard: Guard | None, dedup: Any = None) -> None:
        super().__init__(config, guard, dedup)
        if config is not None:
            self.phone_number_id = config["WHATSAPP_PHONE_NUMBER_ID"]

    def conversation_id(self, wa_id: str) -> str:
        assert self.guard is not None
        return f"wa-{self.guard.client_key(f'whatsapp-conversation:{wa_id}')}"

    def parse(self, body: dict[str, Any]) -> list[tuple[str, Inbound]]:
        if body.get("object") != "whatsapp_business_account":
            return []
        events: list[tuple[str, Inbound]] = []
        for entry in _dicts(body.get("entry")):
            for change in _dicts(entry.get("changes")):
                value = change["value"] if isinstance(change.get("value"), dict) else {}
                if change.get("field") != "messages" or not value.get("messages"):
                    continue  # statuses (sent, delivered, read), other fields
                if str((value.get("metadata") or {}).get("phone_number_id")) != self.phone_number_id:
                    logger.info("whatsapp: message for another phone number id ignored")
                    continue
                contacts = _dicts(value.get("contacts"))
                for message in _dicts(value.get("messages")):
                    if not message.get("from_user_id") and len(contacts) == 1:  # the sender's BSUID, from contacts
                        message = {**message, "from_user_id": contacts[0].get("user_id")}
                    event = self._event(message)
                    if event is not None:
                        events.append(event)
        return events

    @staticmethod
    def sender(message: dict[str, Any]) -> tuple[str, str] | None:
        """``(key, address)``: the phone number (``from``) while Meta sends it, else the business-scoped user id
        (``from_user_id``, a user whose number Meta withholds), replied to with ``recipient`` instead of ``to``."""
        wa_id, bsuid = message.get("from"), message.get("from_user_id")
        if isinstance(wa_id, str) and wa_id:
            return wa_id, wa_id
        if isinstance(bsuid, str) and render_meta.BSUID_RE.fullmatch(bsuid):
            return f"bsuid:{bsuid}", bsuid
        return None

    def _event(self, message: dict[str, Any]) -> tuple[str, Inbound] | None:
        sender, message_id, kind = self.sender(message), message.get("id"), message.get("type")
        if sender is None or not isinstance(message_id, str) or not message_id or kind in WHATSAPP_IGNORED:
            return None
        key, address = sender
        inbound = Inbound(
            conversation_id=self.conversation_id(key),
            user_key=f"whatsapp:{key}",
            reply_to=address,
            extra={"message_id": message_id},
        )
        text: Any = None
        if kind == "text":
            text = (message.get("text") or {}).get("body")
        elif kind == "interactive":
            interactive = message.get("interactive") or {}
            reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
            text = reply.get("id")
        elif kind == "button":  # a quick-reply button of a template message
            button = message.get("button") or {}
            text = button.get("payload") or button.get("text")
        if isinstance(text, str):
            inbound.text = text
        elif kind in WHATSAPP_ATTACHMENTS:
            inbound.kind = "attachment"
            media = message.get(kind) if kind in WHATSAPP_DOWNLOADS else None
            if isinstance(media, dict) and isinstance(media.get("id"), str) and MEDIA_ID_RE.fullmatch(media["id"]):
                inbound.extra["media_id"] = media["id"]
        else:
            inbound.kind = "unsupported"
        return f"wa:{message_id}", inbound

    async def fetch_attachment(self, inbound: Inbound) -> bytes | None:
        media_id = inbound.extra.get("media_id")
        if not media_id:
            return None  # a voice note or a video: not taken
        info = await self.api.get_json(media_id, what="media")
        url = info.get("url") if isinstance(info, dict) else None
        size = info.get("file_size") if isinstance(info, dict) else None
        if isinstance(size, int) and size > self.uploads.max_bytes:
            raise self.uploads.too_large()
        if not isinstance(url, str) or not self._media_host_ok(url):
            raise UploadRefused(502, NOT_RECEIVED)
        data = await self.api.download(url, self.uploads.max_bytes, what="media download")
        if data is None:
            raise UploadRefused(502, NOT_RECEIVED)
        return data

    async def typing(self, inbound: Inbound) -> None:
        await self.api.post(
            f"{self.phone_number_id}/messages",
            what="typing",
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": inbound.extra["message_id"],
                "typing_indicator": {"type": "text"},
            },
        )

    async def deliver(self, inbound: Inbound, messages: list[dict[str, Any]]) -> None:
        for method, body in render_meta.whatsapp(inbound.reply_to, messages):
            await self.api.post(f"{self.phone_number_id}/{method}", json=body)


class MessengerInput(MetaChannel):
    platform = "messenger"
    label = "Messenger"
    names = ("MESSENGER_PAGE_ACCESS_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN")
    secret_name, verify_name = "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN"
    token_name = "MESSENGER_PAGE_ACCESS_TOKEN"

    async def fetch_attachment(self, inbound: Inbound) -> bytes | None:
        """An image or file from the attachment's signed URL, only on Meta's hosts (or the configured Graph API's);
        no credential is sent with it."""
        url = inbound.extra.get("file_url")
        if not url:
            return None  # a video or a voice clip: not taken
        if not self._media_host_ok(url):
            raise UploadRefused(502, NOT_RECEIVED)
        data = await self.api.download(url, self.uploads.max_bytes, what="attachment download", anonymous=True)
        if data is None:
            raise UploadRefused(502, NOT_RECEIVED)
        return data

    def parse(self, body: dict[str, Any]) -> list[tuple[str, Inbound]]:
        if body.get("object") != "page":
            return []
        events: list[tuple[str, Inbound]] = []
        for entry in _dicts(body.get("entry")):
            for messaging in _dicts(entry.get("messaging")):
                event = self._event(messaging)
                if event is not None:
                    events.append(event)
        return events

    def _event(self, messaging: dict[str, Any]) -> tuple[str, Inbound] | None:
        psid = (messaging.get("sender") or {}).get("id")
        if not isinstance(psid, str) or not psid.isdigit() or len(psid) > 40:
            return None
        inbound = Inbound(conversation_id=f"fb-{psid}", user_key=f"messenger:{psid}", reply_to=psid)
        message, postback = messaging.get("message"), messaging.get("postback")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return None  # the page's own message
            mid = message.get("mid")
            quick_reply = message.get("quick_reply") or {}
            attachments = _dicts(message.get("attachments"))
            if isinstance(quick_reply.get("payload"), str):
                inbound.text = quick_reply["payload"]
            elif isinstance(message.get("text"), str):
                inbound.text = message["text"]
            elif message.get("sticker_id") is None and any(a.get("type") in MESSENGER_ATTACHMENTS for a in attachments):
                inbound.kind = "attachment"
                for attachment in attachments:
                    url = (attachment.get("payload") or {}).get("url")
                    if attachment.get("type") in MESSENGER_DOWNLOADS and isinstance(url, str):
                        inbound.extra["file_url"] = url  # the first image or file of the message
                        break
            else:
                inbound.kind = "unsupported"
        elif isinstance(postback, dict):
            mid = postback.get("mid") or f"postback:{psid}:{messaging.get('timestamp')}"
            payload = postback.get("payload")
            if isinstance(payload, str):
                inbound.text = payload
            else:
                inbound.kind = "unsupported"
        else:
            return None  # deliveries, reads, reactions, referrals
        if not isinstance(mid, str) or not mid:
            return None
        return f"fb:{mid}", inbound

    async def typing(self, inbound: Inbound) -> None:
        await self.api.post(
            "me/messages", what="typing", json={"recipient": {"id": inbound.reply_to}, "sender_action": "typing_on"}
        )

    async def deliver(self, inbound: Inbound, messages: list[dict[str, Any]]) -> None:
        for method, body in render_meta.messenger(inbound.reply_to, messages):
            await self.api.post(method, json=body)
