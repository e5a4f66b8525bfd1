"""Messaging channels (issue 16) against a real Rasa server on loopback and a stub of the platforms' APIs.

One stack for every channel test (session scope): started like tests/security's (``botstack.Settings.for_tests``
+ ``Stack``: the action server, Rasa with the trained model and credentials.yml), with every channel's variables
set and their API URLs pointing at ``ApiStub``. Updates are posted to the webhooks as the platforms post them
(payloads from their documentation, a source URL beside each); the tests assert on what the stub received.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import botstack
from tests.channels.channel_credentials import channel_env
from tests.channels.channel_support import ApiStub
from tests.dialogue.dialogue_client import SupportDatabase


@pytest.fixture(scope="session")
def api_stub():
    stub = ApiStub()
    yield stub
    stub.stop()


@pytest.fixture(scope="session")
def channel_stack(tmp_path_factory, api_stub):
    if not botstack.RASA_BIN.exists():
        pytest.fail(".venv-rasa is missing: run `make venvs`")
    settings = botstack.Settings.for_tests(
        tmp_path_factory.mktemp("channel-stack"),
        extra_env={**botstack.TEST_RATE_LIMITS, **channel_env(api_stub.url)},
    )
    stack = botstack.Stack(settings, echo=False, with_web=False)
    stack.start(timeout=900)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def rasa_url(channel_stack) -> str:
    return channel_stack.settings.rasa_url


@pytest.fixture(scope="session")
def support_db(channel_stack) -> SupportDatabase:
    return SupportDatabase(channel_stack.settings.database_url)


@pytest.fixture(scope="session")
def rasa_log(channel_stack) -> Path:
    return channel_stack.log_dir / "rasa.log"
