"""The stack's settings: where each part listens and what it stores into, from the environment with defaults."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from botstack.paths import QUIET_ENV, ROOT
from botstack.secret_store import load_secrets

#: request bodies Rasa accepts (Sanic answers 413 before reading more); a chat message is at most MAX_MESSAGE_CHARS
DEFAULT_REQUEST_MAX_SIZE = "65536"
#: Meta batches many events into one webhook delivery: with WhatsApp Cloud or Messenger on, bodies up to 1 MiB
META_REQUEST_MAX_SIZE = "1048576"
#: the test stacks' rate limits: one loopback client plays every customer; TRUST_PROXY lets each test customer
#: come from an address of its own (X-Forwarded-For), as customers do behind nginx, so that one test's wrong emails
#: do not put the next test's customer into the step-up of RET-4
TEST_RATE_LIMITS = {
    "RATE_LIMIT_CLIENT": "100000/minute",
    "RATE_LIMIT_SESSIONS": "100000/minute",
    "RATE_LIMIT_CONVERSATION": "1000/minute",
    "TRUST_PROXY": "1",
}


def request_max_size(environ: Mapping[str, str]) -> str:
    """The default body limit of the Rasa server: 64 KB, or 1 MiB when a Meta channel (batched deliveries) is on."""
    if environ.get("WHATSAPP_APP_SECRET") or environ.get("MESSENGER_APP_SECRET"):
        return META_REQUEST_MAX_SIZE
    return DEFAULT_REQUEST_MAX_SIZE


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
    inbox_port: int = 8090  # the built-in agent inbox (issue 17)
    rasa_processes: int = 1  # Rasa processes behind a local nginx when > 1 (botstack/balancer.py); make run: 2
    redis_port: int = 6390  # the stack's own Redis, started when rasa_processes > 1
    rasa_internal_ports: tuple[int, ...] = ()  # the Rasa processes' loopback ports (chosen by Stack.start)
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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; every variable is optional.

        BOT_HOST (127.0.0.1)            interface every server binds to
        RASA_PORT (5005) ACTION_PORT (5055) WEB_PORT (8080) SHELL_PORT (5006, the ``rasa shell`` server)
        INBOX_PORT (8090)                               the built-in agent inbox
        RASA_PROCESSES (2)                              Rasa processes (one core each) behind nginx on RASA_PORT;
                                                        1: one ``rasa run`` on RASA_PORT, no nginx or Redis
        REDIS_PORT (6390)                               the stack's Redis (lock store, socket.io queue, rate limits)
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
            inbox_port=int(_env(e, "INBOX_PORT", str(cls.inbox_port))),
            rasa_processes=max(1, int(_env(e, "RASA_PROCESSES", "2"))),
            redis_port=int(_env(e, "REDIS_PORT", str(cls.redis_port))),
            database_url=_env(e, "DATABASE_URL", cls.database_url),
            tracker_store_url=_env(e, "TRACKER_STORE_URL", cls.tracker_store_url),
            lock_store_type=_env(e, "LOCK_STORE_TYPE", cls.lock_store_type),
            lock_store_host=_env(e, "LOCK_STORE_HOST", cls.lock_store_host),
            lock_store_port=_env(e, "LOCK_STORE_PORT", cls.lock_store_port),
            lock_store_db=_env(e, "LOCK_STORE_DB", cls.lock_store_db),
            action_endpoint_url=_env(e, "ACTION_ENDPOINT_URL", ""),
            public_rasa_url=_env(e, "PUBLIC_RASA_URL", ""),
            models=_env(e, "RASA_MODEL", cls.models),
            allowed_origins=tuple(
                o.strip().rstrip("/") for o in e.get("CHAT_ALLOWED_ORIGINS", "").split(",") if o.strip()
            ),
        )

    def with_secrets(self, announce: IO[str] | None = None) -> Settings:
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
    def for_tests(cls, tmp_dir: Path, **overrides) -> Settings:
        """A private stack: free ports on loopback, databases in ``tmp_dir``, the trained model in ``models/``."""
        tmp_dir = Path(tmp_dir)
        base = cls(
            host="127.0.0.1",
            rasa_port=free_port(),
            action_port=free_port(),
            web_port=free_port(),
            shell_port=free_port(),
            inbox_port=free_port(),
            redis_port=free_port(),
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
    def rasa_internal_url(self) -> str:
        if self.rasa_internal_ports:
            return f"http://127.0.0.1:{self.rasa_internal_ports[0]}"
        return self.rasa_url

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @property
    def inbox_url(self) -> str:
        return f"http://{self.host}:{self.inbox_port}/"

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
                "INBOX_PORT": str(self.inbox_port),
                # the inbox relays agent replies to Rasa on loopback (with several processes: the first, directly)
                "RASA_INTERNAL_URL": self.rasa_internal_url,
                "CHAT_ALLOWED_ORIGINS": ",".join(self.origins),
                # without SMTP_HOST the one-time codes are written here (policy_engine/store/mail.py)
                "MAIL_OUTBOX_DIR": env.get("MAIL_OUTBOX_DIR") or str(self.var_dir / "outbox"),
                # uploaded files (chat_channels/uploads.py writes, the action server reads): outside the web root
                "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(self.var_dir / "uploads"),
            }
        )
        env.update(self.secrets)
        env.update(self.extra_env)
        env["SANIC_REQUEST_MAX_SIZE"] = env.get("SANIC_REQUEST_MAX_SIZE") or request_max_size(env)
        return env
