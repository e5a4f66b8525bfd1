"""An agent's replies reach the customer on every channel (issue 17, item 2), against a real Rasa on loopback and the
platforms' API stub (``ApiStub``): Telegram, WhatsApp (Cloud API and Twilio), Messenger and Slack get the agent's
words and the hand back through their own send APIs, to the chat the customer wrote from; the REST channel, which
cannot push, returns them first in the answer to the customer's next message.

The agent side is the inbox's own client (``policy_engine.entrypoints.inbox_relay.RasaRelay``: the relay endpoint
with ``HANDOFF_RELAY_TOKEN``); the stack's policy has the live chat open now (tests/support/handoff_policy.py)."""

from __future__ import annotations

import time

import pytest
import requests

import botstack
from policy_engine.entrypoints.inbox_relay import RasaRelay
from tests.channels.channel_credentials import TELEGRAM_SECRET, TELEGRAM_TOKEN, TWILIO_WHATSAPP_NUMBER, channel_env
from tests.channels.test_channels_meta import MessengerUser, WhatsAppUser, fb_text, wa_text
from tests.channels.test_channels_slack import SlackUser
from tests.channels.test_channels_telegram import text_update
from tests.channels.test_channels_twilio import TwilioUser
from tests.dialogue.dialogue_client import Customer
from tests.support.handoff_policy import live_chat_policy

AGENT_TEXT = "Hi, this is Dana from support: I can see your order <b>AK1000003</b>."
JOINING = "will join this chat"
HANDBACK = "back with the assistant"


@pytest.fixture(scope="module")
def open_stack(tmp_path_factory, api_stub):
    tmp = tmp_path_factory.mktemp("agent-replies-stack")
    env = {
        **botstack.TEST_RATE_LIMITS,
        **channel_env(api_stub.url),
        "POLICY_FILE": str(live_chat_policy(tmp, open_now=True)),
    }
    stack = botstack.Stack(botstack.Settings.for_tests(tmp, extra_env=env), echo=False, with_web=False)
    stack.start(timeout=900)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def relay(open_stack) -> RasaRelay:
    secrets = open_stack.settings.secrets
    return RasaRelay(open_stack.settings.rasa_url, secrets["HANDOFF_RELAY_TOKEN"], secrets["RASA_API_TOKEN"])


def _api_token(stack) -> str:
    return stack.settings.secrets["RASA_API_TOKEN"]


def _agent_round(relay: RasaRelay, stub, conversation_id: str, to_me, expected: dict) -> None:
    """The agent writes, then hands back: the platform receives exactly ``expected`` (the agent's words), then the
    hand back; both through the channel's send API."""
    mark = stub.mark()
    assert relay.deliver(conversation_id, "any", AGENT_TEXT, "Dana") == "live"
    calls = stub.wait(mark, to_me)
    assert len(calls) == 1, [c.json or c.form for c in calls]
    assert (calls[0].json if calls[0].json is not None else calls[0].form) == expected
    back = stub.mark()
    assert relay.resume(conversation_id, "any") == "live"
    handback = stub.wait(back, to_me)
    assert HANDBACK in str(handback[0].json or handback[0].form)


def test_telegram_gets_the_agents_reply_and_the_hand_back(open_stack, api_stub, relay):
    chat_id = 5_200_000_117
    url = f"{open_stack.settings.rasa_url}/webhooks/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    to_me = lambda call: call.path.endswith("/sendMessage") and (call.json or {}).get("chat_id") == chat_id  # noqa: E731
    mark = api_stub.mark()
    update = text_update(chat_id, "I want to talk to a person")
    assert requests.post(url, json=update, headers=headers, timeout=30).status_code == 200
    assert any(JOINING in (c.json or {}).get("text", "") for c in api_stub.wait(mark, to_me))
    expected = {"chat_id": chat_id, "text": AGENT_TEXT}
    _agent_round(relay, api_stub, f"tg-{chat_id}", to_me, expected)
    assert api_stub.calls(mark, to_me)[-2].path == f"/telegram/bot{TELEGRAM_TOKEN}/sendMessage"
    # the bot answers again after the hand back
    again = api_stub.mark()
    asked = text_update(chat_id, "how many days do I have to return a product?")
    assert requests.post(url, json=asked, headers=headers, timeout=30).status_code == 200
    assert "30" in api_stub.wait(again, to_me)[0].json["text"]


def test_whatsapp_cloud_api_gets_the_agents_reply(open_stack, api_stub, relay):
    user = WhatsAppUser(open_stack.settings.rasa_url, _api_token(open_stack), api_stub)
    assert any(JOINING in str(m) for m in user.turn(wa_text(user.wa_id, "I want to talk to a person")))
    expected = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": user.wa_id,
        "type": "text",
        "text": {"body": AGENT_TEXT, "preview_url": False},
    }
    _agent_round(relay, api_stub, user.conversation_id, user.to_me, expected)


def test_whatsapp_through_twilio_gets_the_agents_reply(open_stack, api_stub, relay):
    user = TwilioUser(open_stack.settings.rasa_url, _api_token(open_stack), api_stub)
    assert any(JOINING in body for body in user.says("I want to talk to a person"))
    expected = {"From": TWILIO_WHATSAPP_NUMBER, "To": user.address, "Body": AGENT_TEXT}
    _agent_round(relay, api_stub, user.customer.sender, user.to_me, expected)


def test_messenger_gets_the_agents_reply(open_stack, api_stub, relay):
    user = MessengerUser(open_stack.settings.rasa_url, _api_token(open_stack), api_stub)
    assert any(JOINING in str(m) for m in user.turn(fb_text(user.psid, "I want to talk to a person")))
    expected = {"recipient": {"id": user.psid}, "messaging_type": "RESPONSE", "message": {"text": AGENT_TEXT}}
    _agent_round(relay, api_stub, f"fb-{user.psid}", user.sent, expected)


def test_slack_gets_the_agents_reply_in_the_customers_direct_messages(open_stack, api_stub, relay):
    user = SlackUser(open_stack.settings.rasa_url, _api_token(open_stack), api_stub)
    assert any(JOINING in str(m) for m in user.says("I want to talk to a person"))
    block = {"type": "section", "text": {"type": "plain_text", "text": AGENT_TEXT, "emoji": True}}
    expected = {"channel": user.channel, "text": AGENT_TEXT, "blocks": [block]}
    _agent_round(relay, api_stub, user.customer.sender, user.to_me, expected)


def test_rest_keeps_the_agents_replies_for_the_customers_next_answer(open_stack, api_stub, relay):
    """REST cannot push: the reply is ``kept`` and comes first in the answer to the customer's next message (while
    paused, that answer holds nothing else); the hand back likewise, and then the bot answers again."""
    customer = Customer.of(open_stack.settings)
    assert any(JOINING in (m.get("text") or "") for m in customer.says("I want to talk to a person").messages)
    mark = api_stub.mark()
    assert relay.deliver(customer.sender, "rest", AGENT_TEXT, "Dana") == "kept"
    assert relay.deliver(customer.sender, "rest", "Could you send me a photo?", "Dana") == "kept"
    waiting = customer.says("thanks, here it is")
    assert [m.get("text") for m in waiting.messages] == [AGENT_TEXT, "Could you send me a photo?"]
    assert customer.says("hello?").messages == []  # delivered once; the bot is still paused
    assert relay.resume(customer.sender, "rest") == "kept"
    after = customer.says("how many days do I have to return a product?")
    assert HANDBACK in after.messages[0]["text"] and "30" in " ".join(m.get("text") or "" for m in after.messages[1:])
    time.sleep(0.5)
    assert api_stub.calls(mark) == [], "nothing of a REST conversation goes to a messaging platform"
