"""The channel tests' fake credentials and the environment that turns every messaging channel on (a module of its
own, not conftest.py, so that test files import it by a name no other test folder uses)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

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
