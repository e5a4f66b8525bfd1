"""Each messaging channel is off (404) without its variables and refuses to start with only some of them.

A bare ``rasa run`` (credentials.yml, no model: it comes up in seconds) per case, with the environment of a test
stack and the channel variables under test; nothing else of the stack is needed to see the channels' state.
"""

from __future__ import annotations

import pytest
import requests

import botstack
from tests.channels.channel_credentials import ROOT, TELEGRAM_SECRET, channel_env
from tests.channels.channel_support import BareRasa

CHANNEL_VARIABLES = set(channel_env("http://stub"))
SLOW_DOWN = "You're sending messages faster than I can answer. Please wait a moment and try again."
NO_ANSWER = (
    "Sorry, something went wrong on our side and I couldn't answer that. Please try again in a minute; "
    "nothing you told me is lost."
)
WEBHOOKS = ("telegram", "whatsapp", "messenger", "slack", "twilio_whatsapp")


def environment(tmp_path, **channel_vars: str) -> dict[str, str]:
    settings = botstack.Settings.for_tests(tmp_path).with_secrets()
    env = {k: v for k, v in settings.child_env().items() if k not in CHANNEL_VARIABLES}
    env.update(channel_vars)
    return env


def test_without_their_variables_the_channels_are_off_and_answer_404(tmp_path):
    rasa = BareRasa(ROOT, environment(tmp_path), botstack.free_port(), tmp_path / "rasa.log")
    try:
        assert rasa.wait_up(), rasa.log()[-3000:]
        for name in WEBHOOKS:
            url = f"{rasa.url}/webhooks/{name}/webhook"
            assert requests.post(url, json={"update_id": 1}, timeout=10).status_code == 404, name
            assert requests.get(
                url, params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "x"}, timeout=10
            ).status_code in (404, 405), name
        log = rasa.log()
        for label in ("Telegram", "WhatsApp", "Messenger", "Slack", "Twilio WhatsApp"):
            assert f"{label} channel off" in log
    finally:
        rasa.stop()


@pytest.mark.parametrize(
    "channel_vars,named",
    [
        ({"TELEGRAM_BOT_TOKEN": "123456789:AAE-token"}, ["TELEGRAM_WEBHOOK_SECRET"]),
        ({"TELEGRAM_WEBHOOK_SECRET": "s" * 40}, ["TELEGRAM_BOT_TOKEN"]),
        (
            {"TELEGRAM_BOT_TOKEN": "123456789:AAE-token", "TELEGRAM_WEBHOOK_SECRET": "short"},
            ["TELEGRAM_WEBHOOK_SECRET must be 32-256 characters"],
        ),
        (
            {"WHATSAPP_ACCESS_TOKEN": "EAA-token", "WHATSAPP_APP_SECRET": "a" * 32, "WHATSAPP_VERIFY_TOKEN": "v" * 32},
            ["WHATSAPP_PHONE_NUMBER_ID"],
        ),
        ({"MESSENGER_PAGE_ACCESS_TOKEN": "EAA-token"}, ["MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN"]),
        (
            {
                "MESSENGER_PAGE_ACCESS_TOKEN": "EAA-token",
                "MESSENGER_APP_SECRET": "a" * 32,
                "MESSENGER_VERIFY_TOKEN": "v",
            },
            ["MESSENGER_VERIFY_TOKEN must be at least 32 characters"],
        ),
        ({"SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"}, ["SLACK_BOT_TOKEN"]),
        (
            {
                "TWILIO_ACCOUNT_SID": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                "TWILIO_AUTH_TOKEN": "12345678901234567890123456789012",
                "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
            },
            ["TWILIO_WEBHOOK_URL"],
        ),
    ],
    ids=[
        "telegram-no-secret",
        "telegram-no-token",
        "telegram-short-secret",
        "whatsapp-no-phone-id",
        "messenger-token-only",
        "messenger-short-verify-token",
        "slack-no-token",
        "twilio-no-webhook-url",
    ],
)
def test_with_some_but_not_all_variables_rasa_refuses_to_start(tmp_path, channel_vars, named):
    rasa = BareRasa(ROOT, environment(tmp_path, **channel_vars), botstack.free_port(), tmp_path / "rasa.log")
    try:
        assert rasa.wait_exit() != 0
        log = rasa.log()
        for text in named:
            assert text in log, log[-3000:]
        for value in channel_vars.values():
            assert len(value) < 8 or value not in log, "no secret in the log"
    finally:
        rasa.stop()


def test_over_the_rate_limit_the_customer_gets_the_polite_reply_on_their_platform(tmp_path, api_stub):
    """RATE_LIMIT_CONVERSATION=2/minute: the third message in a minute is answered "slow down" and not handled. (A
    bare Rasa has no model: a handled message gets the "something went wrong" reply, which tells them apart.)"""
    env = environment(tmp_path, **channel_env(api_stub.url), RATE_LIMIT_CONVERSATION="2/minute")
    rasa = BareRasa(ROOT, env, botstack.free_port(), tmp_path / "rasa.log")
    try:
        assert rasa.wait_up(), rasa.log()[-3000:]
        chat_id = 5_950_000_001
        mark = api_stub.mark()
        for update_id in (91_000_001, 91_000_002, 91_000_003):
            update = {
                "update_id": update_id,
                "message": {  # https://core.telegram.org/bots/api#message
                    "message_id": update_id,
                    "date": 1441645532,
                    "text": "hello",
                    "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
                    "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
                },
            }
            answer = requests.post(
                f"{rasa.url}/webhooks/telegram/webhook",
                json=update,
                timeout=30,
                headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            )
            assert answer.status_code == 200
        mine = lambda c: (c.json or {}).get("chat_id") == chat_id and c.method == "sendMessage"  # noqa: E731
        sent = [c.json["text"] for c in api_stub.wait(mark, mine, count=3)]
        assert sent == [NO_ANSWER, NO_ANSWER, SLOW_DOWN]
    finally:
        rasa.stop()
