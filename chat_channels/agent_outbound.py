"""An agent's replies on every channel (issue 17): the web chat, the messaging apps, the REST channel.

The agent inbox posts a reply (or the hand back) to the Rasa server's relay (``handoff_relay.AgentRelay``), which
appends it to the tracker and then hands it to ``send``, by the conversation's channel (the tracker's latest input
channel):

* **the messaging apps** (Telegram, WhatsApp Cloud API, WhatsApp through Twilio, Messenger, Slack): the channel's own
  ``deliver`` sends it through the platform's API, rendered like any bot message, to where the customer's messages
  came from.  That address (Telegram's chat id, the WhatsApp number, Messenger's page-scoped id, the Slack channel)
  is not in the conversation id (WhatsApp's is a keyed hash of the number), so ``note_turn`` remembers it when the
  bot tells the customer that a person joins (``agent_joining``): ``HandoffAddressBook``, for
  ``HANDOFF_RECIPIENT_SECONDS`` (default 7 days; WhatsApp and Messenger accept free-form replies only within 24 hours
  of the customer's last message anyway), in memory or, with ``RATE_LIMIT_STORAGE=redis://...``, in that Redis, so
  that every Rasa process finds it.  Nothing else of the customer is kept.
* **the REST channel** cannot push: the reply is kept (``keep``) and returned first in the response to the
  customer's next REST call (``take``), in the order the agent wrote; at most ``KEPT_MAX`` per conversation.
* **the web chat**: ``send`` answers None and the relay emits the message to the conversation's socket.io room.

``send`` answers how it went: ``live`` (handed to the platform's API), ``kept`` (REST) or ``failed`` (no address
known: e.g. the memory of a restarted process; the inbox shows it to the agent).

Runs inside the Rasa server (.venv-rasa): redis-py (a Rasa dependency) for the shared store.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_RECIPIENT_SECONDS = 7 * 24 * 3600
MAX_ENTRIES = 100_000
#: agent messages kept for one REST conversation (the oldest go first)
KEPT_MAX = 50
REST = "rest"


class HandoffAddressBook:
    """Where a handed-over conversation's customer is reached, and the REST channel's kept agent messages."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        e = os.environ if environ is None else environ
        self.ttl = int((e.get("HANDOFF_RECIPIENT_SECONDS") or "").strip() or DEFAULT_RECIPIENT_SECONDS)
        storage = (e.get("RATE_LIMIT_STORAGE") or "").strip()
        self.redis_url = storage if storage.startswith(("redis://", "rediss://", "unix://")) else None
        self._memory: collections.OrderedDict[str, tuple[float, Any]] = collections.OrderedDict()
        self._redis: Any = None

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis  # redis-py 4.x, a Rasa dependency

            self._redis = aioredis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    # ---- memory: an insertion-ordered dict of (expiry, value), at most MAX_ENTRIES
    def _get(self, key: str) -> Any:
        entry = self._memory.get(key)
        if entry is None or entry[0] <= time.monotonic():
            self._memory.pop(key, None)
            return None
        return entry[1]

    def _put(self, key: str, value: Any) -> None:
        self._memory.pop(key, None)
        self._memory[key] = (time.monotonic() + self.ttl, value)
        while len(self._memory) > MAX_ENTRIES:
            self._memory.popitem(last=False)

    async def remember(self, conversation_id: str, platform: str, reply_to: Any) -> None:
        value = {"platform": platform, "to": reply_to}
        if self.redis_url is None:
            self._put(f"to:{conversation_id}", value)
            return
        try:
            await self._client().set(f"handoff-to:{conversation_id}", json.dumps(value), ex=self.ttl)
        except Exception as error:  # noqa: BLE001 - the handoff goes on; the agent's reply will say "failed"
            logger.warning("handoff address book: Redis unavailable (%s)", type(error).__name__)

    async def recall(self, conversation_id: str) -> dict[str, Any] | None:
        if self.redis_url is None:
            return self._get(f"to:{conversation_id}")
        try:
            raw = await self._client().get(f"handoff-to:{conversation_id}")
        except Exception as error:  # noqa: BLE001
            logger.warning("handoff address book: Redis unavailable (%s)", type(error).__name__)
            return None
        return json.loads(raw) if raw else None

    async def keep(self, conversation_id: str, message: dict[str, Any]) -> bool:
        if self.redis_url is None:
            kept = list(self._get(f"kept:{conversation_id}") or [])[-(KEPT_MAX - 1) :]
            self._put(f"kept:{conversation_id}", [*kept, message])
            return True
        key = f"handoff-kept:{conversation_id}"
        try:
            async with self._client().pipeline(transaction=True) as pipe:
                pipe.rpush(key, json.dumps(message)).ltrim(key, -KEPT_MAX, -1).expire(key, self.ttl)
                await pipe.execute()
            return True
        except Exception as error:  # noqa: BLE001
            logger.warning("handoff kept messages: Redis unavailable (%s)", type(error).__name__)
            return False

    async def take(self, conversation_id: str) -> list[dict[str, Any]]:
        """The kept messages, oldest first, once."""
        if self.redis_url is None:
            kept = self._get(f"kept:{conversation_id}") or []
            self._memory.pop(f"kept:{conversation_id}", None)
            return list(kept)
        key = f"handoff-kept:{conversation_id}"
        try:
            async with self._client().pipeline(transaction=True) as pipe:
                pipe.lrange(key, 0, -1).delete(key)
                raw, _ = await pipe.execute()
        except Exception as error:  # noqa: BLE001 - the customer's own answer goes out anyway
            logger.warning("handoff kept messages: Redis unavailable (%s)", type(error).__name__)
            return []
        return [json.loads(item) for item in raw or []]


_BOOK: HandoffAddressBook | None = None


def address_book() -> HandoffAddressBook:
    """The process's book (made on first use: nothing at import time)."""
    global _BOOK
    if _BOOK is None:
        _BOOK = HandoffAddressBook()
    return _BOOK


def handed_over(messages: Iterable[Mapping[str, Any]]) -> bool:
    """The turn told the customer that a person joins (the ``handoff`` decision ``agent_joining``, CON-1)."""
    for message in messages:
        custom = message.get("custom")
        decision = custom.get("decision") if isinstance(custom, dict) else None
        if not isinstance(decision, dict) or decision.get("topic") != "handoff":
            continue
        if "agent_joining" in (decision.get("reasons") or []):
            return True
    return False


async def note_turn(platform: str, conversation_id: str, reply_to: Any, messages: Iterable[Mapping[str, Any]]) -> None:
    """After a messaging channel's turn: remember where to reach the customer if the conversation was handed over."""
    if handed_over(messages):
        await address_book().remember(conversation_id, platform, reply_to)


def _messaging_channel(app: Any, name: str) -> Any:
    for channel in getattr(getattr(app, "ctx", None), "input_channels", None) or []:
        if channel.name() == name and hasattr(channel, "deliver") and hasattr(channel, "platform"):
            return channel
    return None


async def send(app: Any, conversation_id: str, channel_name: str | None, message: dict[str, Any]) -> str | None:
    """Carry one agent message (``{"text": ...}``) to the customer: ``live``, ``kept``, ``failed``, or None when the
    conversation is not on a messaging app or the REST channel (the web chat: the caller emits it)."""
    if channel_name == REST:
        return "kept" if await address_book().keep(conversation_id, {"text": message["text"]}) else "failed"
    channel = _messaging_channel(app, channel_name or "")
    if channel is None:
        return None
    address = await address_book().recall(conversation_id)
    if not channel.enabled or address is None or address.get("platform") != channel_name:
        logger.warning("%s: no address for an agent's message (handoff older than the book?)", channel_name)
        return "failed"
    from .messaging import Inbound  # here: messaging.py imports this module

    await channel.deliver(Inbound(conversation_id, user_key="", reply_to=address["to"]), [{"text": message["text"]}])
    return "live"
