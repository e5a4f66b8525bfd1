"""No personal data in log lines (issue 12, finding 12): emails, order numbers, serials, tokens and message text.

``install()`` routes Python warnings into logging and puts ``MaskingFilter`` on every handler of the root logger,
so it sees every record that any logger propagates there: Rasa's own (its "Failed to parse arguments in line
'<message>'" warning, the REST channel's error log with the raw text, structlog's events, which Rasa routes through
the standard library), Sanic's, the action server's and ours. Called when a channel is built (inside Rasa) and when
the action server starts; never at import time. Standard library only, so both environments can use it.
"""

from __future__ import annotations

import logging
import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # message text quoted by Rasa's own log lines (the user's words may hold anything)
    (
        re.compile(r"((?:in line|user message|text)\s*[=:]?\s*)(['\"]).*?\2", re.IGNORECASE | re.DOTALL),
        r"\1'<message>'",
    ),
    (re.compile(r"(Continuing without\s).*"), r"\1<message>"),
    (re.compile(r"(['\"]?text['\"]?\s*:\s*)(['\"]).*?(?<!\\)\2", re.IGNORECASE | re.DOTALL), r"\1'<message>'"),
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "<token>"),
    (re.compile(r"(?i)(bearer\s+|token=)[^\s&'\"]+"), r"\1<token>"),
    (re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "<email>"),
    (re.compile(r"(?i)\bAK\s*-?\s*\d{7}\b"), "<order>"),
    (re.compile(r"\b[A-Z][A-Z0-9]{15}\b"), "<serial>"),
    (re.compile(r"\b[A-Za-z0-9_-]{40,}\b"), "<token>"),
)


def mask(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class MaskingFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with ``mask`` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: log it masked, as it stands
            message = str(record.msg)
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def install() -> None:
    """Mask every record that reaches the root logger's handlers (idempotent)."""
    logging.captureWarnings(True)  # Rasa's raise_warning() is warnings.warn: through logging, so through the filter
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
