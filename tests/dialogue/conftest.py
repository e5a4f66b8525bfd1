"""Full conversations against the trained model, the real action server and a real SQLite support database.

One private stack per test session (botstack, shared with tests/e2e): free loopback ports, databases in a
temporary directory, the demo data loaded fresh at start (docs/demo-data.md). Trains only if no model exists at all
(``make test`` trains once before the suites). Each test talks as its own customer (unique sender id) and uses demo
orders no other test changes.
"""

from __future__ import annotations

import pytest

import botstack
from tests.dialogue.dialogue_client import Customer, SupportDatabase


@pytest.fixture(scope="session")
def bot_stack(tmp_path_factory):
    if not botstack.RASA_BIN.exists():
        pytest.fail(".venv-rasa is missing: run `make venvs`")
    stack = botstack.acquire_test_stack(tmp_path_factory.mktemp("bot-stack"))
    yield stack
    botstack.release_test_stack()


@pytest.fixture
def customer(bot_stack) -> Customer:
    """A new conversation with the running bot."""
    return Customer.of(bot_stack.settings)


@pytest.fixture(scope="session")
def support_db(bot_stack) -> SupportDatabase:
    return SupportDatabase(bot_stack.settings.database_url)
