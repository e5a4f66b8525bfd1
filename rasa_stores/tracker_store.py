"""Rasa's SQL tracker store, with its database work off the event loop and SQLite in WAL mode.

endpoints.yml::

    tracker_store:
      type: rasa_stores.tracker_store.ThreadedSQLTrackerStore
      url: ${TRACKER_STORE_URL}

Why (issue 14, items 1 and 3; rasa 3.6.21 source): ``SQLTrackerStore.retrieve`` and ``save`` are coroutines, but
their SQLAlchemy calls are synchronous and run on the Rasa server's event loop. While one conversation's turn waited
for its tracker (a query, then JSON decoding and rebuilding every event of the session) or for its commit, no other
conversation's message was read, parsed or answered. And the tracker database ran in SQLite's default rollback-journal
mode with ``synchronous=FULL``: two fsyncs per turn, inside that wait (in a py-spy profile of the serving benchmark,
the commit was 7 % of the Rasa server's samples; docs/bench.md, "Where a message's CPU goes").

This class keeps Rasa's tables, queries and events, so a database written by Rasa's store is read by this one and the
other way round, and does two things differently:

* ``retrieve``, ``retrieve_full_tracker``, ``save`` and ``keys`` run their database work and the events' JSON in a
  worker thread (``asyncio.to_thread``); the loop serves other conversations meanwhile. Rasa's lock store still
  serialises the turns of one conversation, so no two threads touch the same tracker.
* ``save`` writes the events the tracker got since this store loaded it (``retrieve``) or last saved it, without
  Rasa's query that counts the conversation's stored events on every save (7 % of the server's busy samples); a
  tracker it did not load (a new conversation, ``retrieve_full_tracker``'s) is saved as Rasa does. The
  conversation lock (Rasa's lock store) keeps other writers of the conversation out between load and save.
* The new events are written with one multi-row INSERT rather than one ORM object each (the same rows: the ORM's
  unit of work was most of the commit's 13 % of the server's busy samples).
* With SQLite: WAL journal, ``synchronous`` from ``SQLITE_SYNCHRONOUS`` (``NORMAL``, as the support database;
  ``FULL`` for an fsync per commit), a busy timeout instead of immediate "database is locked" when two Rasa processes
  share the file, and connections usable from the worker threads. Other databases (PostgreSQL) are used as Rasa
  connects to them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa  # type: ignore[import-untyped]
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from rasa_stores import action_results, event_types

SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")
#: on a tracker this store loaded or saved: how many of its leading events are in the database
STORED_EVENTS = "_support_stored_events"
BUSY_TIMEOUT_SECONDS = 5.0
#: open connections kept per Rasa process: one per worker thread of asyncio.to_thread's default pool (2 cores: 6)
POOL_SIZE = 6


def sqlite_synchronous(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    mode = environ.get("SQLITE_SYNCHRONOUS", "NORMAL").strip().upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {SYNCHRONOUS_MODES}, got {mode!r}")
    return mode


def _sqlite_engine(url: sa.engine.URL) -> sa.engine.Engine:
    synchronous = sqlite_synchronous()
    on_disk = bool(url.database) and url.database != ":memory:"
    # a file database keeps its connections open (SQLAlchemy 1.4 gives SQLite files a NullPool: a new connection,
    # its PRAGMAs and, on close, WAL's checkpoint for every retrieve and save: 16 % of the server's busy samples)
    pool = {"poolclass": sa.pool.QueuePool, "pool_size": POOL_SIZE, "max_overflow": POOL_SIZE} if on_disk else {}
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS}, **pool)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={round(BUSY_TIMEOUT_SECONDS * 1000)}")
        if on_disk:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return engine


class ThreadedSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore whose database work runs in worker threads; SQLite in WAL mode."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action_results.install()  # the server's start: rasa_stores/action_results.py
        event_types.install()  # rasa_stores/event_types.py
        engine = cast(Any, self).engine  # SQLTrackerStore.engine: untyped (sqlalchemy has no stubs here)
        url = engine.url
        if url.get_backend_name() == "sqlite":
            engine.dispose()
            self.engine = _sqlite_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def keys(self) -> Iterable[str]:
        return await asyncio.to_thread(self._keys)

    def _keys(self) -> list[str]:
        with self.session_scope() as session:
            return [sender_id for (sender_id,) in session.query(self.SQLEvent.sender_id).distinct().all()]

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        return await asyncio.to_thread(self._retrieve_now, sender_id, fetch_events_from_all_sessions)

    def _retrieve_now(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions).all()
            events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if not fetch_events_from_all_sessions and len(tracker.events) == len(events):
                setattr(tracker, STORED_EVENTS, len(events))
            return tracker
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        await asyncio.to_thread(self._save_now, tracker)

    def _save_now(self, tracker: DialogueStateTracker) -> None:
        stored = getattr(tracker, STORED_EVENTS, None)
        with self.session_scope() as session:
            if isinstance(stored, int) and 0 <= stored <= len(tracker.events):
                new_events = list(itertools.islice(tracker.events, stored, None))
            else:
                new_events = list(self._additional_events(session, tracker))
            rows = []
            for event in new_events:
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:  # one INSERT for all of them, not the ORM's unit of work per event (the same rows)
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        setattr(tracker, STORED_EVENTS, len(tracker.events))
