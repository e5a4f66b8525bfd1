"""Register the Telegram bot's webhook with its secret token (issue 16): ``setWebhook`` with ``secret_token``.

Telegram then sends ``X-Telegram-Bot-Api-Secret-Token: <TELEGRAM_WEBHOOK_SECRET>`` with every update, and
``chat_channels.telegram.TelegramInput`` refuses every request without it. Run once per deployment (and after
rotating the secret)::

    TELEGRAM_BOT_TOKEN=... TELEGRAM_WEBHOOK_SECRET=... \\
        python -m chat_channels.telegram_webhook https://bot.example.com/webhooks/telegram/webhook

``--drop-pending-updates`` discards what Telegram queued while no webhook was set; ``--delete`` removes the webhook.
Standard library only (runs in either virtual environment, or any Python 3.8+). ``TELEGRAM_API_URL`` (default
https://api.telegram.org) points it elsewhere (the tests' stub). Prints Telegram's answer; never prints the token.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

DEFAULT_API_URL = "https://api.telegram.org"
#: Telegram's rule for secret_token: 1-256 characters, A-Z, a-z, 0-9, _ and -  (we ask for at least 32)
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{32,256}")
#: the updates the channel handles; everything else is not even sent
ALLOWED_UPDATES = ["message", "callback_query"]


def _settings(environ: Mapping[str, str]) -> tuple[str, str, str]:
    token = (environ.get("TELEGRAM_BOT_TOKEN") or "").strip()
    secret = (environ.get("TELEGRAM_WEBHOOK_SECRET") or "").strip()
    if not token or not secret:
        raise SystemExit("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET (docs/channels.md)")
    if not SECRET_RE.fullmatch(secret):
        raise SystemExit("TELEGRAM_WEBHOOK_SECRET must be 32-256 characters of A-Z, a-z, 0-9, '_' and '-'")
    api = ((environ.get("TELEGRAM_API_URL") or "").strip() or DEFAULT_API_URL).rstrip("/")
    return token, secret, api


def call(method: str, payload: dict, environ: Mapping[str, str] | None = None, timeout: float = 20.0) -> Any:
    token, _, api = _settings(os.environ if environ is None else environ)
    request = urllib.request.Request(
        f"{api}/bot{token}/{method}",
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:  # Telegram explains itself in the body ({"ok": false, "description"})
        try:
            return json.loads(error.read().decode("utf-8"))
        except ValueError:
            return {"ok": False, "error_code": error.code}


def set_webhook(
    url: str, *, drop_pending_updates: bool = False, environ: Mapping[str, str] | None = None, max_connections: int = 40
) -> Any:
    """``setWebhook`` with the secret token and only the update types the channel handles."""
    if not url.startswith("https://"):
        raise SystemExit("Telegram only delivers to https:// webhook URLs")
    _, secret, _ = _settings(os.environ if environ is None else environ)
    return call(
        "setWebhook",
        {
            "url": url,
            "secret_token": secret,
            "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": drop_pending_updates,
            "max_connections": max_connections,
        },
        environ,
    )


def delete_webhook(*, drop_pending_updates: bool = False, environ: Mapping[str, str] | None = None) -> Any:
    return call("deleteWebhook", {"drop_pending_updates": drop_pending_updates}, environ)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="public https URL of /webhooks/telegram/webhook")
    parser.add_argument("--drop-pending-updates", action="store_true")
    parser.add_argument("--delete", action="store_true", help="remove the webhook instead")
    args = parser.parse_args(argv)
    if args.delete:
        answer = delete_webhook(drop_pending_updates=args.drop_pending_updates)
    elif args.url:
        answer = set_webhook(args.url, drop_pending_updates=args.drop_pending_updates)
    else:
        parser.error("give the webhook URL, or --delete")
    print(json.dumps(answer))
    return 0 if isinstance(answer, dict) and answer.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
