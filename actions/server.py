"""The action server: rasa-sdk 3.6.2's own Sanic app for the ``actions`` package, guarded (issue 12, findings 5, 9).

Start it with ``.venv-engine/bin/python -m actions.server --port 5055`` (host from ``SANIC_HOST``, default
127.0.0.1; the other rasa-sdk options such as ``--actions``, ``--cors`` and ``--logging-config-file`` work too).

* **Only Rasa may call it.** Every request except ``GET /health`` must carry the header ``X-Action-Token`` equal to
  the environment variable ``ACTION_SERVER_TOKEN`` (compared with ``hmac.compare_digest``); Rasa sends it from
  ``endpoints.yml`` (``action_endpoint.headers``).  Without it: ``401 {"error": "unauthorized"}`` and nothing runs.
  The server refuses to start (exit status 2) when the variable is unset or shorter than 32 characters.
* **Bounded, well-formed input.** A body over ``ACTION_MAX_BODY_BYTES`` (default 4 MiB; Rasa sends the whole
  conversation since the session started plus the domain, about 50 KB + 6-9 KB per turn) is answered 413 by Sanic
  before anything is parsed; a body that is not a JSON object with ``next_action`` and ``tracker`` gets 400 with a
  JSON error; no response ever carries a traceback or echoes the request.  ``/health`` says only ``{"status":"ok"}``.
* **Actions run off the event loop, with a time limit.** ``actions/executor.py``'s ``GuardedExecutor`` runs each
  action call in a worker thread and waits at most ``ACTION_TIMEOUT_SECONDS``; past it the customer gets
  ``utter_backend_error`` and the conversation state stays consistent.

Nothing here does I/O at import time (``actions`` imports this module when rasa-sdk registers the package).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa_sdk import endpoint as sdk_endpoint
from rasa_sdk import utils as sdk_utils
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from actions.executor import DEFAULT_THREADS, DEFAULT_TIMEOUT_S, GuardedExecutor

logger = logging.getLogger(__name__)

TOKEN_ENV = "ACTION_SERVER_TOKEN"
TOKEN_HEADER = "X-Action-Token"
MIN_TOKEN_LENGTH = 32
TIMEOUT_ENV = "ACTION_TIMEOUT_SECONDS"
THREADS_ENV = "ACTION_THREADS"
MAX_BODY_ENV, DEFAULT_MAX_BODY = "ACTION_MAX_BODY_BYTES", 4 * 1024 * 1024
DEFAULT_HOST = "127.0.0.1"
#: how long a client may take to send its request (Sanic's default is 60 s)
REQUEST_TIMEOUT_S = 15

_STATUS_ERRORS = {
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    405: "method not allowed",
    408: "request timeout",
    413: "request body too large",
    415: "unsupported content encoding",
}


class ConfigError(ValueError):
    """A setting the server cannot start with (message names the variable)."""


@dataclass(frozen=True)
class ServerConfig:
    token: str
    timeout: float = DEFAULT_TIMEOUT_S
    threads: int = DEFAULT_THREADS
    max_body: int = DEFAULT_MAX_BODY

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerConfig:
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_ENV) or ""
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"{TOKEN_ENV} must be set to a secret of at least {MIN_TOKEN_LENGTH} characters "
                f"({'unset' if not token else f'{len(token)} given'}); Rasa sends it as {TOKEN_HEADER} "
                f"(endpoints.yml). Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return cls(
            token=token,
            timeout=_number(env, TIMEOUT_ENV, DEFAULT_TIMEOUT_S, float, minimum=0.1),
            threads=_number(env, THREADS_ENV, DEFAULT_THREADS, int, minimum=1),
            max_body=_number(env, MAX_BODY_ENV, DEFAULT_MAX_BODY, int, minimum=1024),
        )


def _number(env, name: str, default, kind, *, minimum):
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


# ---------------------------------------------------------------------------------------------------- the app


def _error(status: int, message: str | None = None) -> response.HTTPResponse:
    return response.json({"error": message or _STATUS_ERRORS.get(status, "error")}, status=status)


def _authorised(request: Request, token: bytes) -> bool:
    given = request.headers.get(TOKEN_HEADER)
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token)


def _checked_body(request: Request, max_body: int) -> response.HTTPResponse | None:
    """Decode and check a webhook body; None when it is fine (the parsed JSON is left on the request)."""
    body = request.body or b""
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "deflate":  # Rasa with COMPRESS_ACTION_SERVER_REQUEST=true; inflated with the same bound
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(body, max_body + 1)
        except zlib.error:
            return _error(400, "the body is not valid deflate data")
        if len(body) > max_body or inflater.unconsumed_tail:
            return _error(413)
        request.body = body
        request.headers.popall("Content-Encoding", None)  # rasa-sdk's handler would inflate it again
    elif encoding != "identity":
        return _error(415)
    try:
        call = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "the body is not valid JSON")
    if not isinstance(call, dict):
        return _error(400, "the body must be a JSON object")
    tracker = call.get("tracker")
    if (
        not isinstance(call.get("next_action"), str)
        or not isinstance(tracker, dict)
        or not isinstance(tracker.get("sender_id"), str)
    ):
        return _error(400, "an action call needs next_action and a tracker with a sender_id")
    if not isinstance(call.get("domain", {}), dict):
        return _error(400, "domain must be a JSON object")
    # rasa-sdk's handler reads request.json: parsed once, here (Sanic declares the attribute None until it parses)
    request.parsed_json = call  # type: ignore[assignment]
    return None


def create_app(
    config: ServerConfig, action_package: Any = "actions", cors_origins: Any = None, auto_reload: bool = False
) -> Sanic:
    """rasa-sdk's ``create_app`` with ``GuardedExecutor``, the token check, the body checks and JSON errors."""
    executor = GuardedExecutor(config.timeout, config.threads)
    original = sdk_endpoint.ActionExecutor
    # rasa-sdk 3.6.2's create_app builds its executor itself (``ActionExecutor()``) and takes no parameter for it
    sdk_endpoint.ActionExecutor = lambda: executor
    try:
        app = sdk_endpoint.create_app(action_package, cors_origins=cors_origins or "", auto_reload=auto_reload)
    finally:
        sdk_endpoint.ActionExecutor = original
    app.ctx.executor = executor
    app.config.REQUEST_MAX_SIZE = config.max_body
    app.config.REQUEST_TIMEOUT = REQUEST_TIMEOUT_S
    token = config.token.encode("utf-8", "surrogateescape")

    async def guard(request: Request) -> response.HTTPResponse | None:
        if request.path == "/health" and request.method in ("GET", "HEAD"):
            return None
        if not _authorised(request, token):
            logger.warning("refused %s %s: missing or wrong %s", request.method, request.path, TOKEN_HEADER)
            return _error(401)
        if request.path == "/webhook" and request.method == "POST":
            # Sanic runs request middleware again when it handles an error (e.g. the 413 of a body over the limit,
            # raised before any middleware ran): leave such a request, and one checked already, to the error handler
            unread = request.stream is not None and bool(request.stream.request_body)
            if unread or getattr(request.ctx, "body_checked", False):
                return None
            request.ctx.body_checked = True
            return _checked_body(request, config.max_body)
        return None

    app.register_middleware(guard, "request")

    async def on_error(request: Request, exception: Exception) -> response.HTTPResponse:
        # replaces rasa-sdk's handler, which answered str(exception) and echoed the request body
        if isinstance(exception, SanicException) and getattr(exception, "status_code", 500) < 500:
            return _error(exception.status_code)
        call = getattr(request, "parsed_json", None)
        name = call.get("next_action") if isinstance(call, dict) else None
        logger.error("error while serving %s %s (action %s)", request.method, request.path, name, exc_info=exception)
        return _error(500, "internal error")

    app.error_handler.add(Exception, on_error)

    @app.listener("after_server_stop")
    async def _stop_threads(app_: Sanic, _loop) -> None:
        app_.ctx.executor.shutdown()

    return app


def create_argument_parser():
    parser = sdk_endpoint.create_argument_parser()
    parser.description = "the guarded action server (issue 12): rasa-sdk's app behind X-Action-Token"
    parser.set_defaults(actions="actions")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = create_argument_parser().parse_args(argv)
    try:
        config = ServerConfig.from_env()
    except ConfigError as error:
        print(f"actions.server: refusing to start: {error}", file=sys.stderr)
        return 2
    sdk_utils.configure_colored_logging(args.loglevel)
    sdk_utils.update_sanic_log_level()
    try:  # personal data masked in every log line (issue 12, finding 12), when the channels' module is there
        from chat_channels import privacy
    except ImportError:  # pragma: no cover
        logger.warning("chat_channels.privacy not found: log lines are not masked")
    else:
        privacy.install()
    app = create_app(config, args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    ssl_context = sdk_endpoint.create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = os.environ.get("SANIC_HOST") or DEFAULT_HOST
    logger.info(
        "action server on %s://%s:%d (token required, timeout %.1f s, %d threads, body limit %d bytes)",
        "https" if ssl_context else "http",
        host,
        args.port,
        config.timeout,
        config.threads,
        config.max_body,
    )
    app.run(host, args.port, ssl=ssl_context, workers=sdk_utils.number_of_sanic_workers(), access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
