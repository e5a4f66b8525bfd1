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
   ``event_id``, Twilio's ``MessageSid``); ``Deduplicator.first_time`` remembers it for ``CHANNEL_DEDUP_SECONDS``
   (24 h), in a bounded in-process cache, or in Redis (``SET NX EX``) when ``RATE_LIMIT_STORAGE`` is
   ``redis://...`` so that every Rasa process shares it. A redelivery is acknowledged (200) and dropped. Every event
   of a batched delivery is handled.
4. **Fast answer, work after.** The webhook answers 200 as soon as the events are recorded; each event becomes an
   asyncio task (``Background``) that takes the conversation's lock (so one customer's messages are handled in the
   order they arrived), applies the ``guard.Guard`` checks (length, rate limits: a polite reply on refusal), shows
   a typing indicator, runs the turn and sends the replies through the platform's API. Trade-off: an update is
   acknowledged before it is handled, so if the process dies in between, that message is not answered (the platform
   does not redeliver what it saw acknowledged); the customer writes again.
5. **Identity.** The conversation id is derived from the platform and its user (``tg-<chat id>``,
   ``wa-<keyed hash of the phone number>``, ``fb-<page-scoped id>``, ``sl-<team>-<user>``); it never stands in for
   verification: the action server's order number + email rule applies unchanged. The message metadata is
   ``{"client": guard.client_key("<platform>:<user id>")}`` only.
6. **Rendering.** ``Collector`` gathers a turn's messages (text, buttons, images, custom payloads); each channel
   renders them natively (``render``, standard library only, so that the rendering is unit-tested without Rasa).
   ``render.decision_summary`` turns the ``{"decision": {...}}`` payload (policy_engine/core/decision.py,
   ``widget_payload``) into one short line with the case number; ``split_text`` cuts long texts at the platform's
   limit (paragraph, then line, then word boundaries).
7. **Attachments.** The upload storage does not exist yet (issue 15): a photo, file, voice note or video gets
   ``render.ATTACHMENTS_NOT_YET`` and nothing is downloaded.

Runs inside the Rasa server (.venv-rasa): aiohttp (a Rasa dependency) for the platform APIs, redis-py for the shared
cache.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Text

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import privacy
from .guard import NO_ANSWER, NOT_TEXT, Guard
from .render import ATTACHMENTS_NOT_YET

logger = logging.getLogger(__name__)


DEFAULT_DEDUP_SECONDS = 24 * 3600
DEFAULT_DEDUP_ENTRIES = 100_000
API_TIMEOUT_SECONDS = 10.0


class ChannelConfigError(ValueError):
    """A channel is half configured: Rasa must not start (the message names the missing variables)."""


def channel_config(channel: str, names: Sequence[str], environ: Optional[Mapping[str, str]] = None,
                   min_lengths: Optional[Mapping[str, int]] = None) -> Optional[Dict[str, str]]:
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


def env_url(name: str, default: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """A platform's API base URL (``TELEGRAM_API_URL`` ...): tests point it at a local stub."""
    e = os.environ if environ is None else environ
    return ((e.get(name) or "").strip() or default).rstrip("/")


# ---- exactly once --------------------------------------------------------------------------------------------------


class Deduplicator:
    """Remembers update ids for ``ttl`` seconds: ``first_time(key)`` is True once per key.

    In memory: an insertion-ordered dict of expiry times, at most ``max_entries`` (the oldest go first), per process.
    With ``RATE_LIMIT_STORAGE=redis://...``: ``SET <key> 1 NX EX <ttl>`` in that Redis, shared by every Rasa process
    and surviving a restart. If Redis cannot be reached the event is handled (a possible duplicate answer is better
    than a lost message) and a warning is logged."""

    def __init__(self, environ: Optional[Mapping[str, str]] = None) -> None:
        e = os.environ if environ is None else environ
        self.ttl = int((e.get("CHANNEL_DEDUP_SECONDS") or "").strip() or DEFAULT_DEDUP_SECONDS)
        self.max_entries = int((e.get("CHANNEL_DEDUP_ENTRIES") or "").strip() or DEFAULT_DEDUP_ENTRIES)
        storage = (e.get("RATE_LIMIT_STORAGE") or "").strip()
        self.redis_url = storage if storage.startswith(("redis://", "rediss://", "unix://")) else None
        self._seen: "collections.OrderedDict[str, float]" = collections.OrderedDict()
        self._redis: Any = None

    @property
    def shared(self) -> bool:
        return self.redis_url is not None

    async def first_time(self, key: str) -> bool:
        if self.redis_url is not None:
            try:
                if self._redis is None:
                    import redis.asyncio as aioredis  # redis-py 4.x, a Rasa dependency

                    self._redis = aioredis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
                return bool(await self._redis.set(f"channel-seen:{key}", b"1", nx=True, ex=self.ttl))
            except Exception as error:  # noqa: BLE001 - handle the event rather than drop it
                logger.warning("channel de-duplication: Redis unavailable (%s); handling the event",
                               type(error).__name__)
                return True
        now = time.monotonic()
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self.max_entries:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now + self.ttl
        return True


# ---- background turns ----------------------------------------------------------------------------------------------


class Background:
    """The channel's asyncio tasks (referenced until done, errors logged) and one FIFO lock per conversation."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._locks: Dict[str, List[Any]] = {}  # conversation -> [lock, users]

    def spawn(self, coroutine: Awaitable[Any], what: str) -> None:
        task = asyncio.ensure_future(self._run(coroutine, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(coroutine: Awaitable[Any], what: str) -> None:
        try:
            await coroutine
        except Exception:  # noqa: BLE001 - a task's error must not vanish; the masking filter cleans the text
            logger.exception("%s failed", what)

    async def pending(self) -> None:
        """Wait for every task started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def conversation(self, conversation_id: str) -> "_ConversationLock":
        return _ConversationLock(self._locks, conversation_id)


class _ConversationLock:
    def __init__(self, locks: Dict[str, List[Any]], key: str) -> None:
        self.locks, self.key = locks, key

    async def __aenter__(self) -> None:
        entry = self.locks.setdefault(self.key, [asyncio.Lock(), 0])
        entry[1] += 1
        await entry[0].acquire()

    async def __aexit__(self, *exc: Any) -> None:
        entry = self.locks[self.key]
        entry[0].release()
        entry[1] -= 1
        if entry[1] == 0:
            del self.locks[self.key]


# ---- a turn's messages and their rendering ------------------------------------------------------------------------


class Collector(CollectingOutputChannel):
    """Collects a turn's messages; texts stay whole (Rasa's collector cuts them at blank lines)."""

    @classmethod
    def name(cls) -> Text:
        return "collector"

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=text.strip()))


# ---- the channel ---------------------------------------------------------------------------------------------------


@dataclass
class Inbound:
    """One verified, parsed event: a customer's message (text or button payload) or an attachment."""

    conversation_id: str  # the Rasa sender id: "<platform prefix>-<id>"
    user_key: str  # "<platform>:<user id>", hashed into the metadata's client key
    reply_to: Any  # where the platform API sends the answer (chat id, phone number, page-scoped id)
    text: Optional[str] = None
    kind: str = "text"  # text | attachment | unsupported
    extra: Dict[str, Any] = field(default_factory=dict)  # platform details (callback query id, message id)


class Api:
    """The platform's HTTP API (JSON or form posts) over one aiohttp session; never raises, logs without content."""

    def __init__(self, platform: str, base_url: str, headers: Optional[Mapping[str, str]] = None) -> None:
        self.platform = platform
        self.base_url = base_url
        self.headers = dict(headers or {})
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS),
                                                  headers=self.headers)
        return self._session

    async def post(self, path: str, json: Any = None, data: Any = None, what: str = "",
                   auth: Optional[aiohttp.BasicAuth] = None) -> Optional[Any]:
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            async with self._client().post(url, json=json, data=data, auth=auth) as reply:
                body = await reply.text()
                if reply.status >= 300:
                    # the status and the method only: the URL may hold a token, the body the customer's words
                    logger.warning("%s API %s answered %s", self.platform, what or path.rsplit("/", 1)[-1],
                                   reply.status)
                    return None
                try:
                    return await reply.json(content_type=None) if body else {}
                except ValueError:
                    return {}
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("%s API %s failed: %s", self.platform, what or path.rsplit("/", 1)[-1],
                           type(error).__name__)
            return None


def channel_off() -> HTTPResponse:
    """What a channel whose variables are not set answers to everything."""
    return response.json({"error": "not found"}, status=404)


class MessagingChannel(InputChannel):
    """The shared half of a messaging channel: guard checks, background turns, de-duplication, replies."""

    platform = "messaging"  # the channel's name: its webhook path (/webhooks/<platform>/) and its logs

    @classmethod
    def name(cls) -> Text:
        return cls.platform

    def __init__(self, config: Optional[Dict[str, str]], guard: Optional[Guard],
                 dedup: Optional[Deduplicator] = None) -> None:
        self.config = config
        self.guard = guard
        self.dedup = dedup or Deduplicator()
        self.background = Background()

    @property
    def enabled(self) -> bool:
        return self.config is not None

    @staticmethod
    def _install_logging() -> None:
        privacy.install()

    # -- to implement per platform
    async def typing(self, inbound: Inbound) -> None:
        """Show that the bot is writing (where the platform has a cheap call for it)."""

    async def deliver(self, inbound: Inbound, messages: List[Dict[str, Any]]) -> None:
        """Send the turn's messages (``Collector`` dicts) to ``inbound.reply_to``."""
        raise NotImplementedError

    async def acknowledge(self, inbound: Inbound) -> None:
        """Platform-specific acknowledgement of a button press (Telegram's answerCallbackQuery)."""

    # -- shared
    def webhook_blueprint(self) -> Blueprint:
        """The channel's blueprint with its health route (``channel_off`` while the channel is off)."""
        webhook = Blueprint(f"{self.name()}_verified_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"}) if self.enabled else channel_off()

        return webhook

    async def refused(self) -> None:
        """Before answering a request that failed verification: the guard's refusal pause, where it has one (a
        flooding caller then gets one answer per connection per pause; see guard.py)."""
        pause = getattr(self.guard, "refusal_pause", None)
        if pause is not None:
            await pause()

    async def accept(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                     events: Iterable[tuple[str, Inbound]]) -> int:
        """Start a turn for every event seen for the first time; the number started."""
        started = 0
        for key, inbound in events:
            if not await self.dedup.first_time(key):
                logger.info("%s: redelivered event ignored", self.platform)
                continue
            started += 1
            self.background.spawn(self.handle(on_new_message, inbound), f"{self.platform} turn")
        return started

    async def handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], inbound: Inbound) -> None:
        assert self.guard is not None
        # the button press is acknowledged at once (its own task: the conversation's lock is taken first, in order)
        self.background.spawn(self.acknowledge(inbound), f"{self.platform} acknowledgement")
        async with self.background.conversation(inbound.conversation_id):
            client = self.guard.client_key(inbound.user_key)
            verdict = await self.guard.allow_message(inbound.conversation_id, client)
            if verdict.ok:
                if inbound.kind == "attachment":
                    await self.deliver(inbound, [{"text": ATTACHMENTS_NOT_YET}])
                    return
                if inbound.kind != "text":
                    await self.deliver(inbound, [{"text": NOT_TEXT}])
                    return
                verdict = self.guard.check_text(inbound.text)
            if not verdict.ok:
                logger.info("%s message refused: %s", self.platform, verdict.error)
                await self.deliver(inbound, [{"text": verdict.reply}])
                return
            await self.typing(inbound)
            collector = Collector()
            try:
                await on_new_message(UserMessage(inbound.text, collector, inbound.conversation_id,
                                                 input_channel=self.name(), metadata=self.guard.metadata(client)))
            except Exception:  # noqa: BLE001 - logged (masked); the customer is told below
                logger.exception("%s message could not be handled", self.platform)
            await self.deliver(inbound, collector.messages or [{"text": NO_ANSWER}])
