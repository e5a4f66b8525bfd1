"""Start, watch and stop the assistant's processes: the one place that knows how they are launched.

Used by ``scripts/run.py`` (``make run`` / ``make shell``), the test fixtures that start servers (``tests/dialogue``,
``tests/e2e``, ``tests/security``, ``tests/channels``), ``scripts/measure_latency.py``, ``scripts/flood_bench.py``
and the benchmark (``bench/serving.py``), so that what is tested is what runs.

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

The modules, one job each: ``paths`` (files, interpreters, the children's fixed environment, ``StackError``),
``secret_store`` (``load_secrets``), ``settings`` (``Settings``), ``prepare`` (training, database, file modes),
``process`` (``Child``), ``servers`` (Rasa's command line, readiness checks), ``web`` (the chat page's server),
``stack`` (``Stack``, the supervisor) and ``shared_stack`` (one stack per test session).
"""

from __future__ import annotations

from botstack.paths import (
    CHILD_UMASK,
    ENGINE_PYTHON,
    QUIET_ENV,
    RASA_BIN,
    ROOT,
    WEB_DIR,
    WEBCHAT_BUNDLE,
    StackError,
)
from botstack.prepare import DEMO_AGENT, model_exists, prepare_database, private_files, train_if_stale
from botstack.process import Child
from botstack.secret_store import DESK_SECRET_NAMES, SECRET_NAMES, load_secrets
from botstack.servers import action_server_ready, inbox_ready, rasa_ready, rasa_run_argv
from botstack.settings import (
    DEFAULT_REQUEST_MAX_SIZE,
    META_REQUEST_MAX_SIZE,
    TEST_RATE_LIMITS,
    Settings,
    free_port,
    request_max_size,
)
from botstack.shared_stack import acquire_test_stack, release_test_stack
from botstack.stack import MAX_RESTARTS, RESTART_WINDOW, Stack
from botstack.web import WebServer

__all__ = [
    "CHILD_UMASK",
    "DEMO_AGENT",
    "DESK_SECRET_NAMES",
    "DEFAULT_REQUEST_MAX_SIZE",
    "ENGINE_PYTHON",
    "MAX_RESTARTS",
    "META_REQUEST_MAX_SIZE",
    "QUIET_ENV",
    "RASA_BIN",
    "RESTART_WINDOW",
    "ROOT",
    "SECRET_NAMES",
    "TEST_RATE_LIMITS",
    "WEBCHAT_BUNDLE",
    "WEB_DIR",
    "Child",
    "Settings",
    "Stack",
    "StackError",
    "WebServer",
    "acquire_test_stack",
    "action_server_ready",
    "free_port",
    "inbox_ready",
    "load_secrets",
    "model_exists",
    "prepare_database",
    "private_files",
    "rasa_ready",
    "rasa_run_argv",
    "release_test_stack",
    "request_max_size",
    "train_if_stale",
]
