"""Run by tests/dialogue/test_dialogue_endpoints.py inside .venv-rasa: reads endpoints.yml and credentials.yml the way
``rasa run`` does, for each environment given on stdin, builds the stores and channels, and uses them once.

stdin: JSON list of {"name": ..., "env": {...}, "unset": [...]}; stdout: one JSON object {name: result}.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # chat_channels comes from the project installed in .venv-rasa


async def probe(env: dict) -> dict:
    from rasa.core.channels.channel import UserMessage  # noqa: F401  (rasa import order)
    from rasa.core.lock_store import LockStore
    from rasa.core.run import create_http_input_channels
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    os.environ.update(env)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    result: dict = {
        "action_url": endpoints.action.url if endpoints.action else None,
        "action_headers": endpoints.action.headers if endpoints.action else None,
    }

    domain = Domain.from_yaml("version: '3.1'\nslots:\n  probe:\n    type: any\n    mappings: []\n")
    tracker_store = TrackerStore.create(endpoints.tracker_store, domain=domain)
    result["tracker_store"] = type(tracker_store).__name__
    from rasa.core.actions.action import RemoteAction

    # rasa_stores/action_results.py, installed by the tracker store: the answer schema checked once
    result["action_result_validation"] = RemoteAction._validate_action_result.__module__
    # rasa_stores/event_types.py, installed likewise: the event classes listed once, the same class for every name
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event
    from rasa.shared.core.events import SlotSet as Slot

    from rasa_stores import event_types

    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)} | {"topic"}
    result["event_lookup"] = Event.resolve_by_type.__module__
    result["event_lookup_differs"] = sorted(
        n
        for n in names
        for default in (None, Slot)
        if Event.resolve_by_type(n, default) is not event_types._ORIGINAL(n, default)
    )
    engine = getattr(tracker_store, "engine", None)
    result["tracker_dialect"] = engine.url.get_backend_name() if engine is not None else None
    tracker = DialogueStateTracker.from_events("probe-sender", [UserUttered("hi"), SlotSet("probe", "kept")])
    await tracker_store.save(tracker)
    restored = await tracker_store.retrieve("probe-sender")
    result["tracker_roundtrip"] = restored is not None and restored.get_slot("probe") == "kept"
    if engine is not None:  # more turns: does each open a new database connection (and its PRAGMAs)?
        import sqlalchemy as sa

        opened = []
        sa.event.listen(engine, "connect", lambda *_: opened.append(1))
        turns: DialogueStateTracker | None = DialogueStateTracker.from_events("probe-turns", [UserUttered("hi")])
        for turn in range(3):
            assert turns is not None
            turns.update(SlotSet("probe", f"turn {turn}"))
            await tracker_store.save(turns)
            turns = await tracker_store.retrieve("probe-turns")
        result["tracker_connections_opened"] = len(opened)
        result["tracker_last_slot"] = turns.get_slot("probe") if turns else None

    lock_store = LockStore.create(endpoints.lock_store)
    result["lock_store"] = type(lock_store).__name__
    async with lock_store.lock("probe-sender"):
        result["lock_held"] = lock_store.is_someone_waiting("probe-sender") in (True, False)
    result["lock_released"] = lock_store.get_lock("probe-sender") is None

    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    result["channels"] = sorted(f"{type(c).__module__}.{type(c).__name__}" for c in channels)
    result["rest_channel_on"] = any(getattr(c, "token", None) for c in channels if c.name() == "rest")
    result["socket_session_persistence"] = [
        getattr(c, "session_persistence", None) for c in channels if hasattr(c, "session_persistence")
    ]
    return result


def main() -> None:
    variants = json.load(sys.stdin)
    base_env = dict(os.environ)
    results = {}
    for variant in variants:
        os.environ.clear()
        os.environ.update(base_env)
        for name in variant.get("unset", []):
            os.environ.pop(name, None)
        try:
            results[variant["name"]] = asyncio.run(probe(variant["env"]))
        except Exception:  # reported to the test, which fails with the traceback
            results[variant["name"]] = {"error": traceback.format_exc()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
