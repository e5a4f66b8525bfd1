"""Durable webhooks (issue 16, item 3): an update acknowledged before it is handled is not lost if the process dies.

The platforms retry only a non-2xx answer, and the webhook answers 200 before the turn runs (Slack retries after 3 s).
So the verified, parsed event is written down first (``record``), the 200 goes out, the turn runs, and the entry is
removed once the turn is over (``done``).  When a Rasa process starts, it replays the entries a dead process left
(``unfinished``), each claimed by one process only (an atomic delete), so a message is answered once.

* **Embedded default**: a SQLite file, ``CHANNEL_JOURNAL_PATH`` (default ``var/channel-journal.db``, 0600: it holds
  messages in flight), one Rasa process.  Every entry older than this process is replayed at its start.
* **Several processes**: with ``RATE_LIMIT_STORAGE=redis://...`` (the channels' shared Redis, as for the
  de-duplication), a hash ``channel-journal`` in Redis.  A starting process cannot tell a dead process's entry from
  a live one's turn in progress, so it replays only entries that were written before it started and are older than
  ``CHANNEL_REPLAY_AFTER_SECONDS`` (default 60; a turn takes seconds), at its start and once more when that time
  has passed.
* An entry holds what the turn needs (conversation id, the text or the attachment's reference, where to answer) and
  nothing else; it is deleted when the turn ends, whatever its outcome.  If the journal cannot be written, the event
  is handled anyway (a warning is logged): the trade-off is then the old one, a message lost only if the process
  dies in that very turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .turns import redis_url_of

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path("var") / "channel-journal.db"
REDIS_HASH = "channel-journal"


class Journal:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        e = os.environ if environ is None else environ
        self.redis_url = redis_url_of(e)
        self.path = Path((e.get("CHANNEL_JOURNAL_PATH") or "").strip() or DEFAULT_PATH)
        default_grace = "60" if self.redis_url else "0"
        self.grace = float((e.get("CHANNEL_REPLAY_AFTER_SECONDS") or "").strip() or default_grace)
        self.started = time.time()
        self._redis: Any = None
        self._ready = False

    # ---- storage -------------------------------------------------------------------------------------------------
    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis  # redis-py 4.x, a Rasa dependency

            self._redis = aioredis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    def _db(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path.touch(mode=0o600, exist_ok=True)
            os.chmod(self.path, 0o600)
        connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        if not self._ready:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS channel_journal (key TEXT PRIMARY KEY, platform TEXT NOT NULL, "
                "entry TEXT NOT NULL, received_at REAL NOT NULL)"
            )
            self._ready = True
        return connection

    def _sql(self, statement: str, *args: Any) -> list[tuple[Any, ...]] | int:
        connection = self._db()
        try:
            cursor = connection.execute(statement, args)
            return cursor.fetchall() if statement.startswith("SELECT") else cursor.rowcount
        finally:
            connection.close()

    # ---- the three operations ------------------------------------------------------------------------------------
    async def record(self, key: str, platform: str, entry: dict[str, Any]) -> None:
        value = json.dumps({"platform": platform, "entry": entry, "received_at": time.time()})
        try:
            if self.redis_url is not None:
                await self._client().hset(REDIS_HASH, key, value.encode("utf-8"))
            else:
                await asyncio.to_thread(
                    self._sql, "INSERT OR REPLACE INTO channel_journal VALUES (?, ?, ?, ?)", key, platform,
                    json.dumps(entry), time.time(),
                )  # fmt: skip
        except Exception as error:  # noqa: BLE001 - handle the event anyway
            logger.warning("channel journal: not written (%s); handling the event", type(error).__name__)

    async def done(self, key: str) -> bool:
        """Remove the entry; True if this call removed it (the claim of a replay)."""
        try:
            if self.redis_url is not None:
                return bool(await self._client().hdel(REDIS_HASH, key))
            return await asyncio.to_thread(self._sql, "DELETE FROM channel_journal WHERE key = ?", key) == 1
        except Exception as error:  # noqa: BLE001 - a leftover entry is replayed once, at worst
            logger.warning("channel journal: not cleared (%s)", type(error).__name__)
            return False

    async def unfinished(self, platform: str) -> list[tuple[str, dict[str, Any]]]:
        """``platform``'s entries left by a process that died (written before this one started, older than the grace
        period), each claimed for this process: the caller handles them."""
        limit = min(self.started, time.time() - self.grace)
        found: list[tuple[str, dict[str, Any]]] = []
        try:
            if self.redis_url is not None:
                for raw_key, raw in (await self._client().hgetall(REDIS_HASH)).items():
                    value = json.loads(raw)
                    if value.get("platform") == platform and float(value.get("received_at", 0)) < limit:
                        found.append((raw_key.decode("utf-8"), value["entry"]))
            else:
                rows = await asyncio.to_thread(
                    self._sql,
                    "SELECT key, entry FROM channel_journal WHERE platform = ? AND received_at < ? "
                    "ORDER BY received_at",
                    platform,
                    limit,
                )
                assert isinstance(rows, list)
                found = [(key, json.loads(entry)) for key, entry in rows]
        except Exception as error:  # noqa: BLE001 - nothing replayed now; the entries stay
            logger.warning("channel journal: not read (%s)", type(error).__name__)
            return []
        return [(key, entry) for key, entry in found if await self.done(key)]
