"""How a messaging channel runs its turns (messaging.py, points 3 and 4): each update once (``Deduplicator``), in a
background task, one conversation's messages in the order they arrived (``Background``)."""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from collections.abc import Awaitable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_DEDUP_SECONDS = 24 * 3600
DEFAULT_DEDUP_ENTRIES = 100_000


# ---- exactly once --------------------------------------------------------------------------------------------------


class Deduplicator:
    """Remembers update ids for ``ttl`` seconds: ``first_time(key)`` is True once per key.

    In memory: an insertion-ordered dict of expiry times, at most ``max_entries`` (the oldest go first), per process.
    With ``RATE_LIMIT_STORAGE=redis://...``: ``SET <key> 1 NX EX <ttl>`` in that Redis, shared by every Rasa process
    and surviving a restart. If Redis cannot be reached the event is handled (a possible duplicate answer is better
    than a lost message) and a warning is logged."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        e = os.environ if environ is None else environ
        self.ttl = int((e.get("CHANNEL_DEDUP_SECONDS") or "").strip() or DEFAULT_DEDUP_SECONDS)
        self.max_entries = int((e.get("CHANNEL_DEDUP_ENTRIES") or "").strip() or DEFAULT_DEDUP_ENTRIES)
        self.redis_url = redis_url_of(e)
        self._seen: collections.OrderedDict[str, float] = collections.OrderedDict()
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
                logger.warning(
                    "channel de-duplication: Redis unavailable (%s); handling the event", type(error).__name__
                )
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


def redis_url_of(environ: Mapping[str, str] | None = None) -> str | None:
    """The channels' shared Redis: ``RATE_LIMIT_STORAGE`` when it is ``redis://...`` (the rate limits' Redis), else
    None (each process keeps its own)."""
    e = os.environ if environ is None else environ
    storage = (e.get("RATE_LIMIT_STORAGE") or "").strip()
    return storage if storage.startswith(("redis://", "rediss://", "unix://")) else None


class SharedMap:
    """Small string values every Rasa process must see (issue 16, item 4): Telegram's long button payloads behind
    their 64-byte keys, Twilio's numbered menus.  In Redis (``SET <name>:<key> EX ttl``) when the channels have one
    (``redis_url_of``), so that a button pressed on one process's message works on another; else in this process (at
    most ``max_entries``, the oldest go first).  If Redis cannot be reached, this process's copy is used (a warning
    is logged): the press then works where it was shown."""

    def __init__(self, name: str, ttl: int, max_entries: int, environ: Mapping[str, str] | None = None) -> None:
        self.name, self.ttl, self.max_entries = name, ttl, max_entries
        self.redis_url = redis_url_of(environ)
        self._local: collections.OrderedDict[str, tuple[float, str | None]] = collections.OrderedDict()
        self._redis: Any = None

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis  # redis-py 4.x, a Rasa dependency

            self._redis = aioredis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    async def put(self, key: str, value: str | None) -> None:
        """Remember ``value`` under ``key`` (None forgets it)."""
        self._local[key] = (time.monotonic() + self.ttl, value)
        self._local.move_to_end(key)
        while len(self._local) > self.max_entries:
            self._local.popitem(last=False)
        if self.redis_url is not None:
            try:
                if value is None:
                    await self._client().delete(f"{self.name}:{key}")
                else:
                    await self._client().set(f"{self.name}:{key}", value.encode("utf-8"), ex=self.ttl)
            except Exception as error:  # noqa: BLE001 - this process's copy still answers
                logger.warning("%s: Redis unavailable (%s); kept in this process", self.name, type(error).__name__)

    async def get(self, key: str) -> str | None:
        if self.redis_url is not None:
            try:
                found = await self._client().get(f"{self.name}:{key}")
                return None if found is None else found.decode("utf-8")
            except Exception as error:  # noqa: BLE001 - fall back to this process's copy
                logger.warning("%s: Redis unavailable (%s); this process's copy", self.name, type(error).__name__)
        expires, value = self._local.get(key, (0.0, None))
        return value if expires > time.monotonic() else None


class Background:
    """The channel's asyncio tasks (referenced until done, errors logged) and one FIFO lock per conversation."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._locks: dict[str, list[Any]] = {}  # conversation -> [lock, users]

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

    def conversation(self, conversation_id: str) -> _ConversationLock:
        return _ConversationLock(self._locks, conversation_id)


class _ConversationLock:
    def __init__(self, locks: dict[str, list[Any]], key: str) -> None:
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
