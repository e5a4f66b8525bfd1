"""One private stack per test session, shared by the suites that run in one pytest process (tests/dialogue,
tests/e2e)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from botstack.paths import ROOT, WEBCHAT_BUNDLE
from botstack.prepare import model_exists, train_if_stale
from botstack.settings import Settings
from botstack.stack import Stack


@dataclass
class _Shared:
    stack: Stack | None = None
    users: int = 0


_shared = _Shared()


def acquire_test_stack(tmp_dir: Path) -> Stack:
    """Start (once per process) a private stack for tests; pair every call with ``release_test_stack()``.

    Trains first only if no model exists at all (``make test`` trains once before the suites). ``RASA_MODEL``
    picks another model file or directory. ``BOT_TEST_TIMEOUT``: seconds to wait for the servers (default 900;
    loading a model builds its TensorFlow graphs, which takes minutes on a busy 2-core machine).
    ``BOT_TEST_EXTERNAL=1`` uses a stack already running with the settings of the environment instead (fast
    iterations; it must have been seeded with the demo data just before).
    """
    if _shared.stack is None and os.environ.get("BOT_TEST_EXTERNAL") == "1":
        # a stack started by hand (e.g. `make run`, or scripts/run.py with other ports): its settings come from
        # the same variables (RASA_PORT, WEB_PORT, DATABASE_URL...); the tests write into its database
        _shared.stack = Stack(Settings.from_env(), external=True)
    if _shared.stack is None:
        model = os.environ.get("RASA_MODEL", "").strip() or str(ROOT / "models")
        if not model_exists(model):
            train_if_stale()
        settings = Settings.for_tests(Path(tmp_dir), models=model)
        stack = Stack(settings, echo=False, with_web=WEBCHAT_BUNDLE.is_file())
        stack.start(timeout=float(os.environ.get("BOT_TEST_TIMEOUT", "900")))
        _shared.stack = stack
    _shared.users += 1
    return _shared.stack


def release_test_stack() -> None:
    _shared.users -= 1
    if _shared.users <= 0 and _shared.stack is not None:
        _shared.stack.stop()
        _shared.stack = None
