"""The process-wide ``SupportService``, built on first use (never at import time).

``get_service()`` builds ``SupportService.from_env()`` (DATABASE_URL, POLICY_FILE) once, thread-safely.  Tests and
tools inject their own service with ``set_service()`` and drop it with ``reset_service()``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from policy_engine.service import SupportService

_lock = threading.Lock()
_service: SupportService | None = None


def get_service() -> SupportService:
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                from policy_engine.service import SupportService

                _service = SupportService.from_env()
    return _service


def set_service(service: SupportService) -> None:
    global _service
    with _lock:
        _service = service


def reset_service() -> None:
    set_service(None)  # type: ignore[arg-type]
