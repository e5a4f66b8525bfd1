"""Messaging channels (issue 16) against a real Rasa server on loopback and a stub of the platforms' APIs.

One stack for every channel test (session scope): started like tests/security's (``botstack.Settings.for_tests``
+ ``Stack``: the action server, Rasa with the trained model and credentials.yml), with every channel's variables
set and their API URLs pointing at ``ApiStub``. Updates are posted to the webhooks as the platforms post them
(payloads from their documentation, a source URL beside each); the tests assert on what the stub received.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT, ROOT / "scripts", ROOT / "tests" / "dialogue", Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import botstack  # noqa: E402
from channel_support import ApiStub  # noqa: E402
from dialogue_client import SupportDatabase  # noqa: E402

#: fake credentials of the test bots (nothing here is a real secret)
TELEGRAM_TOKEN = "123456789:AAE-test-token-of-the-channel-tests-0123"
TELEGRAM_SECRET = "tg-webhook-secret-of-the-channel-tests_0123456789"
CLIENT_HASH_KEY = "channel-tests-client-hash-key-0123456789abcdef"
WHATSAPP_TOKEN = "EAAtest-whatsapp-system-user-token"
WHATSAPP_APP_SECRET = "0123456789abcdef0123456789abcdef"
WHATSAPP_VERIFY_TOKEN = "whatsapp-verify-token-of-the-channel-tests"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
MESSENGER_TOKEN = "EAAtest-messenger-page-access-token"
MESSENGER_APP_SECRET = "fedcba9876543210fedcba9876543210"
MESSENGER_VERIFY_TOKEN = "messenger-verify-token-of-the-channel-tests"
SLACK_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TWILIO_ACCOUNT_SID = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
TWILIO_AUTH_TOKEN = "12345678901234567890123456789012"
TWILIO_WHATSAPP_NUMBER = "whatsapp:+14155238886"
TWILIO_WEBHOOK_URL = "https://bot.example.com/webhooks/twilio_whatsapp/webhook"  # the public URL, behind a proxy


def channel_env(stub_url: str) -> dict[str, str]:
    """Every channel on, its API at the stub."""
    return {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": f"{stub_url}/telegram",
        "CLIENT_HASH_KEY": CLIENT_HASH_KEY,
        "WHATSAPP_ACCESS_TOKEN": WHATSAPP_TOKEN,
        "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
        "MESSENGER_PAGE_ACCESS_TOKEN": MESSENGER_TOKEN,
        "MESSENGER_APP_SECRET": MESSENGER_APP_SECRET,
        "MESSENGER_VERIFY_TOKEN": MESSENGER_VERIFY_TOKEN,
        "META_GRAPH_API_URL": f"{stub_url}/graph/v21.0",
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_API_URL": f"{stub_url}/slack/api",
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": TWILIO_WHATSAPP_NUMBER,
        "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
        "TWILIO_API_URL": f"{stub_url}/twilio",
    }


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
