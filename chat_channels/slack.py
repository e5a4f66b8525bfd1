"""The Slack channel (issue 16): ``POST /webhooks/slack/webhook`` for the Events API and interactivity, signed.

Rasa 3.6.21's ``slack`` connector checks signatures but answers retried deliveries again (duplicate replies). This
one (``chat_channels.slack.SlackInput`` in credentials.yml):

* is on only when ``SLACK_BOT_TOKEN`` (``xoxb-...``, scopes ``chat:write``, ``im:history``, ``files:read``) and
  ``SLACK_SIGNING_SECRET`` are both set; one without the other stops Rasa at start; neither: 404;
* verifies every request before parsing it: ``X-Slack-Signature`` must be ``v0=`` + HMAC-SHA256(signing secret,
  ``v0:<X-Slack-Request-Timestamp>:<raw body>``) (``hmac.compare_digest``) and the timestamp within 5 minutes of
  now (a captured request cannot be replayed later); otherwise 401, a log line without personal data, nothing else;
* answers Slack's ``url_verification`` challenge (signed too) when the Request URL is saved;
* handles each ``event_id`` once (Slack retries with ``X-Slack-Retry-Num`` when it did not get 200 within 3 s; the
  retry carries the same event id) and each button click once; answers 200 at once, the turn runs after;
* talks in direct messages only (``message`` events with ``channel_type: im``: the app's Messages tab; in a shared
  channel several people would share one conversation): the conversation id is ``sl-<team id>-<user id>``, the
  metadata's client key a keyed hash of ``slack:<team id>:<user id>``; the bot's own and other bots' messages,
  edits and deletions are ignored;
* renders buttons as an ``actions`` block of buttons whose ``value`` is the payload; a click (``block_actions``,
  form-encoded ``payload=``) is handled as that payload; texts go in plain-text section blocks of at most 3000
  characters; a decision payload becomes one summary line with the case number. Slack has no typing indicator for
  bots in the Events API: none is sent;
* answers a shared file with ``render.ATTACHMENTS_NOT_YET`` (issue 15); nothing is downloaded.

``SLACK_API_URL`` (default https://slack.com/api) is where the Web API calls go (tests: a local stub).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import render
from .guard import Guard
from .messaging import Inbound, MessagingChannel, channel_config, channel_off, env_url
from .platform_api import Api
from .uploads import NOT_RECEIVED, UploadRefused

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api"
#: where Slack serves shared files (``url_private_download``)
SLACK_FILES_HOST = "files.slack.com"
REPLAY_WINDOW_SECONDS = 300
ID_RE = re.compile(r"[A-Z0-9]{2,24}")
#: message subtypes that are a customer writing (plain messages have none); everything else (bot_message,
#: message_changed, message_deleted, channel_join, ...) is ignored
FILE_SUBTYPES = ("file_share",)


def signature_valid(raw: bytes, timestamp: str, signature: str, secret: bytes, now: float | None = None) -> bool:
    """Slack's v0 signature over ``v0:<timestamp>:<body>``, and the timestamp within the replay window."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > REPLAY_WINDOW_SECONDS:
        return False
    expected = "v0=" + hmac.new(secret, b"v0:" + str(sent).encode() + b":" + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest((signature or "").strip().encode("ascii", "replace"), expected.encode("ascii"))


class SlackInput(MessagingChannel):
    platform = "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        cls._install_logging()
        config = channel_config("Slack", ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"))
        return cls(config, Guard() if config is not None else None)

    def __init__(self, config: dict[str, str] | None, guard: Guard | None, dedup: Any = None) -> None:
        super().__init__(config, guard, dedup)
        if config is not None:
            self.secret = config["SLACK_SIGNING_SECRET"].encode("utf-8")
            self.api = Api(
                "slack",
                env_url("SLACK_API_URL", SLACK_API_URL),
                {"Authorization": f"Bearer {config['SLACK_BOT_TOKEN']}"},
            )

    async def fetch_attachment(self, inbound: Inbound) -> bytes | None:
        """The shared file, with the bot token (scope ``files:read``), only from Slack's file host (or the configured
        API's host, e.g. a test stub): the token is sent nowhere else."""
        url = inbound.extra.get("file_url")
        if not url:
            return None
        if inbound.extra.get("file_size", 0) > self.uploads.max_bytes:
            raise self.uploads.too_large()
        parts, api = urlsplit(url), urlsplit(self.api.base_url)
        same_as_api = (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port)
        if not (same_as_api or (parts.scheme == "https" and parts.hostname == SLACK_FILES_HOST)):
            raise UploadRefused(502, NOT_RECEIVED)
        data = await self.api.download(url, self.uploads.max_bytes, what="file download")
        if data is None:
            raise UploadRefused(502, NOT_RECEIVED)
        return data

    # ---- receiving ------------------------------------------------------------------------------------------------
    @staticmethod
    def _inbound(team: Any, user: Any, channel: Any) -> Inbound | None:
        if not all(isinstance(v, str) and ID_RE.fullmatch(v) for v in (team, user, channel)):
            return None
        if not channel.startswith("D"):  # direct messages only
            logger.info("slack: event outside a direct message ignored")
            return None
        return Inbound(conversation_id=f"sl-{team}-{user}", user_key=f"slack:{team}:{user}", reply_to=channel)

    def parse_event(self, body: dict[str, Any]) -> list[tuple[str, Inbound]]:
        if body.get("type") != "event_callback":
            return []
        event, event_id = body.get("event"), body.get("event_id")
        if not isinstance(event, dict) or not isinstance(event_id, str) or event.get("type") != "message":
            return []
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("app_id"):
            return []
        subtype = event.get("subtype")
        if subtype is not None and subtype not in FILE_SUBTYPES:
            return []
        inbound = self._inbound(body.get("team_id") or event.get("team"), event.get("user"), event.get("channel"))
        if inbound is None:
            return []
        if event.get("files") or subtype in FILE_SUBTYPES:
            inbound.kind = "attachment"
            files = [f for f in event.get("files") or [] if isinstance(f, dict)]
            if files:  # the first file of the message (a receipt or a photo)
                url = files[0].get("url_private_download") or files[0].get("url_private")
                if isinstance(url, str):
                    inbound.extra["file_url"] = url
                    inbound.extra["file_size"] = files[0].get("size") if isinstance(files[0].get("size"), int) else 0
        elif isinstance(event.get("text"), str):
            inbound.text = event["text"]
        else:
            inbound.kind = "unsupported"
        return [(f"sl:{event_id}", inbound)]

    def parse_interaction(self, payload: dict[str, Any]) -> list[tuple[str, Inbound]]:
        if payload.get("type") != "block_actions":
            return []
        user, team = payload.get("user") or {}, payload.get("team") or {}
        channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
        inbound = self._inbound(team.get("id") or user.get("team_id"), user.get("id"), channel)
        if inbound is None:
            return []
        events = []
        for action in payload.get("actions") or []:
            if (
                not isinstance(action, dict)
                or action.get("type") != "button"
                or not isinstance(action.get("value"), str)
            ):
                continue  # a link button (no value) opens its URL in the browser
            click = Inbound(inbound.conversation_id, inbound.user_key, inbound.reply_to, text=action["value"])
            events.append(
                (f"sl:action:{inbound.conversation_id}:{action.get('action_ts')}:{action.get('action_id')}", click)
            )
        return events

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self.webhook_blueprint(on_new_message)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return channel_off()
            raw = request.body or b""
            if not signature_valid(
                raw,
                request.headers.get("x-slack-request-timestamp", ""),
                request.headers.get("x-slack-signature", ""),
                self.secret,
            ):
                logger.warning("slack webhook refused: missing, wrong or expired signature")
                await self.refused()
                return response.json({"error": "unauthorized"}, status=401)
            try:
                if (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded"):
                    form = parse_qs(raw.decode("utf-8"))
                    body = json.loads((form.get("payload") or [""])[0])
                    interaction = True
                else:
                    body = json.loads(raw)
                    interaction = False
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "the body must be JSON or payload=<JSON>"}, status=400)
            if not isinstance(body, dict):
                return response.json({"error": "the body must be a JSON object"}, status=400)
            if not interaction and body.get("type") == "url_verification":
                challenge = body.get("challenge")
                if not isinstance(challenge, str) or len(challenge) > 200:
                    return response.json({"error": "bad challenge"}, status=400)
                return response.json({"challenge": challenge})
            retry = request.headers.get("x-slack-retry-num")
            if retry:
                logger.info("slack: delivery retry %s", retry[:3])
            events = self.parse_interaction(body) if interaction else self.parse_event(body)
            await self.accept(on_new_message, events)
            return response.text("")

        return webhook

    # ---- sending --------------------------------------------------------------------------------------------------
    async def deliver(self, inbound: Inbound, messages: list[dict[str, Any]]) -> None:
        for method, body in render.slack(inbound.reply_to, messages):
            answer = await self.api.post(method, json=body)
            if isinstance(answer, dict) and answer.get("ok") is False:  # Slack answers 200 with ok: false
                logger.warning("slack API %s answered %s", method, str(answer.get("error"))[:60])
