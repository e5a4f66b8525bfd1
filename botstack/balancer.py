"""Both cores for ``make run`` (issue 14, item 2): several Rasa processes behind a local nginx, sharing a local Redis.

A Rasa server is one Python process: one event loop, one core. ``make run`` (``RASA_PROCESSES``, default 2) starts
that many ``rasa run`` processes on internal loopback ports and puts nginx on ``RASA_PORT`` in front of them, so the
URLs it prints stay the same:

- ``/socket.io/`` (the web chat) by ``hash $arg_token consistent``: every request of one chat session (its signed
  token is in the query string, web/static/chat.js) reaches the same process, which holds its engine.io session;
- everything else (the REST channel, new chat sessions, uploads, messaging webhooks, Rasa's HTTP API) to the least
  busy process: any process can take any turn, because the conversations are in the shared tracker store and
  the turns of one conversation are serialised by Rasa's Redis lock store;
- ``/webhooks/socketio/agent`` (the inbox's relay) is not routed: the inbox reaches the first process directly on
  loopback (``RASA_INTERNAL_URL``), and an agent's reply reaches the socket held by the other one through
  python-socketio's Redis message queue (``SOCKETIO_MESSAGE_QUEUE``, chat_channels/webchat.py);
- nginx replaces ``X-Forwarded-For`` with the address it sees and Rasa runs with ``TRUST_PROXY=1``, so the
  per-address limits count each client, not nginx; they are counted in Redis (``RATE_LIMIT_STORAGE``), once for all
  processes.

The same layout as the production one (deploy/nginx/support.conf, tests/replica), on one host. Redis
(``redis-server``, installed by ``make system-deps`` like PostgreSQL for ``make test``) runs without persistence,
bound to loopback: locks, rate-limit counters and the socket.io queue are all short-lived. It has no password:
only processes on this machine reach it, and the threat model trusts those (README, "Security"); Rasa's lock store
configuration (endpoints.yml) has no password field set, so a password would need one there and in every deployment.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from botstack.paths import QUIET_ENV, StackError
from botstack.process import Child
from botstack.settings import Settings

REDIS_LOCK_DB, REDIS_SOCKETIO_DB, REDIS_LIMITS_DB = 1, 2, 3


def _binary(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((path for path in fallbacks if Path(path).exists()), None)
    if found is None:
        raise StackError(
            f"{name} is missing: `make run` with RASA_PROCESSES > 1 needs it (`make system-deps` installs it), "
            "or set RASA_PROCESSES=1"
        )
    return found


def redis_url(settings: Settings, db: int) -> str:
    return f"redis://127.0.0.1:{settings.redis_port}/{db}"


def shared_env(settings: Settings, environ: dict[str, str]) -> dict[str, str]:
    """What every Rasa process gets on top of ``Settings.child_env`` when there are several: the Redis lock store,
    the socket.io queue and the rate-limit counters in the stack's Redis (unless set in the environment), and the
    client address from nginx."""
    env = {"TRUST_PROXY": "1"}
    if settings.lock_store_type == "in_memory":
        env.update(
            {
                "LOCK_STORE_TYPE": "redis",
                "LOCK_STORE_HOST": "127.0.0.1",
                "LOCK_STORE_PORT": str(settings.redis_port),
                "LOCK_STORE_DB": str(REDIS_LOCK_DB),
            }
        )
    if not environ.get("SOCKETIO_MESSAGE_QUEUE"):
        env["SOCKETIO_MESSAGE_QUEUE"] = redis_url(settings, REDIS_SOCKETIO_DB)
    if environ.get("RATE_LIMIT_STORAGE", "memory://").startswith("memory"):
        env["RATE_LIMIT_STORAGE"] = redis_url(settings, REDIS_LIMITS_DB)
    return env


def redis_child(settings: Settings, log_dir: Path, echo: bool) -> Child:
    binary = _binary("redis-server", "/usr/bin/redis-server")
    argv = [binary, "--port", str(settings.redis_port), "--bind", "127.0.0.1", "--protected-mode", "yes"]
    argv += ["--save", "", "--appendonly", "no", "--dir", str(Path(settings.var_dir).resolve())]
    return Child("redis", argv, {**os.environ, **QUIET_ENV}, log_dir / "redis.log", echo)


def redis_ready(settings: Settings) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", settings.redis_port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def nginx_conf(settings: Settings, prefix: Path, body_max: str, upload_max: str) -> str:
    """nginx's whole configuration: one server on ``BOT_HOST:RASA_PORT`` in front of the internal Rasa ports."""
    servers = "".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in settings.rasa_internal_ports
    )
    temp = "".join(
        f"    {n}_temp_path {prefix / 'temp' / n};\n" for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    return f"""# generated by botstack/balancer.py for make run: {len(settings.rasa_internal_ports)} Rasa processes
{user}daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
{temp}    access_log off;
    server_tokens off;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream rasa_sticky {{
        hash $arg_token consistent;
{servers}    }}
    upstream rasa_any {{
        least_conn;
{servers}        keepalive 32;
    }}
    server {{
        listen {settings.host}:{settings.rasa_port};
        client_max_body_size {body_max};
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_connect_timeout 2s;
        location /socket.io/ {{
            proxy_pass http://rasa_sticky;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
            proxy_read_timeout 90s;
            proxy_send_timeout 90s;
            proxy_next_upstream error timeout;
        }}
        location = /webhooks/socketio/upload {{
            proxy_pass http://rasa_any;
            proxy_set_header Connection "";
            client_max_body_size {upload_max};
            proxy_request_buffering off;
            proxy_read_timeout 60s;
        }}
        location = /webhooks/socketio/agent {{
            return 404;
        }}
        location / {{
            proxy_pass http://rasa_any;
            proxy_set_header Connection "";
            proxy_read_timeout 75s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def nginx_child(settings: Settings, env: dict[str, str], log_dir: Path, echo: bool) -> Child:
    binary = _binary("nginx", "/usr/sbin/nginx")
    prefix = Path(settings.var_dir).resolve() / "nginx"  # absolute: nginx reads -c relative to -p
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    upload_max = env.get("UPLOAD_MAX_BYTES") or "10485760"
    conf.write_text(nginx_conf(settings, prefix, env["SANIC_REQUEST_MAX_SIZE"], upload_max), encoding="utf-8")
    return Child("nginx", [binary, "-p", str(prefix), "-c", str(conf)], {**os.environ}, log_dir / "nginx.log", echo)


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False
