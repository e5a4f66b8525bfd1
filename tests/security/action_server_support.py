"""The real action server (``python -m actions.server``) as a subprocess on a free loopback port, against its own
migrated SQLite database with the demo data, and a client that posts what Rasa posts to ``/webhook``.

Used by ``test_action_server_*.py`` (issue 12, findings 5 and 9).  Nothing here needs Rasa.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TOKEN_HEADER = "X-Action-Token"
RASA_VERSION = "3.6.21"
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))

#: demo customers (policy_engine/store/demo.py, dated from the moment ``load-demo`` runs)
OLIVIA = {"order_number": "AK1000001", "email": "olivia.fresh@example.com"}  # cancellable within the hour


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def prepare_database(directory: Path) -> Path:
    """``python -m policy_engine migrate`` and ``load-demo`` into ``directory/support.db`` (as scripts/botstack.py)."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "support.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "MAIL_OUTBOX_DIR": str(directory / "outbox")}
    for command in (["migrate"], ["load-demo"]):
        subprocess.run(
            [sys.executable, "-m", "policy_engine", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=300,
        )
    return db


def copy_database(template: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "support.db"
    shutil.copyfile(template, db)  # the template was checkpointed (no -wal file) when its last connection closed
    return db


def row_counts(db: Path) -> dict[str, int]:
    """Rows per table, read-only: to prove that nothing was written."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def responses(self) -> list[str | None]:
        return [r.get("response") for r in self.json.get("responses", [])]


@dataclass
class ActionServer:
    """``python -m actions.server --port N`` with ``ACTION_SERVER_TOKEN`` (and ``extra_env``) on 127.0.0.1."""

    db: Path
    directory: Path
    token: str = field(default_factory=new_token)
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def log_file(self) -> Path:
        return self.directory / f"actions-{self.port}.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTION_", "DB_", "SANIC_"))}
        env.update(
            DATABASE_URL=f"sqlite:///{self.db}",
            ACTION_SERVER_TOKEN=self.token,
            SANIC_HOST="127.0.0.1",
            MAIL_OUTBOX_DIR=str(self.directory / "outbox"),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 120.0) -> ActionServer:
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "actions.server", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the action server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.get("/health").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the action server did not answer /health within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file.exists() else ""

    # ------------------------------------------------------------------------------------------------ HTTP
    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        token: str | None = "",
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> Reply:
        """``token=""`` (default) sends the server's token, ``None`` sends none, anything else is sent as given."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent[TOKEN_HEADER] = token or self.token
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            return Reply(answer.status, answer.read(), {k.lower(): v for k, v in answer.getheaders()})
        finally:
            connection.close()

    def announce_body(self, length: int, headers: dict[str, str] | None = None, timeout: float = 30.0) -> Reply:
        """Send only the head of a ``POST /webhook`` announcing ``length`` bytes and read the answer (the server must
        answer a body over its limit without receiving it)."""
        head = [
            "POST /webhook HTTP/1.1",
            "Host: 127.0.0.1",
            f"{TOKEN_HEADER}: {self.token}",
            "Content-Type: application/json",
            f"Content-Length: {length}",
            *[f"{k}: {v}" for k, v in (headers or {}).items()],
        ]
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            data = b""
            while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _content_length(data):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        status_line, _, rest = data.partition(b"\r\n")
        raw_headers, _, body = rest.partition(b"\r\n\r\n")
        headers_out = dict(line.decode("latin-1").split(": ", 1) for line in raw_headers.split(b"\r\n") if line)
        return Reply(int(status_line.split()[1]), body, {k.lower(): v for k, v in headers_out.items()})

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def webhook(self, call: dict[str, Any], **kwargs: Any) -> Reply:
        return self.request("POST", "/webhook", json.dumps(call).encode("utf-8"), **kwargs)


def _content_length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def action_call(
    name: str,
    sender_id: str,
    slots: dict[str, Any],
    *,
    new_slots: dict[str, Any] | None = None,
    intent: str = "inform",
    text: str = "",
    active_loop: str | None = None,
    extra_events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The body Rasa 3.6 posts for ``name``: the tracker (slots, latest message, the events of this turn: the user
    message and the slots set since, which a form's validation reads) and the domain."""
    new_slots = dict(new_slots or {})
    latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text}
    events = list(extra_events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in new_slots.items()]
    tracker = {
        "sender_id": sender_id,
        "slots": {**slots, **new_slots},
        "latest_message": latest,
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": "action_listen",
        "latest_event_time": time.time(),
        "latest_input_channel": "rest",
    }
    return {"next_action": name, "sender_id": sender_id, "tracker": tracker, "domain": DOMAIN, "version": RASA_VERSION}


class Conversation:
    """One conversation over HTTP: keeps the slots between calls as Rasa does (applies the SlotSet events)."""

    def __init__(self, server: ActionServer, sender_id: str | None = None) -> None:
        self.server = server
        self.sender_id = sender_id or f"security-{secrets.token_hex(6)}"
        self.slots: dict[str, Any] = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}
        self.slots["requested_slot"] = None

    def call(self, name: str, new_slots: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return action_call(name, self.sender_id, self.slots, new_slots=new_slots, **kwargs)

    def run(self, name: str, new_slots: dict[str, Any] | None = None, **kwargs: Any) -> Reply:
        reply = self.server.webhook(self.call(name, new_slots, **kwargs))
        if reply.status == 200:
            self.slots.update(new_slots or {})
            for event in reply.json.get("events", []):
                if event.get("event") == "slot":
                    self.slots[event["name"]] = event["value"]
        return reply

    def verify(self, customer: dict[str, str], form: str = "cancel_form") -> Conversation:
        reply = self.run(f"validate_{form}", dict(customer), active_loop=form)
        assert reply.status == 200, reply.body
        assert self.slots["verified"] is True, reply.responses
        return self

    def pending_cancellation(self, customer: dict[str, str] = OLIVIA) -> Conversation:
        self.verify(customer)
        reply = self.run("action_preview_cancellation")
        assert reply.status == 200 and reply.responses[-1] == "utter_confirm_cancellation", reply.body
        assert self.slots["pending_confirmation"] == "cancellation"
        return self


def faq_call(sender_id: str = "someone-else", key: str = "faq/return_window") -> dict[str, Any]:
    """A policy question (ResponseSelector answer): the FAQ action needs no database."""
    call = action_call("action_answer_faq", sender_id, {}, intent=key.split("/")[0])
    call["tracker"]["latest_message"] = {
        "intent": {"name": key.split("/")[0], "confidence": 1.0},
        "entities": [],
        "text": "how long can I return",
        "response_selector": {key.split("/")[0]: {"response": {"intent_response_key": key, "confidence": 1.0}}},
    }
    return call
