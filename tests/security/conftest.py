"""The attack suite (issue 12): every finding replayed against real servers on loopback.

``secure_stack`` is a private stack started exactly as ``make run`` starts it (botstack: the action
server, Rasa with its API token and channels, the chat page), with the production rate limits rather than the
generous ones of the dialogue tests, and ``TRUST_PROXY=1`` as behind nginx, so that each test can play a different
client address with ``X-Forwarded-For``. An attack that once worked stays here.
"""

from __future__ import annotations

import pytest

import botstack
from tests.dialogue.dialogue_client import Customer, SupportDatabase, new_address
from tests.support.smtp import running_smtp


@pytest.fixture(scope="session")
def mailbox():
    """A real SMTP server on loopback: where the stack mails its one-time codes (RET-4 step-up)."""
    with running_smtp() as inbox:
        yield inbox


@pytest.fixture(scope="session")
def secure_stack(tmp_path_factory, mailbox):
    if not botstack.RASA_BIN.exists():
        pytest.fail(".venv-rasa is missing: run `make venvs`")
    env = {
        "TRUST_PROXY": "1",
        "SMTP_HOST": mailbox.host,
        "SMTP_PORT": str(mailbox.port),
        "SMTP_FROM": "support@store.example",
    }
    settings = botstack.Settings.for_tests(tmp_path_factory.mktemp("secure-stack"), extra_env=env)
    stack = botstack.Stack(settings, echo=False, with_web=botstack.WEBCHAT_BUNDLE.is_file())
    stack.start(timeout=900)
    yield stack
    stack.stop()


@pytest.fixture
def settings(secure_stack) -> botstack.Settings:
    return secure_stack.settings


@pytest.fixture
def customer(settings) -> Customer:
    """A customer of their own, from an address of their own."""
    return Customer.of(settings, forwarded_for=new_address())


@pytest.fixture
def support_db(settings) -> SupportDatabase:
    return SupportDatabase(settings.database_url)
