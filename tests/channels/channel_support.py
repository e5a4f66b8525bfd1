"""The platforms' side of the channel tests: a stub of their APIs that records every call, and a bare Rasa.

``ApiStub`` listens on loopback and answers as Telegram's Bot API, Meta's Graph API (WhatsApp Cloud API, Messenger
Send API) and Slack's Web API answer (under ``/telegram``, ``/graph``, ``/slack``); the channels' ``*_API_URL``
variables point there, so every outgoing call is recorded and tests assert exactly what the platform received.
``BareRasa`` starts ``rasa run`` with the project's credentials.yml and no model (seconds, not minutes): enough to
see which channels are on, off (404) or refused at start.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import requests


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.raw or b"null")
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.raw.decode("utf-8", "replace")).items()}

    @property
    def method(self) -> str:
        """The API method: ``sendMessage``, ``messages``, ``me/messages``, ``chat.postMessage``."""
        if self.path.startswith("/telegram/"):
            return self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/graph/"):
            return "me/messages" if self.path.endswith("/me/messages") else self.path.rsplit("/", 1)[-1]
        return self.path.rsplit("/", 1)[-1]


class _Handler(http.server.BaseHTTPRequestHandler):
    stub: ApiStub

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        call = Call(self.path.split("?", 1)[0], {k.lower(): v for k, v in self.headers.items()}, raw)
        body = json.dumps(self.stub.answer(call)).encode()
        self.stub.record(call)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - file downloads (Telegram: /file/bot<token>/<path>; Meta: /<media id>)
        path = self.path.split("?", 1)[0]
        self.stub.record(Call(path, {k.lower(): v for k, v in self.headers.items()}, b""))
        name = path.rsplit("/", 1)[-1]
        downloads = ("/file/bot", "/graph/media/", "/slack/files-pri/", "/Media/")
        body = self.stub.files.get(name) if any(d in path for d in downloads) else None
        if path.startswith("/graph/") and not path.startswith("/graph/media/") and name in self.stub.files:
            # WhatsApp Cloud API, GET /<media id>: where to download it (on the stub itself)
            media = self.stub.files[name]
            base = f"http://{self.headers.get('Host')}"
            body = json.dumps(
                {
                    "url": f"{base}/graph/media/{name}",
                    "mime_type": "image/jpeg",
                    "file_size": len(media),
                    "id": name,
                    "messaging_product": "whatsapp",
                }
            ).encode()
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ApiStub:
    """The platforms' APIs on 127.0.0.1:<port>; ``calls()`` are what they received, in order."""

    def __init__(self) -> None:
        handler = type("StubHandler", (_Handler,), {"stub": self})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._calls: list[Call] = []
        #: files the platforms serve for download, by file id (Telegram's getFile answers ``files/<file_id>``)
        self.files: dict[str, bytes] = {}
        self._changed = threading.Condition()
        self._counter = 0
        self.thread = threading.Thread(target=self.server.serve_forever, name="api-stub", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, call: Call) -> Any:
        with self._changed:
            self._counter += 1
            n = self._counter
        if call.path.startswith("/telegram/"):
            if call.method in ("sendMessage", "sendPhoto"):
                return {
                    "ok": True,
                    "result": {
                        "message_id": n,
                        "date": int(time.time()),
                        "chat": {"id": (call.json or {}).get("chat_id"), "type": "private"},
                    },
                }
            if call.method == "getFile":
                file_id = str((call.json or {}).get("file_id"))
                return {"ok": True, "result": {"file_id": file_id, "file_path": f"files/{file_id}"}}
            if call.method in ("setWebhook", "deleteWebhook"):
                return {"ok": True, "result": True, "description": "Webhook was set"}
            return {"ok": True, "result": True}
        if call.path.startswith("/graph/"):
            body = call.json or {}
            if call.method == "me/messages":
                return {"recipient_id": (body.get("recipient") or {}).get("id"), "message_id": f"m_stub{n}"}
            if body.get("status") == "read":
                return {"success": True}
            return {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": f"wamid.stub{n}"}],
            }
        if call.path.startswith("/twilio/"):
            return {"sid": f"SM{n:032d}", "status": "queued", "to": call.form.get("To"), "body": call.form.get("Body")}
        return {"ok": True, "ts": f"{time.time():.6f}"}

    def record(self, call: Call) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def mark(self) -> int:
        with self._changed:
            return len(self._calls)

    def calls(self, since: int = 0, where: Callable[[Call], bool] | None = None) -> list[Call]:
        with self._changed:
            found = self._calls[since:]
        return [c for c in found if where is None or where(c)]

    def wait(
        self, since: int, where: Callable[[Call], bool], *, count: int = 1, timeout: float = 90.0, quiet: float = 0.8
    ) -> list[Call]:
        """The matching calls after ``since`` once at least ``count`` arrived and none more came for ``quiet`` s
        (a turn's replies are sent together, after the turn)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(since, where)
            if len(found) >= count and time.monotonic() - found[-1].at >= quiet:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} call(s) to the platform within {timeout:.0f} s, got "
                    f"{len(found)}: {[(c.method, c.json) for c in found]}"
                )
            time.sleep(0.05)

    def nothing_sent(self, since: int, where: Callable[[Call], bool], wait: float = 2.0) -> None:
        time.sleep(wait)
        found = self.calls(since, where)
        assert not found, f"nothing should have been sent, got {[(c.method, c.json) for c in found]}"


class BareRasa:
    """``rasa run`` with credentials.yml, no model, ``env`` on top of a test stack's environment."""

    def __init__(self, root: Path, env: Mapping[str, str], port: int, log_path: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        empty = log_path.parent / "no-model"
        empty.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - the server's log while it runs; stop() closes it
        self.process = subprocess.Popen(
            # --enable-api: without it and without a model, `rasa run` gives up at once
            [
                str(root / ".venv-rasa" / "bin" / "rasa"),
                "run",
                "--enable-api",
                f"--auth-token={env['RASA_API_TOKEN']}",
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
                "--model",
                str(empty),
                "--credentials",
                str(root / "credentials.yml"),
                "--endpoints",
                str(root / "endpoints.yml"),
            ],
            cwd=root,
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_up(self, timeout: float = 120.0) -> bool:
        """True once it answers HTTP; False if it exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                requests.get(f"{self.url}/", timeout=1)
                return True
            except requests.RequestException:
                time.sleep(0.3)
        raise AssertionError(f"bare Rasa neither came up nor exited within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def wait_exit(self, timeout: float = 120.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise AssertionError(f"Rasa was expected to refuse to start:\n{self.log()[-3000:]}") from error

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=5)
        self._log.close()
