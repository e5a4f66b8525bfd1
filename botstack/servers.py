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


def rasa_run_argv(settings: Settings, port: int | None = None) -> list[str]:
    """``rasa run`` as the stack starts it: the HTTP API only with the token, CORS only for the chat page's origins.
    The token goes in the ``--auth-token=`` form: a generated one may start with "-", which argparse would take for
    an option (and Rasa would not start). With ``port``: one of several processes behind nginx, on loopback."""
    return [
        str(RASA_BIN),
        "run",
        "--enable-api",
        f"--auth-token={settings.secrets['RASA_API_TOKEN']}",
        *(["--cors"] + list(settings.origins)),  # never "*"
        "--interface",
        settings.host if port is None else "127.0.0.1",
        "--port",
        str(settings.rasa_port if port is None else port),
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


def rasa_ready(settings: Settings, port: int | None = None) -> bool:
    """The Rasa server answers and has a model loaded (``GET /status`` needs ``--enable-api`` and the API token);
    with ``port``, the process on that loopback port."""
    token = settings.secrets.get("RASA_API_TOKEN", "")
    base = settings.rasa_url if port is None else f"http://127.0.0.1:{port}"
    status, body = _http_get_json(f"{base}/status?token={token}")
    return status == 200 and isinstance(body, dict) and bool(body.get("model_file"))


def inbox_ready(settings: Settings) -> bool:
    """The built-in agent inbox answers its health route."""
    status, body = _http_get_json(f"{settings.inbox_url}health")
    return status == 200 and isinstance(body, dict) and body.get("status") == "ok"
