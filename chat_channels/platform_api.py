"""A platform's HTTP API as the messaging channels call it (send a message, show typing, acknowledge a button)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
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
