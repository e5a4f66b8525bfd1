"""Where the stack's files and interpreters are, the environment every child gets, and the stack's error.

The paths are those of the checkout this package is in (the project is installed editable: pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
ENGINE_PYTHON = ROOT / ".venv-engine" / "bin" / "python"
WEB_DIR = ROOT / "web"
WEBCHAT_BUNDLE = WEB_DIR / "static" / "vendor" / "rasa-webchat.js"

CHILD_UMASK = 0o077

# Quiet, offline Rasa: no telemetry calls home, no SQLAlchemy 2.0 banner from Rasa's tracker store.
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONUNBUFFERED": "1",
}


class StackError(RuntimeError):
    """A process of the stack could not be prepared or did not come up; the message says which and why."""
