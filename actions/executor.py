"""The action server's executor (issue 12, finding 9): every action call in a worker thread, with a time limit.

``GuardedExecutor`` is rasa-sdk's executor, but each action call runs in a worker thread (a bounded pool,
``ACTION_THREADS``, default 8) with an event loop of its own, and is waited for at most ``ACTION_TIMEOUT_SECONDS``
(default 8 s; Rasa itself waits 300 s for an action). So a slow or locked database delays only the conversations
that need it. On timeout the customer gets ``utter_backend_error`` and the action's ``timeout_events(tracker,
domain)`` (if it has one; no I/O) keep the conversation state consistent; the abandoned call may still finish in its
thread (its result is discarded; writes are idempotent by natural key, so the customer's retry finds the case
instead of opening a second one). ``actions/server.py`` builds the app around it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionNotFoundException, Tracker

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 8.0
DEFAULT_THREADS = 8
#: the generic "try again" of domain.yml, told when an action ran out of time
BACKEND_ERROR_RESPONSE = "utter_backend_error"


class GuardedExecutor(ActionExecutor):
    """rasa-sdk's executor, but every action call runs in a worker thread (with an event loop of its own, reused by
    that thread) and is given at most ``timeout`` seconds.  Nothing an action does can block the server's loop."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_S, threads: int = DEFAULT_THREADS) -> None:
        super().__init__()
        self.timeout = timeout
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._local = threading.local()

    def _executor(self) -> ThreadPoolExecutor:
        # built on first use, so that nothing is started at import time or before Sanic forks its workers
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="action")
            return self._pool

    def shutdown(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def _run_in_thread(self, action_call: dict[str, Any]) -> dict[str, Any] | None:
        loop = getattr(self._local, "loop", None)
        if loop is None or loop.is_closed():
            loop = self._local.loop = asyncio.new_event_loop()
        return loop.run_until_complete(ActionExecutor.run(self, action_call))

    async def run(self, action_call: dict[str, Any]) -> dict[str, Any] | None:
        name = action_call.get("next_action")
        if not name:
            return await super().run(action_call)  # rasa-sdk's answer to a call without an action (None)
        if name not in self.actions:
            raise ActionNotFoundException(name)
        future = asyncio.get_running_loop().run_in_executor(self._executor(), self._run_in_thread, action_call)
        try:
            # on timeout wait_for cancels the future: a call still queued for a thread never starts
            return await asyncio.wait_for(future, self.timeout)
        except asyncio.TimeoutError:
            logger.error(
                "action %s did not finish within %.1f s; the customer is asked to try again", name, self.timeout
            )
            return self.timed_out(name, action_call)

    def timed_out(self, name: str, action_call: dict[str, Any]) -> dict[str, Any]:
        """The answer for an action that ran out of time: ``utter_backend_error`` and the action's own
        ``timeout_events(tracker, domain)`` (computed from a fresh tracker: the thread may still be using its own)."""
        dispatcher = CollectingDispatcher()
        dispatcher.utter_message(response=BACKEND_ERROR_RESPONSE)
        events: list[dict[str, Any]] = []
        hook = getattr(getattr(self.actions.get(name), "__self__", None), "timeout_events", None)
        if callable(hook):
            try:
                tracker = Tracker.from_dict(action_call["tracker"])
                events = list(hook(tracker, action_call.get("domain") or {}) or [])
            except Exception:  # noqa: BLE001 - the customer has been told; keep the state as it was
                logger.exception("timeout_events of %s failed", name)
                events = []
        return self._create_api_response(self.validate_events(events, name), dispatcher.messages)
