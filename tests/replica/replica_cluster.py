"""The assistant past one machine, on loopback: two Rasa servers and two action servers behind real nginx, with one
PostgreSQL (tracker store + support database) and one Redis (lock store + shared rate limits), as deploy/ runs it.

    customer --REST/socket.io--> nginx :public (deploy/nginx/support.conf) --+--> rasa-1 --gate-1--+
                                                                             +--> rasa-2 --gate-2--+
        nginx :actions (deploy/nginx/actions.conf) <-------------------------------------------------+
          +--> actions-1, actions-2 --> PostgreSQL (support database)
    rasa-1, rasa-2 --> PostgreSQL (tracker store), Redis (lock store, rate limits)

nginx runs the repository's own configuration: ``deploy/nginx/support.conf`` and ``deploy/nginx/actions.conf`` are
copied unchanged except for their ``listen`` line (a free loopback port instead of 8080/5055); only the upstreams
(loopback addresses instead of container names) and the process settings (prefix, pid, logs, foreground) are this
file's. The servers are started the way ``make run`` starts them (botstack: ``rasa_run_argv``,
``Settings.child_env``, ``prepare_database``, the secrets), with the Redis lock store and PostgreSQL.

The one addition is a *gate* per Rasa server (``ActionGate``): a pass-through HTTP proxy between that Rasa server and
the action servers' nginx port, so that a test can cut a Rasa server off deterministically in the middle of a turn:
after the action it called has done its work, before the server gets the result.

Every process runs in its own process group and is stopped (its group killed) on exit. Nothing here imports the
policy engine: the support database is read with SQLAlchemy, the servers are reached over HTTP.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import botstack
from tests.support.redis import redis_server

ROOT = botstack.ROOT

DEPLOY_NGINX = ROOT / "deploy" / "nginx"
#: Rasa's conversation lock (Redis) outlives a server killed mid-turn by this long (Rasa's default is 60 s; deploy/
#: uses 30 s). A turn replayed on another server waits for it, so the test keeps it short; its turns take < 2 s.
TEST_LOCK_LIFETIME = 8
REPLICAS = 2


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise botstack.StackError("nginx is missing: run `make system-deps` (scripts/install-system-deps.sh)")
    return found


def listen_on(conf: str, default_port: int, port: int) -> str:
    """``conf`` with its one ``listen <default_port>;`` line moved to ``127.0.0.1:<port>``."""
    pattern = re.compile(rf"^(\s*)listen {default_port};$", re.MULTILINE)
    found = pattern.findall(conf)
    if len(found) != 1:
        raise botstack.StackError(
            f"expected one `listen {default_port};` line in the nginx configuration, found {len(found)}"
        )
    return pattern.sub(rf"\g<1>listen 127.0.0.1:{port};", conf)


def upstreams_conf(rasa_ports: list[int], action_ports: list[int], chat_page_port: int) -> str:
    """The upstreams of deploy/nginx/upstreams.compose.conf, with loopback addresses (no ``resolve``: Debian 12's
    nginx 1.22 predates it, and loopback addresses never change)."""
    rasa = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in rasa_ports)
    actions = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in action_ports)
    return (
        "upstream rasa_sticky {\n    hash $arg_token consistent;\n" + rasa + "}\n"
        "upstream rasa_rest {\n" + rasa + "    keepalive 16;\n}\n"
        "upstream action_servers {\n" + actions + "    keepalive 16;\n}\n"
        f"upstream chat_page {{\n    server 127.0.0.1:{chat_page_port};\n}}\n"
    )


def nginx_main_conf(prefix: Path) -> str:
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""  # nginx started by root drops its workers' rights
    temp = "".join(
        f"    {name}_temp_path {prefix / 'temp' / name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log stderr notice;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"{temp}"
        f"    include {prefix / 'upstreams.conf'};\n"
        f"    include {prefix / 'support.conf'};\n"
        f"    include {prefix / 'actions.conf'};\n"
        "}\n"
    )


# ---- the gate between a Rasa server and the action servers ------------------------------------------------------


@dataclass
class Trap:
    """Fires once, for the first action call ``action`` of conversation ``sender`` through any gate: ``on_hit(gate)``
    runs after the action server answered and before that answer is passed back to the Rasa server."""

    sender: str
    action: str
    on_hit: Callable[[ActionGate], None]
    fired_at: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)  # set once on_hit has returned

    def matches(self, body: bytes) -> bool:
        try:
            call = json.loads(body)
        except ValueError:
            return False
        return (
            isinstance(call, dict)
            and call.get("next_action") == self.action
            and (call.get("tracker") or {}).get("sender_id") == self.sender
        )


class _GateHandler(http.server.BaseHTTPRequestHandler):
    gate: ActionGate
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        target = urllib.parse.urlsplit(self.gate.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            status, reason, answer_headers = answer.status, answer.reason, answer.getheaders()
        finally:
            connection.close()
        trap = self.gate.trap
        if trap is not None and trap.matches(body):
            with trap.lock:
                fire = not trap.fired_at
                if fire:
                    trap.fired_at.append(self.gate.name)
            if fire:
                try:
                    trap.on_hit(self.gate)  # kills the Rasa server waiting for this answer
                finally:
                    trap.done.set()
        with contextlib.suppress(OSError):  # the Rasa server may be dead by now
            self.send_response(status, reason)
            for name, value in answer_headers:
                if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    do_GET = do_POST = _forward


class ActionGate:
    """A pass-through from one Rasa server to the action servers (the replica's ACTION_ENDPOINT_URL points here)."""

    def __init__(self, name: str, upstream: str) -> None:
        self.name = name
        self.upstream = upstream
        self.trap: Trap | None = None
        handler = type("GateHandler", (_GateHandler,), {"gate": self})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"gate-{name}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# ---- the cluster -------------------------------------------------------------------------------------------------


def postgres_server_url() -> str:
    """The PostgreSQL server of the tests: ``TEST_POSTGRES_URL`` (make test exports it), else scripts/postgres.sh's."""
    url = os.environ.get("TEST_POSTGRES_URL", "").strip()
    if url:
        return url
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh")], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise botstack.StackError(f"scripts/postgres.sh failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def _url(server_url: str, driver: str, database: str) -> str:
    return make_url(server_url).set(drivername=driver, database=database).render_as_string(hide_password=False)


@dataclass
class Server:
    """One replica: its settings (ports), its process, its log."""

    name: str
    settings: botstack.Settings
    argv: list[str]
    log_path: Path
    child: botstack.Child | None = None

    @property
    def port(self) -> int:
        return self.settings.rasa_port if self.name.startswith("rasa") else self.settings.action_port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.child = botstack.Child(self.name, self.argv, self.settings.child_env(), self.log_path, echo=False)

    def alive(self) -> bool:
        return self.child is not None and self.child.alive()

    def ready(self) -> bool:
        if not self.alive():
            return False
        if self.name.startswith("rasa"):
            return botstack.rasa_ready(self.settings)
        return botstack.action_server_ready(self.settings)

    def kill(self) -> None:
        """SIGKILL to the whole process group: no clean-up, no goodbye, as when a machine or a container dies."""
        assert self.child is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.child.pid, signal.SIGKILL)
        self.child.process.wait(timeout=10)

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()


class Cluster:
    """Start with ``with Cluster(tmp_dir) as cluster:``; everything is stopped and the databases dropped on exit."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = Path(tmp_dir)
        self.log_dir = self.tmp_dir / "log"
        self.stack = contextlib.ExitStack()
        self.rasa: list[Server] = []
        self.actions: list[Server] = []
        self.gates: list[ActionGate] = []
        self.nginx: botstack.Child | None = None
        self.started_at = time.monotonic()
        self.timings: dict[str, float] = {}

    # -- start / stop ----------------------------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stack.close()

    def _start(self, timeout: float = 600.0) -> None:
        if not botstack.RASA_BIN.exists():
            raise botstack.StackError(".venv-rasa is missing: run `make venvs`")
        if not botstack.model_exists(ROOT / "models"):
            raise botstack.StackError("no trained model in models/: run `make train`")
        nginx = nginx_binary()
        self.log_dir.mkdir(parents=True, exist_ok=True)

        redis_port = self.stack.enter_context(redis_server(self.tmp_dir))
        if redis_port is None:
            raise botstack.StackError("redis-server is missing: run `make system-deps`")
        self.support_url, self.tracker_url = self._databases()

        public_port, actions_port, chat_page_port = (botstack.free_port() for _ in range(3))
        self.public_url = f"http://127.0.0.1:{public_port}"
        base = botstack.Settings.for_tests(
            self.tmp_dir,
            database_url=self.support_url,
            tracker_store_url=self.tracker_url,
            lock_store_type="redis",
            lock_store_host="127.0.0.1",
            lock_store_port=str(redis_port),
            lock_store_db="1",
            extra_env={
                **botstack.TEST_RATE_LIMITS,
                "RATE_LIMIT_STORAGE": f"redis://127.0.0.1:{redis_port}/2",
                # as deploy/: an agent's reply reaches the web chat socket whichever Rasa server relays it
                "SOCKETIO_MESSAGE_QUEUE": f"redis://127.0.0.1:{redis_port}/3",
                "TICKET_LOCK_LIFETIME": str(TEST_LOCK_LIFETIME),
                "SANIC_WORKERS": "1",
            },
            allowed_origins=(self.public_url,),
        ).with_secrets()
        self.settings = base

        # the gates first: the Rasa servers' ACTION_ENDPOINT_URL names them
        for i in range(1, REPLICAS + 1):
            gate = ActionGate(f"rasa-{i}", f"http://127.0.0.1:{actions_port}")
            self.stack.callback(gate.stop)
            self.gates.append(gate)
            settings = replace(
                base, rasa_port=botstack.free_port(), action_endpoint_url=f"http://127.0.0.1:{gate.port}/webhook"
            )
            self.rasa.append(
                Server(f"rasa-{i}", settings, botstack.rasa_run_argv(settings), self.log_dir / f"rasa-{i}.log")
            )
            settings = replace(base, action_port=botstack.free_port())
            argv = [str(botstack.ENGINE_PYTHON), "-m", "actions.server", "--port", str(settings.action_port)]
            self.actions.append(Server(f"actions-{i}", settings, argv, self.log_dir / f"actions-{i}.log"))
        # the Rasa servers take longest (loading the model): they start first, all at once; the rest meanwhile
        for server in self.rasa:
            self.stack.callback(server.stop)
            server.start()
        self._start_nginx(nginx, public_port, actions_port, chat_page_port)
        started = time.monotonic()
        with open(
            os.open(self.log_dir / "database.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8"
        ) as log:
            botstack.prepare_database(base, seed=True, log=log)
        self.timings["migrate + demo data"] = time.monotonic() - started
        for server in self.actions:
            self.stack.callback(server.stop)
            server.start()
        self.wait_ready(self.rasa + self.actions, timeout)
        self.timings["start-up"] = time.monotonic() - self.started_at

    def _databases(self) -> tuple[str, str]:
        """Two fresh databases on the test PostgreSQL server: the support database and Rasa's tracker store."""
        server = postgres_server_url()
        admin = create_engine(
            _url(server, "postgresql+psycopg", make_url(server).database or "postgres"), isolation_level="AUTOCOMMIT"
        )
        prefix = f"replica_{uuid.uuid4().hex[:10]}"
        names = [f"{prefix}_support", f"{prefix}_tracker"]
        try:
            with admin.connect() as connection:
                for name in names:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()

        def drop() -> None:
            engine = create_engine(
                _url(server, "postgresql+psycopg", make_url(server).database or "postgres"),
                isolation_level="AUTOCOMMIT",
            )
            try:
                with engine.connect() as connection:
                    for name in names:
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            finally:
                engine.dispose()

        self.stack.callback(drop)
        # the engine (SQLAlchemy 2) speaks psycopg 3; Rasa (SQLAlchemy 1.4) speaks psycopg2, its "postgresql" default
        return _url(server, "postgresql+psycopg", names[0]), _url(server, "postgresql", names[1])

    def _start_nginx(self, nginx: str, public_port: int, actions_port: int, chat_page_port: int) -> None:
        # a prefix outside pytest's owner-only temporary folders: nginx's workers run as nobody when root starts it
        prefix = Path(tempfile.mkdtemp(prefix="replica-nginx-"))
        self.stack.callback(shutil.rmtree, prefix, True)
        os.chmod(prefix, 0o755)
        (prefix / "temp").mkdir()
        self.nginx_prefix = prefix
        (prefix / "support.conf").write_text(listen_on((DEPLOY_NGINX / "support.conf").read_text(), 8080, public_port))
        (prefix / "actions.conf").write_text(listen_on((DEPLOY_NGINX / "actions.conf").read_text(), 5055, actions_port))
        (prefix / "upstreams.conf").write_text(
            upstreams_conf([s.port for s in self.rasa], [s.port for s in self.actions], chat_page_port)
        )
        (prefix / "nginx.conf").write_text(nginx_main_conf(prefix))
        argv = [nginx, "-e", "stderr", "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise botstack.StackError(f"nginx -t refused the configuration:\n{check.stderr}")
        self.nginx = botstack.Child("nginx", argv, dict(os.environ), self.log_dir / "nginx.log", echo=False)
        self.stack.callback(self.nginx.stop)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.public_url}/healthz", timeout=2).status_code == 200:
                    return
            if not self.nginx.alive():
                break
            time.sleep(0.1)
        raise botstack.StackError(f"nginx did not start:\n{self.nginx.log_tail()}")

    def wait_ready(self, servers: list[Server], timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(servers)
        while pending:
            for server in list(pending):
                if not server.alive():
                    tail = server.child.log_tail() if server.child else ""
                    raise botstack.StackError(f"{server.name} exited while starting; its log ends with:\n{tail}")
                if server.ready():
                    pending.remove(server)
            if pending and time.monotonic() > deadline:
                raise botstack.StackError(f"not ready after {timeout:.0f} s: {[s.name for s in pending]}")
            time.sleep(0.25)

    # -- faults ----------------------------------------------------------------------------------------------------

    def gate_owner(self, gate: ActionGate) -> Server:
        return next(server for server in self.rasa if server.name == gate.name)

    def restart(self, server: Server) -> None:
        """Start a dead replica again (what the orchestrator does); it takes its old port back. Does not wait."""
        assert not server.alive(), f"{server.name} is running"
        server.stop()
        server.start()

    def ensure_all_up(self, timeout: float = 600.0) -> None:
        for server in self.rasa + self.actions:
            if not server.alive():
                self.restart(server)
        self.wait_ready(self.rasa + self.actions, timeout)

    def arm(self, trap: Trap) -> None:
        for gate in self.gates:
            gate.trap = trap

    def disarm(self) -> None:
        for gate in self.gates:
            gate.trap = None

    # -- what happened ---------------------------------------------------------------------------------------------

    ACCESS = re.compile(
        r'"(?P<method>[A-Z]+) (?P<uri>\S+) HTTP/[\d.]+" (?P<status>\d{3}) .* '
        r"upstream=(?P<upstream>.*?) upstream_status=(?P<upstream_status>.*)$"
    )

    def access_log(self) -> list[dict[str, Any]]:
        """nginx's access lines so far (deploy/nginx/support.conf's ``support`` format), oldest first; each with the
        list of upstream addresses tried (``upstreams``) and their statuses."""
        assert self.nginx is not None
        lines = []
        for line in self.nginx.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = self.ACCESS.search(line)
            if match:
                entry = match.groupdict()
                entry["upstreams"] = [
                    u.strip()
                    for u in entry["upstream"].replace(" : ", ", ").split(",")
                    if u.strip() and u.strip() != "-"
                ]
                lines.append(entry)
        return lines

    def wait_for_log(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """nginx writes a request's line as it finishes it; the pump copies it to the log file a moment later."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.access_log()
            if predicate(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation as the tracker store has it, read through a live Rasa server's HTTP API."""
        for server in self.rasa:  # a restarted server is alive some time before it listens
            if not server.alive():
                continue
            try:
                response = requests.get(
                    f"{server.settings.rasa_url}/conversations/{sender}/tracker",
                    params={"token": self.settings.secrets["RASA_API_TOKEN"]},
                    timeout=30,
                )
            except requests.ConnectionError:
                continue
            response.raise_for_status()
            return response.json()
        raise botstack.StackError("no Rasa server answers")

    def support_rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_engine(self.support_url)
        try:
            with engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def cases(self, table: str, order_number: str) -> list[dict[str, Any]]:
        return self.support_rows(
            f"SELECT * FROM {table} WHERE order_id = (SELECT id FROM orders WHERE order_number = :order)",
            order=order_number,
        )
