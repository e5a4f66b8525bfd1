"""A platform's HTTP API as the messaging channels call it (send a message, show typing, acknowledge a button)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

API_TIMEOUT_SECONDS = 10.0


class Api:
    """The platform's HTTP API (JSON or form posts) over one aiohttp session; never raises, logs without content."""

    def __init__(self, platform: str, base_url: str, headers: Mapping[str, str] | None = None) -> None:
        self.platform = platform
        self.base_url = base_url
        self.headers = dict(headers or {})
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS), headers=self.headers
            )
        return self._session

    async def post(
        self, path: str, json: Any = None, data: Any = None, what: str = "", auth: aiohttp.BasicAuth | None = None
    ) -> Any | None:
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            async with self._client().post(url, json=json, data=data, auth=auth) as reply:
                body = await reply.text()
                if reply.status >= 300:
                    # the status and the method only: the URL may hold a token, the body the customer's words
                    logger.warning(
                        "%s API %s answered %s", self.platform, what or path.rsplit("/", 1)[-1], reply.status
                    )
                    return None
                try:
                    return await reply.json(content_type=None) if body else {}
                except ValueError:
                    return {}
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("%s API %s failed: %s", self.platform, what or path.rsplit("/", 1)[-1], type(error).__name__)
            return None

    async def get_json(self, path: str, what: str = "") -> Any | None:
        """GET ``<base_url>/<path>`` as JSON (Meta's media lookup), or None; logged like ``post``."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            async with self._client().get(url) as reply:
                if reply.status >= 300:
                    logger.warning("%s API %s answered %s", self.platform, what or "get", reply.status)
                    return None
                try:
                    return await reply.json(content_type=None)
                except ValueError:
                    return None
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("%s API %s failed: %s", self.platform, what or "get", type(error).__name__)
            return None

    async def download(
        self,
        url: str,
        max_bytes: int,
        what: str = "download",
        anonymous: bool = False,
        auth: aiohttp.BasicAuth | None = None,
    ) -> bytes | None:
        """GET ``url`` (a file on the platform, with the bot's credentials in the URL or the session's headers),
        reading at most ``max_bytes``: ``UploadRefused`` (413) past them, whatever Content-Length said; None when the
        platform did not answer with the file (logged without the URL: it may hold the bot's token).
        ``anonymous``: without the session's headers (a signed CDN URL needs no credential, so none is sent);
        ``auth``: Basic auth (Twilio), which aiohttp drops when a redirect leaves the URL's origin."""
        timeout = aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS)
        own = aiohttp.ClientSession(timeout=timeout) if anonymous else None
        try:
            return await self._read(own or self._client(), url, max_bytes, what, auth)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("%s API %s failed: %s", self.platform, what, type(error).__name__)
            return None
        finally:
            if own is not None:
                await own.close()

    async def _read(
        self, session: aiohttp.ClientSession, url: str, max_bytes: int, what: str, auth: aiohttp.BasicAuth | None
    ) -> bytes | None:
        from .uploads import UploadStore

        too_large = UploadStore(Path("."), max_bytes).too_large
        async with session.get(url, auth=auth) as reply:
            if reply.status >= 300:
                logger.warning("%s API %s answered %s", self.platform, what, reply.status)
                return None
            if reply.content_length is not None and reply.content_length > max_bytes:
                raise too_large()
            chunks: list[bytes] = []
            size = 0
            async for chunk in reply.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise too_large()
                chunks.append(chunk)
            return b"".join(chunks)
