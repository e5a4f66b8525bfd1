"""Rasa's lookup of an event class by its type name, with the classes listed once instead of on every event.

Why (issue 14, item 1; rasa 3.6.21 source): ``Event.resolve_by_type`` walks every subclass of ``Event``
(``rasa.shared.utils.common.all_subclasses``: the whole class tree, ``inspect.isabstract`` on each) for every event
it rebuilds: every event of the session when a turn loads its tracker, and every event an action-server answer
returns. In a py-spy profile of the serving benchmark that walk was 4-5 % of the Rasa server's busy samples
(2026-12-03, docs/bench.md, "What limits the serving figures").

``install()`` replaces it with a lookup in a table built once from the same walk, in the same order, keeping the
first class of each type name, which is the class Rasa's loop returns. A name that is not in the table (an event
class defined after the table was built, the legacy "topic", an unknown name) goes to Rasa's own method, so the
answer, the default and the error are Rasa's. Called when the server builds its tracker store
(``rasa_stores.tracker_store``), like ``action_results.install``; idempotent.
"""

from __future__ import annotations

from typing import Any

import rasa.shared.utils.common
from rasa.shared.core.events import Event

_ORIGINAL = Event.resolve_by_type
_TABLE: dict[str, Any] = {}


def _table() -> dict[str, Any]:
    if not _TABLE:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            _TABLE.setdefault(cls.type_name, cls)
    return _TABLE


def resolve_by_type(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type`` with the subclasses listed once (the same class, default and error)."""
    found = _table().get(type_name)
    if found is not None:
        return found
    return _ORIGINAL(type_name, default)


def install() -> None:
    Event.resolve_by_type = staticmethod(resolve_by_type)
