"""What every input channel checks before a message reaches the assistant (issue 12: bounded input, rate limits).

One ``Guard`` per channel instance, configured from the environment once, when Rasa builds the channel
(``from_credentials``), never at import time:

==========================  =========  ==========================================================================
variable                    default    meaning
==========================  =========  ==========================================================================
``MAX_MESSAGE_CHARS``       1000       longer messages get a polite reply and are not parsed
``RATE_LIMIT_CONVERSATION`` 20/minute  messages per conversation (``limits`` notation: "N/second|minute|hour")
``RATE_LIMIT_CLIENT``       60/minute  messages per client address, over all its conversations
``RATE_LIMIT_SESSIONS``     10/minute  new web chat sessions per client address
``RATE_LIMIT_UPLOADS``      10/hour    files per conversation and per client address (chat_channels/uploads.py)
``RATE_LIMIT_STORAGE``      memory://  ``redis://host:port/db`` to share the counters between processes
``REFUSAL_DELAY_SECONDS``   2          how long a refused caller (429, 401) waits for its answer
``CLIENT_HASH_KEY``         (none)     key of the client-address hash; falls back to ``CHAT_SESSION_SECRET``
``TRUST_PROXY``             0          1: the client address is the last ``X-Forwarded-For`` hop (behind nginx)
==========================  =========  ==========================================================================

The counters are the maintained ``limits`` library's fixed windows; with Redis they are shared by every Rasa
process, in memory they are per process (the embedded default). The client address is never stored: what the
channels put into the message metadata is ``client``, a keyed hash of it, which the identity checks count by.

A refusal is cheap to compute but not free: answered at once, one client on 16 keep-alive connections got 2,100
refusals a second out of the server and pushed another customer's p95 from 110 ms to 1.2 s (scripts/flood_bench.py).
So a refused caller waits ``REFUSAL_DELAY_SECONDS`` for its answer (an idle coroutine, no CPU): a flooding loop then
gets about one answer per connection per delay. Floods over many connections or addresses are the front proxy's to
stop (nginx ``limit_req``/``limit_conn``, README "Security").
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

#: what a conversation id may look like: the web chat's are 32 hex characters, REST callers choose theirs
SENDER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

#: replies the channels send themselves (nothing was parsed, so no response of domain.yml applies)
TOO_LONG = "That message is too long for me ({limit} characters at most). Could you say it in fewer words?"
SLOW_DOWN = "You're sending messages faster than I can answer. Please wait a moment and try again."
NOT_TEXT = "I can only read text messages here."
NO_ANSWER = (
    "Sorry, something went wrong on our side and I couldn't answer that. Please try again in a minute; "
    "nothing you told me is lost."
)


def _env(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Verdict:
    """``ok``, or the HTTP status and the reply that refuses the message."""

    ok: bool
    status: int = 200
    reply: str = ""
    error: str = ""


OK = Verdict(True)


class Guard:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        e = os.environ if environ is None else environ
        self.max_chars = int(_env(e, "MAX_MESSAGE_CHARS", "1000"))
        self.per_conversation = parse(_env(e, "RATE_LIMIT_CONVERSATION", "20/minute"))
        self.per_client = parse(_env(e, "RATE_LIMIT_CLIENT", "60/minute"))
        self.per_client_sessions = parse(_env(e, "RATE_LIMIT_SESSIONS", "10/minute"))
        self.per_uploads = parse(_env(e, "RATE_LIMIT_UPLOADS", "10/hour"))
        self.storage_url = _env(e, "RATE_LIMIT_STORAGE", "memory://")
        self.trust_proxy = _env(e, "TRUST_PROXY", "0") == "1"
        self.refusal_delay = float(_env(e, "REFUSAL_DELAY_SECONDS", "2"))
        key = _env(e, "CLIENT_HASH_KEY", "") or _env(e, "CHAT_SESSION_SECRET", "")
        if len(key) < 32:
            raise ValueError("CLIENT_HASH_KEY (or CHAT_SESSION_SECRET) must be set to at least 32 characters")
        self._hash_key = key.encode("utf-8")
        # the limiter keeps only a weak reference to its storage: this attribute keeps it alive
        self._storage = storage_from_string(self.storage_url)
        # fixed windows: a counter per key that expires with its window (limits 2.x's moving window in memory never
        # forgets a key, so a flood of new sender ids would grow it without bound)
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._blocking = not self.storage_url.startswith("memory://")

    # ------------------------------------------------------------------------------------------------ who is it
    def client_address(self, remote_addr: str, forwarded_for: str = "") -> str:
        if self.trust_proxy and forwarded_for:
            return forwarded_for.split(",")[-1].strip()
        return remote_addr or "unknown"

    def client_key(self, address: str) -> str:
        """A keyed hash of the client address (32 hex characters): counted, never reversible to the address."""
        return hmac.new(self._hash_key, address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    # ------------------------------------------------------------------------------------------------ the checks
    @staticmethod
    def valid_sender(sender: Any) -> TypeGuard[str]:
        return isinstance(sender, str) and SENDER_ID_RE.fullmatch(sender) is not None

    def check_text(self, text: Any) -> Verdict:
        if not isinstance(text, str):
            return Verdict(False, 400, NOT_TEXT, "message must be a string")
        if len(text) > self.max_chars:
            return Verdict(False, 413, TOO_LONG.format(limit=self.max_chars), "message too long")
        return OK

    async def allow_message(self, conversation: str, client: str) -> Verdict:
        """One more message from ``client`` in ``conversation``: within both limits?"""
        if not await self._hit(self.per_client, "client", client):
            return Verdict(False, 429, SLOW_DOWN, "rate limit: client")
        if not await self._hit(self.per_conversation, "conversation", conversation):
            return Verdict(False, 429, SLOW_DOWN, "rate limit: conversation")
        return OK

    async def refusal_pause(self) -> None:
        """Before answering a refused caller: see the module's docstring."""
        if self.refusal_delay > 0:
            await asyncio.sleep(self.refusal_delay)

    async def allow_session(self, client: str) -> bool:
        return await self._hit(self.per_client_sessions, "session", client)

    async def allow_upload(self, conversation: str, client: str) -> bool:
        """One more file from ``client`` in ``conversation``: within ``RATE_LIMIT_UPLOADS`` for both?"""
        if not await self._hit(self.per_uploads, "upload-client", client):
            return False
        return await self._hit(self.per_uploads, "upload-conversation", conversation)

    async def _hit(self, item: Any, scope: str, key: str) -> bool:
        if self._blocking:  # Redis: a network round trip, off the event loop
            return await asyncio.to_thread(self._limiter.hit, item, scope, key)
        return self._limiter.hit(item, scope, key)

    @staticmethod
    def metadata(client: str) -> dict:
        """The only metadata a message carries into the tracker: what the client cannot choose."""
        return {"client": client}
