"""The two servers as the stack starts them and asks them: Rasa's command line, and whether each server answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from botstack.paths import RASA_BIN, ROOT
from botstack.settings import Settings


def _http_get_json(url: str, timeout: float = 2.0) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read().decode("utf-8", errors="replace")
            try:
                return response.status, json.loads(body)
            except ValueError:
                return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def rasa_run_argv(settings: Settings) -> list[str]:
    """``rasa run`` as the stack starts it: the HTTP API only with the token, CORS only for the chat page's origins.
    The token goes in the ``--auth-token=`` form: a generated one may start with "-", which argparse would take for
    an option (and Rasa would not start)."""
    return [
        str(RASA_BIN),
        "run",
        "--enable-api",
        f"--auth-token={settings.secrets['RASA_API_TOKEN']}",
        *(["--cors"] + list(settings.origins)),  # never "*"
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        "--model",
        str(settings.models),
        "--endpoints",
        str(ROOT / "endpoints.yml"),
        "--credentials",
        str(ROOT / "credentials.yml"),
    ]


def action_server_ready(settings: Settings) -> bool:
    status, body = _http_get_json(f"{settings.action_url}/health")
    return status == 200 and isinstance(body, dict) and body.get("status") == "ok"


def rasa_ready(settings: Settings) -> bool:
    """The Rasa server answers and has a model loaded (``GET /status`` needs ``--enable-api`` and the API token)."""
    token = settings.secrets.get("RASA_API_TOKEN", "")
    status, body = _http_get_json(f"{settings.rasa_url}/status?token={token}")
    return status == 200 and isinstance(body, dict) and bool(body.get("model_file"))


def inbox_ready(settings: Settings) -> bool:
    """The built-in agent inbox answers its health route."""
    status, body = _http_get_json(f"{settings.inbox_url}health")
    return status == 200 and isinstance(body, dict) and body.get("status") == "ok"
