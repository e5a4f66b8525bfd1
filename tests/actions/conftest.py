"""Action tests: rasa_sdk ``Tracker`` + ``CollectingDispatcher`` against a real SQLite store with the demo data.

* ``service``: a ``SupportService`` on a migrated SQLite file with the demo data and a fixed clock, installed as the
  action server's process-wide service (``actions.service.set_service``) for the test.
* ``domain``: domain.yml as the action server receives it.
* ``chat``: a ``Chat`` that keeps the slots between turns like Rasa does, runs one action per call and checks every
  message it dispatched: the response exists in domain.yml and every ``{placeholder}`` in it gets a value.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.service import reset_service, set_service
from policy_engine.store import make_engine
from tests.support.smtp import smtp_server  # noqa: F401 - a fixture of this folder (test_identity_step_up)
from tests.support.store import make_service, migrated_engine, row_counts, sqlite_url

ROOT = Path(__file__).resolve().parents[2]

DOMAIN_FILE = ROOT / "domain.yml"
PLACEHOLDER = re.compile(r"(?<!\{)\{([^\n{}]+?)\}(?!\})")


def load_domain() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return load_domain()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """Migrated once, with the demo data (dated from the fixed test clock); each test gets its own copy."""
    directory = tmp_path_factory.mktemp("template")
    with migrated_engine(sqlite_url(directory)) as eng:
        make_service(eng)
    return directory / "support.db"


@pytest.fixture
def engine(tmp_path, template_db):
    shutil.copyfile(template_db, tmp_path / "support.db")
    eng = make_engine(sqlite_url(tmp_path))
    yield eng
    eng.dispose()


@pytest.fixture
def service(engine):
    svc, _ = make_service(engine, demo=False)
    set_service(svc)
    yield svc
    reset_service()


@pytest.fixture
def counts(engine):
    """``counts()`` -> rows per table, to prove that nothing was written."""
    return lambda: row_counts(engine)


def placeholders(response: dict[str, Any]) -> set:
    """Template variables of one response variation: text, button titles and payloads."""
    parts = [response.get("text") or ""]
    for button in response.get("buttons") or []:
        parts += [str(button.get("title", "")), str(button.get("payload", ""))]
    return {name for part in parts for name in PLACEHOLDER.findall(part)}


class Chat:
    """One conversation: slots persist between turns; ``run`` executes one action like the Rasa server would."""

    def __init__(self, domain: dict[str, Any], sender_id: str = "test-conversation") -> None:
        self.domain = domain
        self.sender_id = sender_id
        self.slots: dict[str, Any] = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
        self.slots["requested_slot"] = None
        self.active_loop: str | None = None
        self.messages: list[dict[str, Any]] = []  # the last action's messages
        self.events: list[dict[str, Any]] = []  # the last action's events

    # ------------------------------------------------------------------------------------------------ trackers
    def tracker(
        self,
        new_slots: dict[str, Any] | None = None,
        intent: str = "inform",
        text: str = "",
        entities: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Tracker:
        """A tracker whose last events are the slots set this turn (what a form's validation action sees)."""
        new_slots = dict(new_slots or {})
        slots = {**self.slots, **new_slots}
        latest = {
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
            "text": text,
            **(extra or {}),
        }
        events = [{"event": "user", "text": text, "parse_data": latest}]
        events += [{"event": "slot", "name": k, "value": v} for k, v in new_slots.items()]
        return Tracker(
            self.sender_id,
            slots,
            latest,
            events,
            False,
            None,
            {"name": self.active_loop} if self.active_loop else {},
            "action_listen",
        )

    # ------------------------------------------------------------------------------------------------ running
    def run(self, action: Any, new_slots: dict[str, Any] | None = None, **message: Any) -> list[dict[str, Any]]:
        tracker = self.tracker(new_slots, **message)
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker, self.domain))
        self.slots.update(new_slots or {})
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.events, self.messages = events, dispatcher.messages
        self._check_messages(tracker)
        return events

    def _check_messages(self, tracker: Tracker) -> None:
        for message in self.messages:
            name = message.get("response")
            assert name, f"a message without a response name (text built in Python?): {message}"
            assert name in self.domain["responses"], f"{name} is not in domain.yml"
            if message.get("utter_parts"):  # several responses told as one message (actions/combine.py)
                assert message["utter_parts"][0] == name, message
                for part in message["utter_parts"]:
                    assert part in self.domain["responses"], f"{part} is not in domain.yml"
                unfilled = PLACEHOLDER.findall(message.get("text") or "")
                assert not unfilled, f"{message['utter_parts']}: no value for {unfilled}"
                continue
            given = (
                {k for k, v in message.items() if v is not None}
                | {k for k, v in self.slots.items() if v is not None}
                | {k for k, v in tracker.slots.items() if v is not None}
            )
            for variation in self.domain["responses"][name]:
                missing = placeholders(variation) - given
                assert not missing, f"{name}: no value for {sorted(missing)}"

    # ------------------------------------------------------------------------------------------------ reading
    @property
    def responses(self) -> list[str]:
        """Every response told, in order: the parts of a combined message each count (``actions/combine.py``)."""
        return [name for m in self.messages for name in (m.get("utter_parts") or [m.get("response")])]

    def message(self, response: str) -> dict[str, Any]:
        """The message that told ``response`` (alone, or as one part of a combined message)."""
        return next(m for m in self.messages if response in (m.get("utter_parts") or [m.get("response")]))

    def slot_events(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}


@pytest.fixture
def chat(domain) -> Chat:
    return Chat(domain)


@pytest.fixture
def new_chat(domain):
    return lambda sender_id="test-conversation": Chat(domain, sender_id)
