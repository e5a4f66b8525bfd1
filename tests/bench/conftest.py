"""The running stack the smoke run talks to: the test session's shared one (botstack.acquire_test_stack, the same
as tests/dialogue and tests/e2e use), started here if this suite runs first and kept up for the others."""

from __future__ import annotations

import pytest

import botstack


@pytest.fixture(scope="session")
def bench_stack(tmp_path_factory):
    if not botstack.RASA_BIN.exists():
        pytest.fail(".venv-rasa is missing: run `make venvs`")
    stack = botstack.acquire_test_stack(tmp_path_factory.mktemp("bot-stack"))
    yield stack
    botstack.release_test_stack()
