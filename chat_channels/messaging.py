"""What the messaging-app channels share (issue 16): configuration, exactly-once delivery, background turns, rendering.

Every messaging channel (``telegram.TelegramInput``, ``meta.WhatsAppInput``, ``meta.MessengerInput``,
``slack.SlackInput``, ``twilio_whatsapp.TwilioWhatsAppInput``; docs/channels.md) works the same way; only the
verification, the parsing of the platform's update and the rendering of the bot's messages differ:

1. **Off, on, or refused.** ``channel_config`` reads the channel's variables: none set, the channel is off and its
   webhook answers 404; all set, it is on; some set, Rasa refuses to start and the message names what is missing.
2. **Verified first.** The webhook checks the platform's signature or secret on the raw body before it parses
   anything (each channel's ``blueprint``); a request that fails gets 401/403, a log line without personal data,
   and nothing is parsed, stored or sent.
3. **Exactly once.** Each update carries an id (Telegram's ``update_id``, the WhatsApp/Messenger message id, Slack's
   ``event_id``, Twilio's ``MessageSid``); ``turns.Deduplicator.first_time`` remembers it for ``CHANNEL_DEDUP_SECONDS``
   (24 h), in a bounded in-process cache, or in Redis (``SET NX EX``) when ``RATE_LIMIT_STORAGE`` is
   ``redis://...`` so that every Rasa process shares it. A redelivery is acknowledged (200) and dropped. Every event
   of a batched delivery is handled.
4. **Fast answer, work after.** The webhook answers 200 as soon as the events are recorded; each event becomes an
   asyncio task (``turns.Background``) that takes the conversation's lock (so one customer's messages are handled in the
   order they arrived), applies the ``guard.Guard`` checks (length, rate limits: a polite reply on refusal), shows
   a typing indicator, runs the turn and sends the replies through the platform's API. An update is acknowledged
   before it is handled, so it is written down first (``journal.Journal``: SQLite, or Redis with several processes)
   and crossed out after its turn; a process that starts replays what a dead one left (``replay``).
5. **Identity.** The conversation id is derived from the platform and its user (``tg-<chat id>``,
   ``wa-<keyed hash of the phone number>``, ``fb-<page-scoped id>``, ``sl-<team>-<user>``); it never stands in for
   verification: the action server's order number + email rule applies unchanged. The message metadata is
   ``{"client": guard.client_key("<platform>:<user id>")}`` only.
6. **Rendering.** ``Collector`` gathers a turn's messages (text, buttons, images, custom payloads); each channel
   renders them natively (``render``, standard library only, so that the rendering is unit-tested without Rasa).
   ``render.decision_summary`` turns the ``{"decision": {...}}`` payload (policy_engine/core/decision.py,
   ``widget_payload``) into one short line with the case number; ``split_text`` cuts long texts at the platform's
   limit (paragraph, then line, then word boundaries).
7. **Attachments.** Every channel implements ``fetch_attachment``: it downloads a photo or document
   with the bot's credentials, within ``UPLOAD_MAX_BYTES`` (a declared size over it is refused before downloading),
   and stores it like the web chat's uploads (``uploads.UploadStore``: magic-byte types, 0600 files outside the web
   root, ``RATE_LIMIT_UPLOADS``); the turn is then ``/upload_file{"upload_id": ...}``, handled like the web chat's
   (the action server accepts only an upload of this conversation).  Too large or not a photo/PDF: a clear reply.
   Channels without ``fetch_attachment`` still answer ``render.ATTACHMENTS_NOT_YET`` and download nothing.

Runs inside the Rasa server (.venv-rasa): aiohttp (a Rasa dependency) for the platform APIs (``platform_api.Api``),
redis-py for the shared cache (``turns``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import privacy
from .agent_outbound import note_turn
from .guard import NO_ANSWER, NOT_TEXT, SLOW_DOWN, Guard
from .handoff_relay import conversation_paused, rasa_app
from .journal import Journal
from .render import ATTACHMENTS_NOT_YET
from .turns import Background, Deduplicator
from .uploads import NOT_RECEIVED, UploadRefused, UploadStore, upload_message

logger = logging.getLogger(__name__)


class ChannelConfigError(ValueError):
    """A channel is half configured: Rasa must not start (the message names the missing variables)."""


def channel_config(
    channel: str,
    names: Sequence[str],
    environ: Mapping[str, str] | None = None,
    min_lengths: Mapping[str, int] | None = None,
) -> dict[str, str] | None:
    """The channel's variables: ``None`` when none is set (the channel is off), all of them, or an error.

    ``min_lengths`` (name -> characters) refuses secrets that are too short to be secrets."""
    e = os.environ if environ is None else environ
    values = {name: (e.get(name) or "").strip() for name in names}
    if not any(values.values()):
        logger.info("%s channel off: %s not set", channel, ", ".join(names))
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ChannelConfigError(
            f"the {channel} channel is half configured: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set. Set all of {', '.join(names)} to turn it on, or none "
            f"of them to leave it off (docs/channels.md)."
        )
    for name, minimum in (min_lengths or {}).items():
        if len(values[name]) < minimum:
            raise ChannelConfigError(f"{name} must be at least {minimum} characters (docs/channels.md)")
    return values


def env_url(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """A platform's API base URL (``TELEGRAM_API_URL`` ...): tests point it at a local stub."""
    e = os.environ if environ is None else environ
    return ((e.get(name) or "").strip() or default).rstrip("/")


# ---- a turn's messages and their rendering ------------------------------------------------------------------------


class Collector(CollectingOutputChannel):
    """Collects a turn's messages; texts stay whole (Rasa's collector cuts them at blank lines)."""

    @classmethod
    def name(cls) -> str:
        return "collector"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=text.strip()))


# ---- the channel ---------------------------------------------------------------------------------------------------


@dataclass
class Inbound:
    """One verified, parsed event: a customer's message (text or button payload) or an attachment."""

    conversation_id: str  # the Rasa sender id: "<platform prefix>-<id>"
    user_key: str  # "<platform>:<user id>", hashed into the metadata's client key
    reply_to: Any  # where the platform API sends the answer (chat id, phone number, page-scoped id)
    text: str | None = None
    kind: str = "text"  # text | attachment | unsupported
    extra: dict[str, Any] = field(default_factory=dict)  # platform details (callback query id, message id)


def channel_off() -> HTTPResponse:
    """What a channel whose variables are not set answers to everything."""
    return response.json({"error": "not found"}, status=404)


class MessagingChannel(InputChannel):
    """The shared half of a messaging channel: guard checks, background turns, de-duplication, replies."""

    platform = "messaging"  # the channel's name: its webhook path (/webhooks/<platform>/) and its logs

    @classmethod
    def name(cls) -> str:
        return cls.platform

    def __init__(self, config: dict[str, str] | None, guard: Guard | None, dedup: Deduplicator | None = None) -> None:
        self.config = config
        self.guard = guard
        self.dedup = dedup or Deduplicator()
        self.background = Background()
        self.uploads = UploadStore.from_env()
        self.journal = Journal()
        self.turn_delay = float(os.environ.get("CHANNEL_TEST_TURN_DELAY_SECONDS") or 0)

    @property
    def enabled(self) -> bool:
        return self.config is not None

    @staticmethod
    def _install_logging() -> None:
        privacy.install()

    # -- to implement per platform
    async def typing(self, inbound: Inbound) -> None:
        """Show that the bot is writing (where the platform has a cheap call for it)."""

    async def deliver(self, inbound: Inbound, messages: list[dict[str, Any]]) -> None:
        """Send the turn's messages (``Collector`` dicts) to ``inbound.reply_to``."""
        raise NotImplementedError

    async def acknowledge(self, inbound: Inbound) -> None:
        """Platform-specific acknowledgement of a button press (Telegram's answerCallbackQuery)."""

    async def resolve(self, inbound: Inbound) -> None:
        """Under the conversation's lock, before the turn: what a shared map says the message means (Telegram's
        long payload behind its key, Twilio's numbered choice; ``turns.SharedMap``)."""

    async def fetch_attachment(self, inbound: Inbound) -> bytes | None:
        """The attachment's bytes, downloaded with the bot's credentials within ``self.uploads.max_bytes``
        (``UploadRefused`` past it); None where the platform's download is not implemented (the not-yet reply)."""
        return None

    async def _store_attachment(self, inbound: Inbound, client: str) -> str | None:
        """The attachment as this conversation's upload: the ``/upload_file`` text, or None after a reply."""
        assert self.guard is not None
        try:
            data = await self.fetch_attachment(inbound)
            if data is None:
                await self.deliver(inbound, [{"text": ATTACHMENTS_NOT_YET}])
                return None
            if not await self.guard.allow_upload(inbound.conversation_id, client):
                await self.deliver(inbound, [{"text": SLOW_DOWN}])
                return None
            stored = await asyncio.to_thread(self.uploads.save, inbound.conversation_id, data, channel=self.platform)
        except UploadRefused as refused:
            logger.info("%s attachment refused: %s", self.platform, refused.status)
            await self.deliver(inbound, [{"text": refused.reply}])
            return None
        except OSError:
            logger.exception("%s attachment could not be stored", self.platform)
            await self.deliver(inbound, [{"text": NOT_RECEIVED}])
            return None
        logger.info("%s attachment stored: %s, %d bytes", self.platform, stored.content_type, stored.size)
        return upload_message(stored.upload_id)

    # -- shared
    def webhook_blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]] | None = None) -> Blueprint:
        """The channel's blueprint with its health route (``channel_off`` while the channel is off); given the
        ``on_new_message`` of Rasa, it replays the journal's unfinished events once the server has started."""
        webhook = Blueprint(f"{self.name()}_verified_webhook", __name__)

        if on_new_message is not None and self.enabled:

            @webhook.listener("after_server_start")
            async def replay_unfinished(*_: Any) -> None:
                await self.replay(on_new_message)
                if self.journal.grace > 0:  # entries of processes that died just before this one started
                    self.background.spawn(self._replay_later(on_new_message), f"{self.platform} replay")

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"}) if self.enabled else channel_off()

        return webhook

    async def _replay_later(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        await asyncio.sleep(self.journal.grace)
        await self.replay(on_new_message)

    async def refused(self) -> None:
        """Before answering a request that failed verification: the guard's refusal pause, where it has one (a
        flooding caller then gets one answer per connection per pause; see guard.py)."""
        pause = getattr(self.guard, "refusal_pause", None)
        if pause is not None:
            await pause()

    async def verified_json(self, request: Request, what: str, why: str) -> tuple[dict | None, HTTPResponse | None]:
        """The webhook's JSON object, or the answer instead of it: off, unverified (``why`` is logged; 401 after the
        refusal pause) or not a JSON object (400, ``the body must be a JSON <what>``).  Nothing is parsed before the
        request is verified."""
        if not self.enabled:
            return None, channel_off()
        if not self.verified(request):
            logger.warning("%s webhook refused: %s", self.name(), why)
            await self.refused()
            return None, response.json({"error": "unauthorized"}, status=401)
        try:
            body = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return None, response.json({"error": f"the body must be a JSON {what}"}, status=400)
        return body, None

    async def accept(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], events: Iterable[tuple[str, Inbound]]
    ) -> int:
        """Start a turn for every event seen for the first time, written down first (``journal``); the number
        started."""
        started = 0
        for key, inbound in events:
            if not await self.dedup.first_time(key):
                logger.info("%s: redelivered event ignored", self.platform)
                continue
            started += 1
            await self.journal.record(key, self.platform, asdict(inbound))
            self.background.spawn(self.journaled(on_new_message, inbound, key), f"{self.platform} turn")
        return started

    async def replay(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> int:
        """At start: the turns a dead process acknowledged but did not finish (``journal.Journal.unfinished``)."""
        replayed = 0
        for key, entry in await self.journal.unfinished(self.platform):
            await self.journal.record(key, self.platform, entry)  # claimed; kept until this process finishes it
            self.background.spawn(self.journaled(on_new_message, Inbound(**entry), key), f"{self.platform} replay")
            replayed += 1
        if replayed:
            logger.info("%s: %d unfinished event(s) replayed", self.platform, replayed)
        return replayed

    async def journaled(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], inbound: Inbound, key: str
    ) -> None:
        """The event's turn (``handle``), then its journal entry crossed out, whatever the turn's outcome."""
        try:
            await self.handle(on_new_message, inbound)
        except asyncio.CancelledError:
            raise  # the process is stopping mid-turn: the journal keeps the event for the next start
        except Exception:  # noqa: BLE001 - logged (masked); the event is over
            logger.exception("%s turn failed", self.platform)
        await self.journal.done(key)

    async def handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], inbound: Inbound) -> None:
        assert self.guard is not None
        # the button press is acknowledged at once (its own task: the conversation's lock is taken first, in order)
        self.background.spawn(self.acknowledge(inbound), f"{self.platform} acknowledgement")
        async with self.background.conversation(inbound.conversation_id):
            await self.resolve(inbound)
            client = self.guard.client_key(inbound.user_key)
            verdict = await self.guard.allow_message(inbound.conversation_id, client)
            if verdict.ok:
                if inbound.kind == "attachment":
                    text = await self._store_attachment(inbound, client)
                    if text is None:
                        return
                    inbound.text, inbound.kind = text, "text"
                if inbound.kind != "text":
                    await self.deliver(inbound, [{"text": NOT_TEXT}])
                    return
                verdict = self.guard.check_text(inbound.text)
            if not verdict.ok:
                logger.info("%s message refused: %s", self.platform, verdict.error)
                await self.deliver(inbound, [{"text": verdict.reply}])
                return
            await self.typing(inbound)
            if self.turn_delay:  # tests only: a window to kill the process between the 200 and the turn
                await asyncio.sleep(self.turn_delay)
            collector = Collector()
            try:
                await on_new_message(
                    UserMessage(
                        inbound.text,
                        collector,
                        inbound.conversation_id,
                        input_channel=self.name(),
                        metadata=self.guard.metadata(client),
                    )
                )
            except Exception:  # noqa: BLE001 - logged (masked); the customer is told below
                logger.exception("%s message could not be handled", self.platform)
            if collector.messages:
                # a person takes over: remember where their replies go (agent_outbound.py, issue 17)
                await note_turn(self.platform, inbound.conversation_id, inbound.reply_to, collector.messages)
                await self.deliver(inbound, collector.messages)
            elif not await conversation_paused(rasa_app(), inbound.conversation_id):
                await self.deliver(inbound, [{"text": NO_ANSWER}])  # silence is expected only while an agent has it
