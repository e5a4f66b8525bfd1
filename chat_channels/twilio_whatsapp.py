"""WhatsApp through Twilio (issue 16): ``POST /webhooks/twilio_whatsapp/webhook``, verified by ``X-Twilio-Signature``.

For stores whose WhatsApp number is on Twilio rather than on Meta's Cloud API (``meta.WhatsAppInput``). Rasa
3.6.21's ``twilio`` connector checked no signature at all (although the installed twilio library ships
``RequestValidator``) and its empty-message guard tested the wrong variable. This one
(``chat_channels.twilio_whatsapp.TwilioWhatsAppInput`` in credentials.yml):

* is on only when ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_WHATSAPP_NUMBER`` (``whatsapp:+1...``, the
  sender) and ``TWILIO_WEBHOOK_URL`` (the public URL exactly as configured in Twilio's console: Twilio signs the
  URL it called, which behind a proxy is not the one Rasa sees) are set; some but not all: Rasa does not start;
  none: 404;
* verifies ``X-Twilio-Signature`` with twilio's ``RequestValidator`` over ``TWILIO_WEBHOOK_URL`` and the posted form
  (the form has to be decoded to compute the signature; nothing else is done with it before the check): 403, a log
  line without personal data, nothing else, otherwise. Twilio's signature carries no timestamp: a captured request
  replayed later is caught by its ``MessageSid``, remembered ``CHANNEL_DEDUP_SECONDS`` (24 h);
* handles each ``MessageSid`` once, answers an empty TwiML ``<Response/>`` at once (so Twilio sends nothing itself)
  and sends the replies after, through the Messages API (``TWILIO_API_URL``, default https://api.twilio.com) with
  HTTP basic auth;
* shares the conversation id with the Cloud API channel: ``wa-<keyed hash of the WhatsApp number>``; metadata
  ``{"client": <keyed hash of whatsapp:<number>>}``. Messages for another account or number are ignored;
* WhatsApp buttons need pre-approved Content templates on Twilio, so buttons are rendered as a numbered list ("Reply
  with a number"): a reply of just that number, or of the button's title, is handled as the button's payload
  (remembered per conversation until the next reply in ``turns.SharedMap``: in Redis when the channels have one, so a
  number typed to another Rasa process works; else in the process); a template's quick-reply button
  (``ButtonPayload``) is handled as its payload; texts are cut at 1600 characters (Twilio's limit for a WhatsApp
  body);
* downloads the first medium of a message (``MediaUrl0``, only a URL of this account's messages on the Twilio API's
  host) with the account's Basic auth into the upload storage (``messaging``, point 7; photo or PDF by its bytes).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from . import render
from .guard import Guard
from .messaging import ChannelConfigError, Inbound, MessagingChannel, channel_config, channel_off, env_url
from .platform_api import Api
from .turns import SharedMap
from .uploads import NOT_RECEIVED, UploadRefused

logger = logging.getLogger(__name__)

TWILIO_API_URL = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
NUMBER_RE = re.compile(r"whatsapp:\+?(\d{6,20})")
MAX_REMEMBERED_MENUS = 10_000
MENU_SECONDS = 24 * 3600  # WhatsApp's customer-service window


class _Form(dict):
    """The posted form as lists of values, in the shape twilio's ``RequestValidator`` reads (``getlist``)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str) -> str:
        values = self.get(name) or [""]
        return values[0]


class TwilioWhatsAppInput(MessagingChannel):
    platform = "twilio_whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        cls._install_logging()
        config = channel_config(
            "Twilio WhatsApp",
            ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER", "TWILIO_WEBHOOK_URL"),
        )
        if config is None:
            return cls(None, None)
        if not NUMBER_RE.fullmatch(config["TWILIO_WHATSAPP_NUMBER"]):
            raise ChannelConfigError("TWILIO_WHATSAPP_NUMBER must look like whatsapp:+14155238886")
        if not config["TWILIO_WEBHOOK_URL"].startswith(("https://", "http://")):
            raise ChannelConfigError(
                "TWILIO_WEBHOOK_URL must be the full public URL Twilio calls "
                "(https://<host>/webhooks/twilio_whatsapp/webhook)"
            )
        return cls(config, Guard())

    def __init__(self, config: dict[str, str] | None, guard: Guard | None, dedup: Any = None) -> None:
        super().__init__(config, guard, dedup)
        #: conversation id -> the payloads of the numbered buttons last shown there
        self.menus = SharedMap("twilio-menu", MENU_SECONDS, MAX_REMEMBERED_MENUS)
        if config is not None:
            self.account_sid = config["TWILIO_ACCOUNT_SID"]
            self.sender = config["TWILIO_WHATSAPP_NUMBER"]
            self.webhook_url = config["TWILIO_WEBHOOK_URL"]
            self.validator = RequestValidator(config["TWILIO_AUTH_TOKEN"])
            self.api = Api(
                "twilio", f"{env_url('TWILIO_API_URL', TWILIO_API_URL)}/2010-04-01/Accounts/{self.account_sid}"
            )
            self._auth = aiohttp.BasicAuth(self.account_sid, config["TWILIO_AUTH_TOKEN"])

    async def fetch_attachment(self, inbound: Inbound) -> bytes | None:
        """``MediaUrl0`` with the account's Basic auth, only under this account's messages on the API's host."""
        url = inbound.extra.get("media_url")
        if not url:
            return None
        parts, api = urlsplit(url), urlsplit(self.api.base_url)
        same_host = (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port)
        if not same_host or not parts.path.startswith(f"{api.path}/Messages/") or ".." in parts.path:
            raise UploadRefused(502, NOT_RECEIVED)
        data = await self.api.download(url, self.uploads.max_bytes, what="media download", auth=self._auth)
        if data is None:
            raise UploadRefused(502, NOT_RECEIVED)
        return data

    # ---- receiving ------------------------------------------------------------------------------------------------
    def verified(self, form: _Form, signature: str) -> bool:
        try:
            return bool(signature) and self.validator.validate(self.webhook_url, form, signature)
        except Exception:  # noqa: BLE001 - a malformed request is an unverified one
            return False

    def parse(self, form: _Form) -> list[tuple[str, Inbound]]:
        sid, sender = form.first("MessageSid"), form.first("From")
        if form.first("AccountSid") != self.account_sid or form.first("To") != self.sender:
            logger.info("twilio_whatsapp: message for another account or number ignored")
            return []
        number = NUMBER_RE.fullmatch(sender)
        if not sid or number is None:
            return []
        digits = number.group(1)
        assert self.guard is not None
        conversation = f"wa-{self.guard.client_key(f'whatsapp-conversation:{digits}')}"
        inbound = Inbound(conversation_id=conversation, user_key=f"whatsapp:{digits}", reply_to=sender)
        try:
            media = int(form.first("NumMedia") or 0)
        except ValueError:
            media = 0
        if media > 0:
            inbound.kind = "attachment"
            if isinstance(form.first("MediaUrl0"), str):
                inbound.extra["media_url"] = form.first("MediaUrl0")
        elif form.first("ButtonPayload"):
            inbound.text = form.first("ButtonPayload")
        elif "Body" in form:
            inbound.text = form.first("Body")
            inbound.extra["typed"] = True  # maybe a number of the last menu: resolve
        else:
            inbound.kind = "unsupported"
        return [(f"tw:{sid}", inbound)]

    async def resolve(self, inbound: Inbound) -> None:
        """A number (or a title) of the buttons last shown in this conversation is that button's payload."""
        if not inbound.extra.get("typed") or not inbound.text:
            return
        try:
            menu = json.loads(await self.menus.get(inbound.conversation_id) or "[]")
        except ValueError:
            menu = []
        said = " ".join(inbound.text.split()).rstrip(".").lower()
        for number, (title, payload) in enumerate(menu, 1):
            if said == str(number) or said == str(title).lower():
                inbound.text = payload
                return

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self.webhook_blueprint(on_new_message)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return channel_off()
            try:
                form = _Form(parse_qs((request.body or b"").decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                form = _Form()
            if not self.verified(form, request.headers.get("x-twilio-signature", "")):
                logger.warning("twilio_whatsapp webhook refused: missing or wrong X-Twilio-Signature")
                await self.refused()
                return response.json({"error": "forbidden"}, status=403)
            await self.accept(on_new_message, self.parse(form))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook

    # ---- sending --------------------------------------------------------------------------------------------------
    async def _remember(self, conversation: str, messages: list[dict[str, Any]]) -> None:
        """The numbered choices shown, until the next reply (``turns.SharedMap``: every Rasa process reads them)."""
        shown = [b for m in messages for b in render.buttons_of(m) if not b.get("url")]
        menu = [(str(b.get("title") or render.payload_of(b)), render.payload_of(b)) for b in shown]
        await self.menus.put(conversation, json.dumps(menu) if menu else None)

    async def deliver(self, inbound: Inbound, messages: list[dict[str, Any]]) -> None:
        await self._remember(inbound.conversation_id, messages)
        for body in render.twilio(inbound.reply_to, self.sender, messages):
            await self.api.post("Messages.json", data=body, auth=self._auth)
