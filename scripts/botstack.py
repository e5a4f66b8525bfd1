"""Start, watch and stop the assistant's processes: the one place that knows how they are launched.

Used by ``scripts/run.py`` (``make run`` / ``make shell``), the dialogue and browser test fixtures
(``tests/dialogue``, ``tests/e2e``) and ``scripts/measure_latency.py``, so that what is tested is what runs.

The stack, all on one host (loopback by default):

- the SQLite (or PostgreSQL) support database, migrated and seeded with the demo data
  (``.venv-engine/bin/python -m policy_engine migrate`` / ``load-demo``);
- the rasa-sdk action server (``.venv-engine``: ``python -m actions.server``), which refuses every call without
  the shared ``ACTION_SERVER_TOKEN`` that Rasa sends (endpoints.yml);
- the Rasa server (``.venv-rasa``: ``rasa run --enable-api --auth-token ... --cors <the chat page's origin>``) with
  the token-protected REST channel and the web chat's socket.io channel (chat_channels/);
- a small static web server for the chat page in ``web/`` (rasa-webchat), with a generated ``/config.js`` that
  tells the page where the Rasa server is.

Every setting comes from the environment with a default (``Settings.from_env``). The secrets (``SECRET_NAMES``)
come from the environment too; any that is not set is generated once into ``var/secrets.env`` (mode 0600) and
reused. Every child runs with umask 077 (its database and log files are readable by their owner only), in its own
process group so that ``stop()`` ends it and everything it started, and nothing else.

Standard library only: this runs in ``.venv-engine`` but must not import the engine.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Callable, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
ENGINE_PYTHON = ROOT / ".venv-engine" / "bin" / "python"
WEB_DIR = ROOT / "web"
WEBCHAT_BUNDLE = WEB_DIR / "static" / "vendor" / "rasa-webchat.js"

#: the secrets of the stack (README, "Security"): Rasa's HTTP API token, the REST channel's bearer token, the
#: shared secret between Rasa and the action server, and the key that signs web chat sessions
SECRET_NAMES = ("RASA_API_TOKEN", "REST_CHANNEL_TOKEN", "ACTION_SERVER_TOKEN", "CHAT_SESSION_SECRET")
#: request bodies Rasa accepts (Sanic answers 413 before reading more); a chat message is at most MAX_MESSAGE_CHARS
DEFAULT_REQUEST_MAX_SIZE = "65536"
#: Meta batches many events into one webhook delivery: with WhatsApp Cloud or Messenger on, bodies up to 1 MiB
META_REQUEST_MAX_SIZE = "1048576"
CHILD_UMASK = 0o077
#: the supervisor restarts a crashed server; more than this many restarts within RESTART_WINDOW seconds is a crash loop
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
#: the test stacks' rate limits: one loopback client plays every customer; TRUST_PROXY lets each test customer
#: come from an address of its own (X-Forwarded-For), as customers do behind nginx, so that one test's wrong emails
#: do not put the next test's customer into the step-up of RET-4
TEST_RATE_LIMITS = {"RATE_LIMIT_CLIENT": "100000/minute", "RATE_LIMIT_SESSIONS": "100000/minute",
                    "RATE_LIMIT_CONVERSATION": "1000/minute", "TRUST_PROXY": "1"}

# Quiet, offline Rasa: no telemetry calls home, no SQLAlchemy 2.0 banner from Rasa's tracker store.
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONUNBUFFERED": "1",
}


def request_max_size(environ: Mapping[str, str]) -> str:
    """The default body limit of the Rasa server: 64 KB, or 1 MiB when a Meta channel (batched deliveries) is on."""
    if environ.get("WHATSAPP_APP_SECRET") or environ.get("MESSENGER_APP_SECRET"):
        return META_REQUEST_MAX_SIZE
    return DEFAULT_REQUEST_MAX_SIZE


class StackError(RuntimeError):
    """A process of the stack could not be prepared or did not come up; the message says which and why."""


def load_secrets(var_dir: Path, environ: Mapping[str, str], announce: IO[str] | None = None) -> dict[str, str]:
    """Each of ``SECRET_NAMES`` from the environment, else from ``var_dir/secrets.env``, else generated there (0600).

    Rotating one: set it in the environment, or delete its line (or the file) and restart; see README, "Security"."""
    path = Path(var_dir) / "secrets.env"
    stored: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() in SECRET_NAMES and value.strip():
                stored[name.strip()] = value.strip()
    result, generated = {}, []
    for name in SECRET_NAMES:
        given = environ.get(name, "").strip()
        if given:
            if len(given) < 32:
                raise StackError(f"{name} must be at least 32 characters")
            result[name] = given
        elif name in stored:
            result[name] = stored[name]
        else:
            result[name] = stored[name] = secrets.token_urlsafe(32)
            generated.append(name)
    if generated:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("# generated by scripts/botstack.py; environment variables of the same name take precedence\n")
            out.writelines(f"{name}={value}\n" for name, value in stored.items())
        if announce is not None:
            announce.write(f"run: generated {', '.join(generated)} into {path} (mode 0600)\n")
            announce.flush()
    if path.exists():
        os.chmod(path, 0o600)
    return result


def _env(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip()
    return value or default


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` (for tests: a fresh stack beside a running ``make run``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Settings:
    """Where each part listens and what it stores into. ``from_env`` documents the variables."""

    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8080
    shell_port: int = 5006
    database_url: str = "sqlite:///var/support.db"
    tracker_store_url: str = "sqlite:///var/tracker.db"
    lock_store_type: str = "in_memory"
    lock_store_host: str = "127.0.0.1"
    lock_store_port: str = "6379"
    lock_store_db: str = "1"
    action_endpoint_url: str = ""  # default: http://{host}:{action_port}/webhook
    public_rasa_url: str = ""  # what the browser uses; default: http://{host}:{rasa_port}
    models: str = "models"
    var_dir: Path = ROOT / "var"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)  # SECRET_NAMES; filled by with_secrets()
    allowed_origins: tuple[str, ...] = ()  # browser origins besides the chat page's own (CHAT_ALLOWED_ORIGINS)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the settings; every variable is optional.

        BOT_HOST (127.0.0.1)            interface every server binds to
        RASA_PORT (5005) ACTION_PORT (5055) WEB_PORT (8080) SHELL_PORT (5006, the ``rasa shell`` server)
        DATABASE_URL (sqlite:///var/support.db)         the support database (policy_engine)
        TRACKER_STORE_URL (sqlite:///var/tracker.db)    Rasa's conversations; any SQLAlchemy URL
        LOCK_STORE_TYPE (in_memory | redis) LOCK_STORE_HOST LOCK_STORE_PORT LOCK_STORE_DB
        ACTION_ENDPOINT_URL (http://BOT_HOST:ACTION_PORT/webhook)
        PUBLIC_RASA_URL (http://BOT_HOST:RASA_PORT)     the Rasa URL the web page connects to
        RASA_MODEL (models)                             a model file or a directory (newest model is used)
        CHAT_ALLOWED_ORIGINS ()                         more browser origins (comma-separated) for the chat page
        RASA_API_TOKEN REST_CHANNEL_TOKEN ACTION_SERVER_TOKEN CHAT_SESSION_SECRET   see ``load_secrets``
        """
        e = os.environ if environ is None else environ
        host = _env(e, "BOT_HOST", cls.host)
        return cls(
            host=host,
            rasa_port=int(_env(e, "RASA_PORT", str(cls.rasa_port))),
            action_port=int(_env(e, "ACTION_PORT", str(cls.action_port))),
            web_port=int(_env(e, "WEB_PORT", str(cls.web_port))),
            shell_port=int(_env(e, "SHELL_PORT", str(cls.shell_port))),
            database_url=_env(e, "DATABASE_URL", cls.database_url),
            tracker_store_url=_env(e, "TRACKER_STORE_URL", cls.tracker_store_url),
            lock_store_type=_env(e, "LOCK_STORE_TYPE", cls.lock_store_type),
            lock_store_host=_env(e, "LOCK_STORE_HOST", cls.lock_store_host),
            lock_store_port=_env(e, "LOCK_STORE_PORT", cls.lock_store_port),
            lock_store_db=_env(e, "LOCK_STORE_DB", cls.lock_store_db),
            action_endpoint_url=_env(e, "ACTION_ENDPOINT_URL", ""),
            public_rasa_url=_env(e, "PUBLIC_RASA_URL", ""),
            models=_env(e, "RASA_MODEL", cls.models),
            allowed_origins=tuple(o.strip().rstrip("/") for o in e.get("CHAT_ALLOWED_ORIGINS", "").split(",")
                                  if o.strip()),
        )

    def with_secrets(self, announce: IO[str] | None = None) -> "Settings":
        """These settings with their secrets loaded (or generated into ``var_dir``); idempotent."""
        if self.secrets:
            return self
        return replace(self, secrets=load_secrets(self.var_dir, os.environ, announce))

    @property
    def web_origin(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    @property
    def origins(self) -> tuple[str, ...]:
        return (self.web_origin, *[o for o in self.allowed_origins if o != self.web_origin])

    @classmethod
    def for_tests(cls, tmp_dir: Path, **overrides) -> "Settings":
        """A private stack: free ports on loopback, databases in ``tmp_dir``, the trained model in ``models/``."""
        tmp_dir = Path(tmp_dir)
        base = cls(
            host="127.0.0.1",
            rasa_port=free_port(),
            action_port=free_port(),
            web_port=free_port(),
            shell_port=free_port(),
            database_url=f"sqlite:///{tmp_dir / 'support.db'}",
            tracker_store_url=f"sqlite:///{tmp_dir / 'tracker.db'}",
            models=str(ROOT / "models"),
            var_dir=tmp_dir,
            # every test client comes from 127.0.0.1: the per-client limits would throttle the suite itself
            # (tests/security starts its own stack with the defaults)
            extra_env=TEST_RATE_LIMITS,
        )
        return replace(base, **overrides)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}/"

    @property
    def browser_rasa_url(self) -> str:
        return self.public_rasa_url or self.rasa_url

    def child_env(self) -> dict[str, str]:
        """The environment of every child: the endpoints.yml variables (Rasa has no defaults), the database."""
        env = dict(os.environ)
        env.update(QUIET_ENV)
        env.update(
            {
                "ACTION_ENDPOINT_URL": self.action_endpoint_url or f"{self.action_url}/webhook",
                "TRACKER_STORE_URL": self.tracker_store_url,
                "LOCK_STORE_TYPE": self.lock_store_type,
                "LOCK_STORE_HOST": self.lock_store_host,
                "LOCK_STORE_PORT": self.lock_store_port,
                "LOCK_STORE_DB": self.lock_store_db,
                "DATABASE_URL": self.database_url,
                "SANIC_HOST": self.host,  # rasa-sdk binds to this interface
                "CHAT_ALLOWED_ORIGINS": ",".join(self.origins),
                # without SMTP_HOST the one-time codes are written here (policy_engine/store/mail.py)
                "MAIL_OUTBOX_DIR": env.get("MAIL_OUTBOX_DIR") or str(self.var_dir / "outbox"),
            }
        )
        env.update(self.secrets)
        env.update(self.extra_env)
        env["SANIC_REQUEST_MAX_SIZE"] = env.get("SANIC_REQUEST_MAX_SIZE") or request_max_size(env)
        return env


# ---- model -------------------------------------------------------------------------------------------------------


def model_exists(models: str | Path = ROOT / "models") -> bool:
    path = Path(models)
    if not path.is_absolute():
        path = ROOT / path
    if path.is_file():
        return True
    return path.is_dir() and any(path.glob("*.tar.gz"))


def train_if_stale(check_only: bool = False) -> None:
    """``scripts/train.sh``: trains only when the model is missing or its inputs changed."""
    args = ["bash", str(ROOT / "scripts" / "train.sh")]
    if check_only:
        args.append("--check")
    result = subprocess.run(args, cwd=ROOT, env={**os.environ, **QUIET_ENV})
    if result.returncode != 0:
        raise StackError("training failed (scripts/train.sh); see the output above")


# ---- database ----------------------------------------------------------------------------------------------------


def prepare_database(settings: Settings, seed: bool = True, log: IO[str] | None = None) -> None:
    """Create/migrate the support database and load the demo data (``python -m policy_engine migrate|load-demo``)."""
    if settings.database_url.startswith("sqlite:///"):
        db_path = Path(settings.database_url[len("sqlite:///"):])
        if not db_path.is_absolute():
            db_path = ROOT / db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
    if settings.tracker_store_url.startswith("sqlite:///"):
        tracker_path = Path(settings.tracker_store_url[len("sqlite:///"):])
        if not tracker_path.is_absolute():
            tracker_path = ROOT / tracker_path
        tracker_path.parent.mkdir(parents=True, exist_ok=True)
    commands = [["migrate"]] + ([["load-demo"]] if seed else [])
    for command in commands:
        result = subprocess.run(
            [str(ENGINE_PYTHON), "-m", "policy_engine", *command],
            cwd=ROOT,
            env=settings.child_env(),
            umask=CHILD_UMASK,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if log is not None and result.stdout:
            log.write(result.stdout)
            log.flush()
        if result.returncode != 0:
            raise StackError(
                f"`python -m policy_engine {' '.join(command)}` failed (exit {result.returncode}):\n"
                f"{result.stdout[-4000:]}"
            )


# ---- processes ---------------------------------------------------------------------------------------------------


class Child:
    """One server process in its own process group, its output copied to a log file (and optionally the console)."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path, echo: bool) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # owner-only, like everything the children write (the log holds conversation ids)
        self._log = open(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8",
                         errors="replace")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # own process group: Ctrl-C reaches the supervisor only, stop() ends the group
            umask=CHILD_UMASK,  # databases, logs and uploads readable by their owner only
        )
        self.env = dict(env)
        self.echo = echo
        self.restarts = 0
        self._pump = threading.Thread(target=self._copy_output, args=(echo,), name=f"log-{name}", daemon=True)
        self._pump.start()

    def _copy_output(self, echo: bool) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log.write(line)
            self._log.flush()
            if echo:
                sys.stdout.write(f"[{self.name}] {line}")
                sys.stdout.flush()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the child's process group, SIGKILL after ``timeout`` seconds."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        else:
            # the leader is gone; make sure nothing it started is left in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._pump.join(timeout=5)
        self._log.close()


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
        str(RASA_BIN), "run",
        "--enable-api", f"--auth-token={settings.secrets['RASA_API_TOKEN']}",
        *(["--cors"] + list(settings.origins)),  # never "*"
        "--interface", settings.host, "--port", str(settings.rasa_port),
        "--model", str(settings.models),
        "--endpoints", str(ROOT / "endpoints.yml"),
        "--credentials", str(ROOT / "credentials.yml"),
    ]


def private_files(settings: Settings) -> None:
    """Owner-only modes on the SQLite files and logs an earlier version may have created world-readable."""
    for url in (settings.database_url, settings.tracker_store_url):
        if url.startswith("sqlite:///"):
            path = Path(url[len("sqlite:///"):])
            path = path if path.is_absolute() else ROOT / path
            for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                if candidate.exists():
                    os.chmod(candidate, 0o600)


def action_server_ready(settings: Settings) -> bool:
    status, body = _http_get_json(f"{settings.action_url}/health")
    return status == 200 and isinstance(body, dict) and body.get("status") == "ok"


def rasa_ready(settings: Settings) -> bool:
    """The Rasa server answers and has a model loaded (``GET /status`` needs ``--enable-api`` and the API token)."""
    token = settings.secrets.get("RASA_API_TOKEN", "")
    status, body = _http_get_json(f"{settings.rasa_url}/status?token={token}")
    return status == 200 and isinstance(body, dict) and bool(body.get("model_file"))


# ---- web chat page -----------------------------------------------------------------------------------------------


class _WebHandler(http.server.SimpleHTTPRequestHandler):
    """The page (``/``), its files under ``/static/``, and ``/config.js`` that tells it where the Rasa server is.
    Nothing else of ``web/`` is served (no listings, no package files), GET and HEAD only."""

    config_js: bytes = b""
    connect_src: str = ""
    server_version = "support-web"
    sys_version = ""

    def _path(self) -> str:
        return self.path.split("?", 1)[0].split("#", 1)[0]

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            f"connect-src 'self' {self.connect_src}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        )
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self._path()
        if path == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(self.config_js)))
            self.end_headers()
            self.wfile.write(self.config_js)
            return
        if path in ("/", "/index.html") or (path.startswith("/static/") and ".." not in path
                                             and not path.endswith("/")):
            super().do_GET()
            return
        self.send_error(404)

    def do_HEAD(self) -> None:  # noqa: N802
        path = self._path()
        if path in ("/", "/index.html") or (path.startswith("/static/") and ".." not in path):
            super().do_HEAD()
            return
        self.send_error(404)

    def list_directory(self, path):  # never list a folder
        self.send_error(404)
        return None

    def log_message(self, format: str, *args) -> None:  # quiet: the servers' logs matter more
        pass


class WebServer:
    """The chat page on ``settings.host:settings.web_port``, served from a thread of the supervisor."""

    def __init__(self, settings: Settings) -> None:
        if not WEBCHAT_BUNDLE.is_file():
            raise StackError(
                f"{WEBCHAT_BUNDLE.relative_to(ROOT)} is missing: run `make web` (npm install of rasa-webchat 1.0.1)"
            )
        config = {
            "socketUrl": settings.browser_rasa_url,
            "socketPath": "/socket.io/",
            "sessionUrl": f"{settings.browser_rasa_url}/webhooks/socketio/session",
        }
        rasa_origin = settings.browser_rasa_url.rstrip("/")
        ws_origin = "ws" + rasa_origin[4:] if rasa_origin.startswith("http") else rasa_origin
        handler = type(
            "WebHandler",
            (_WebHandler,),
            {"config_js": f"window.SUPPORT_CHAT_CONFIG = {json.dumps(config)};\n".encode(),
             "connect_src": f"{rasa_origin} {ws_origin}"},
        )
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        try:
            self.server = http.server.ThreadingHTTPServer(
                (settings.host, settings.web_port), functools.partial(handler, directory=str(WEB_DIR))
            )
        except OSError as error:
            raise StackError(
                f"the chat page cannot listen on {settings.host}:{settings.web_port} ({error}): set WEB_PORT"
            ) from error
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="web", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# ---- the stack ---------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    """The running assistant. ``start()`` brings everything up and waits until it answers; ``stop()`` ends it."""

    settings: Settings
    echo: bool = False  # copy the servers' output to the console (make run) or only to log files (tests)
    with_web: bool = True
    with_rasa: bool = True
    seed: bool = True
    external: bool = False  # already running elsewhere (BOT_TEST_EXTERNAL): start/stop do nothing
    children: list[Child] = field(default_factory=list)
    web: WebServer | None = None

    @property
    def log_dir(self) -> Path:
        return self.settings.var_dir / "log"

    def start(self, timeout: float = 240.0) -> "Stack":
        self.settings = self.settings.with_secrets(announce=sys.stdout if self.echo else None)
        if self.external:
            return self
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        s = self.settings
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(os.open(self.log_dir / "database.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a",
                  encoding="utf-8") as log:
            prepare_database(s, seed=self.seed, log=log)
        private_files(s)
        env = s.child_env()
        if action_server_ready(s):
            raise StackError(f"port {s.action_port} already has an action server: stop it or set ACTION_PORT")
        self.children.append(
            Child(
                "actions",
                [str(ENGINE_PYTHON), "-m", "actions.server", "--port", str(s.action_port)],
                env,
                self.log_dir / "actions.log",
                self.echo,
            )
        )
        if self.with_rasa:
            if not model_exists(s.models):
                raise StackError(f"no trained model in {s.models}: run `make train`")
            self.children.append(
                Child(
                    "rasa",
                    rasa_run_argv(s),
                    env,
                    self.log_dir / "rasa.log",
                    self.echo,
                )
            )
        if self.with_web:
            self.web = WebServer(s)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        checks: list[tuple[Child, Callable[[Settings], bool]]] = []
        for child in self.children:
            checks.append((child, rasa_ready if child.name == "rasa" else action_server_ready))
        deadline = time.monotonic() + timeout
        pending = list(checks)
        while pending:
            for child, ready in list(pending):
                if not child.alive():
                    raise StackError(
                        f"the {child.name} server exited with code {child.process.returncode} while starting; "
                        f"its log ({child.log_path}) ends with:\n{child.log_tail()}"
                    )
                if ready(self.settings):
                    pending.remove((child, ready))
            if not pending:
                return
            if time.monotonic() > deadline:
                names = ", ".join(child.name for child, _ in pending)
                tails = "\n".join(f"--- {c.name} ({c.log_path}):\n{c.log_tail(2000)}" for c, _ in pending)
                raise StackError(f"not ready after {timeout:.0f} s: {names}\n{tails}")
            time.sleep(0.5)

    def restart(self, child: Child) -> Child:
        """Start a dead child again with the same command, environment and log (the supervisor's restart)."""
        index = self.children.index(child)
        child.stop()
        fresh = Child(child.name, child.argv, child.env, child.log_path, child.echo)
        fresh.restarts = child.restarts + 1
        self.children[index] = fresh
        return fresh

    def supervise(self, keep_running: Callable[[], bool] = lambda: True, *, poll: float = 1.0,
                  say: Callable[[str], None] = print) -> int:
        """Watch the children until ``keep_running()`` is false (0): a child that died is restarted and the others
        keep running; a crash loop (more than ``MAX_RESTARTS`` within ``RESTART_WINDOW`` s) gives up (1)."""
        restarts: list[float] = []
        while keep_running():
            dead = self.first_dead_child()
            if dead is not None:
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < RESTART_WINDOW]
                code = dead.process.returncode
                if len(restarts) >= MAX_RESTARTS:
                    say(f"the {dead.name} server exited with code {code} again ({len(restarts) + 1} times within "
                        f"{RESTART_WINDOW:.0f} s); giving up. Its log: {dead.log_path}")
                    return 1
                restarts.append(now)
                say(f"the {dead.name} server exited with code {code}; restarting it, the others keep running. "
                    f"Its log: {dead.log_path}")
                self.restart(dead)
            time.sleep(poll)
        return 0

    def ensure_web(self) -> WebServer:
        """Start the chat page server if it is not running (the browser tests build the bundle first)."""
        if self.web is None and not self.external:
            self.web = WebServer(self.settings)
        return self.web

    def first_dead_child(self) -> Child | None:
        return next((child for child in self.children if not child.alive()), None)

    def stop(self) -> None:
        """Stop in reverse order of start; safe to call twice."""
        if self.web is not None:
            self.web.stop()
            self.web = None
        while self.children:
            self.children.pop().stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---- one stack per test session, shared by tests/dialogue and tests/e2e -----------------------------------------

_shared: dict[str, object] = {"stack": None, "users": 0}


def acquire_test_stack(tmp_dir: Path) -> Stack:
    """Start (once per process) a private stack for tests; pair every call with ``release_test_stack()``.

    Trains first only if no model exists at all (``make test`` trains once before the suites). ``RASA_MODEL``
    picks another model file or directory. ``BOT_TEST_TIMEOUT``: seconds to wait for the servers (default 900;
    loading a model builds its TensorFlow graphs, which takes minutes on a busy 2-core machine).
    ``BOT_TEST_EXTERNAL=1`` uses a stack already running with the settings of the environment instead (fast
    iterations; it must have been seeded with the demo data just before).
    """
    if _shared["stack"] is None and os.environ.get("BOT_TEST_EXTERNAL") == "1":
        # a stack started by hand (e.g. `make run`, or scripts/run.py with other ports): its settings come from
        # the same variables (RASA_PORT, WEB_PORT, DATABASE_URL...); the tests write into its database
        _shared["stack"] = Stack(Settings.from_env(), external=True)
    if _shared["stack"] is None:
        model = os.environ.get("RASA_MODEL", "").strip() or str(ROOT / "models")
        if not model_exists(model):
            train_if_stale()
        settings = Settings.for_tests(Path(tmp_dir), models=model)
        stack = Stack(settings, echo=False, with_web=WEBCHAT_BUNDLE.is_file())
        stack.start(timeout=float(os.environ.get("BOT_TEST_TIMEOUT", "900")))
        _shared["stack"] = stack
    _shared["users"] = int(_shared["users"]) + 1  # type: ignore[arg-type]
    return _shared["stack"]  # type: ignore[return-value]


def release_test_stack() -> None:
    _shared["users"] = int(_shared["users"]) - 1  # type: ignore[arg-type]
    stack = _shared["stack"]
    if int(_shared["users"]) <= 0 and stack is not None:  # type: ignore[arg-type]
        stack.stop()  # type: ignore[attr-defined]
        _shared["stack"] = None
