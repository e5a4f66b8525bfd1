"""The web chat's upload endpoint: ``POST /webhooks/socketio/upload`` (issue 15, item 2).

The chat page sends the file itself as the request body (``fetch`` with the ``File``: no multipart form, no file
name) and its session token as ``Authorization: Bearer <token>``:

* **who**: the session token (``session.SessionTokens``) names the conversation; no token, a forged or expired one:
  401 after the refusal pause.  The upload belongs to the token's conversation and to no other.
* **CSRF**: the credential is a header a page on another site cannot make a browser send (it is not a cookie), and a
  browser request from an ``Origin`` outside ``CHAT_ALLOWED_ORIGINS`` is refused with 403 (CORS answers the preflight
  only for the chat page's origins).
* **bounded**: ``Content-Length`` is required (411) and at most ``UPLOAD_MAX_BYTES`` (413 before any of the body is
  read); the body is streamed and reading stops at the limit (413) whatever the header said.
* **typed by its bytes**: JPEG/PNG/WebP/HEIC/PDF by magic bytes (``uploads.sniff``), else 415; the declared type and
  any file name are ignored.
* **rate-limited**: ``RATE_LIMIT_UPLOADS`` per conversation and per client address (``guard.Guard``), 429.

Answer 201 ``{"upload_id", "content_type", "size"}`` (``Cache-Control: no-store``); the page then sends
``/upload_file{"upload_id": ...}`` into the conversation, where the action registers it (the service refuses an id of
another conversation).  Nothing is served back: there is no download route.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from .guard import Guard
from .session import SessionTokens
from .uploads import UploadRefused, UploadStore, describe

logger = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The streamed body, or None once it passes ``limit`` bytes (the rest is never read into memory)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()  # type: ignore[union-attr]  # a streaming route always has a stream
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


async def receive_upload(
    request: Request,
    *,
    tokens: SessionTokens,
    guard: Guard,
    store: UploadStore,
    origin_allowed: Callable[[str | None], bool],
    client: str,
    channel: str = "socketio",
) -> HTTPResponse:
    if not origin_allowed(request.headers.get("origin")):
        return response.json({"error": "origin not allowed"}, status=403)
    session_id = tokens.session_id(_bearer(request))
    if session_id is None:
        await guard.refusal_pause()
        return response.json({"error": "a valid session token is required"}, status=401)
    if not await guard.allow_upload(session_id, client):
        await guard.refusal_pause()
        return response.json({"error": "too many files; try again later"}, status=429)
    declared = request.headers.get("content-length", "").strip()
    if not declared.isdigit():
        return response.json({"error": "Content-Length is required"}, status=411)
    if int(declared) > store.max_bytes:
        return response.json({"error": store.too_large().reply}, status=413)
    data = await _read_at_most(request, store.max_bytes)
    if data is None:
        return response.json({"error": store.too_large().reply}, status=413)
    try:
        stored = await asyncio.to_thread(store.save, session_id, data, channel=channel)
    except UploadRefused as refused:
        return response.json({"error": refused.reply}, status=refused.status)
    except OSError:
        logger.exception("upload could not be stored")
        return response.json({"error": "the file could not be stored; try again"}, status=503)
    logger.info("upload stored: %s, %d bytes", stored.content_type, stored.size)
    return response.json(describe(stored), status=201, headers=NO_STORE)
