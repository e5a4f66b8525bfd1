"""Chatwoot (issue 17): this assistant as a Chatwoot agent bot, against a real Rasa on loopback and a stub of
Chatwoot's API (``ApiStub``).  Events are posted as Chatwoot posts them (its webhook payloads,
https://www.chatwoot.com/docs/product/others/webhook-events: ``message_created`` with the message, its sender and
the conversation with its status; ``conversation_status_changed``), signed as Chatwoot signs them
(``X-Chatwoot-Timestamp``, ``X-Chatwoot-Signature: sha256=HMAC(secret, "<timestamp>.<body>")``), as Chatwoot's own
``lib/webhooks/trigger.rb`` computes it (``OpenSSL::HMAC.hexdigest('SHA256', secret, "#{ts}.#{body}")``, pinned by
its ``spec/lib/webhooks/trigger_spec.rb``; github.com/chatwoot/chatwoot).

The stack's policy has the live chat open now (tests/support/handoff_policy.py): a request for a person opens the
conversation for Chatwoot's agents (a private note with the decisions, ``toggle_status`` open), the bot is silent
while the conversation is open, and setting it back to pending hands it back."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time

import pytest
import requests

import botstack
from tests.channels.channel_credentials import TELEGRAM_SECRET, channel_env
from tests.channels.test_channels_telegram import text_update
from tests.support.handoff_policy import live_chat_policy

SECRET = "chatwoot-webhook-secret-of-the-tests-0123"
BOT_TOKEN = "chatwoot-agent-bot-token-of-the-tests"
ACCOUNT = 3
_ids = itertools.count(1000)


@pytest.fixture(scope="module")
def chatwoot_stack(tmp_path_factory, api_stub):
    tmp = tmp_path_factory.mktemp("chatwoot-stack")
    env = {
        **botstack.TEST_RATE_LIMITS,
        **channel_env(api_stub.url),  # the messaging apps too: a paused Telegram chat below
        "POLICY_FILE": str(live_chat_policy(tmp, open_now=True)),
        "CHATWOOT_URL": f"{api_stub.url}/chatwoot",
        "CHATWOOT_BOT_TOKEN": BOT_TOKEN,
        "CHATWOOT_WEBHOOK_SECRET": SECRET,
    }
    stack = botstack.Stack(botstack.Settings.for_tests(tmp, extra_env=env), echo=False, with_web=False)
    stack.start(timeout=900)
    yield stack
    stack.stop()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """As Chatwoot signs a delivery (written here again, not imported from the channel under test)."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _message(conversation: int, text: str, *, status: str = "pending") -> dict:
    """A ``message_created`` event as Chatwoot posts it for a contact's message."""
    message_id = next(_ids)
    return {
        "event": "message_created",
        "id": message_id,
        "content": text,
        "created_at": "2026-12-03T10:00:00.000Z",
        "message_type": "incoming",
        "content_type": "text",
        "content_attributes": {},
        "source_id": None,
        "private": False,
        "sender": {"id": 42, "name": "Test Customer", "type": "contact"},
        "contact": {"id": 42, "name": "Test Customer"},
        "conversation": {"id": conversation, "inbox_id": 1, "status": status, "channel": "Channel::WebWidget"},
        "account": {"id": ACCOUNT, "name": "Store"},
        "inbox": {"id": 1, "name": "Website"},
    }


def _post(stack, event: dict, *, secret: str = SECRET, timestamp: int | None = None) -> requests.Response:
    body = json.dumps(event).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return requests.post(
        f"{stack.settings.rasa_url}/webhooks/chatwoot/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Chatwoot-Timestamp": ts,
            "X-Chatwoot-Signature": signature(secret, ts, body),
        },
        timeout=30,
    )


def _to(conversation: int, suffix: str = "messages"):
    path = f"/chatwoot/api/v1/accounts/{ACCOUNT}/conversations/{conversation}/{suffix}"
    return lambda call: call.path == path


def test_unsigned_stale_or_forged_events_are_refused_and_nothing_is_sent(chatwoot_stack, api_stub):
    mark = api_stub.mark()
    event = _message(501, "how many days do I have to return a product?")
    url = f"{chatwoot_stack.settings.rasa_url}/webhooks/chatwoot/webhook"
    assert requests.post(url, json=event, timeout=30).status_code == 401
    assert _post(chatwoot_stack, event, secret="not-the-secret-0123456789").status_code == 401
    assert _post(chatwoot_stack, event, timestamp=int(time.time()) - 3600).status_code == 401
    time.sleep(2)
    assert api_stub.calls(mark) == []


def test_the_bot_answers_through_the_messages_api(chatwoot_stack, api_stub):
    mark = api_stub.mark()
    event = _message(502, "how many days do I have to return a product?")
    assert _post(chatwoot_stack, event).status_code == 200
    assert _post(chatwoot_stack, event).status_code == 200  # a redelivery is handled once
    calls = api_stub.wait(mark, _to(502))
    assert len(calls) == 1 and calls[0].headers.get("api_access_token") == BOT_TOKEN
    body = calls[0].json
    assert body["message_type"] == "outgoing" and body["private"] is False and "30" in body["content"]


def test_a_person_takes_over_in_chatwoot_and_hands_back_CON_1(chatwoot_stack, api_stub):
    mark = api_stub.mark()
    assert _post(chatwoot_stack, _message(503, "I want to talk to a person")).status_code == 200
    toggled = api_stub.wait(mark, _to(503, "toggle_status"))
    assert toggled[0].json == {"status": "open"} and toggled[0].headers.get("api_access_token") == BOT_TOKEN
    messages = [c.json for c in api_stub.calls(mark, _to(503))]
    public = [m["content"] for m in messages if not m["private"]]
    notes = [m["content"] for m in messages if m["private"]]
    assert any("will join this chat" in text for text in public), public
    assert notes and notes[0].startswith("Handed over by the assistant (CON-1).") and "Not verified" in notes[0]

    # the conversation is open: an agent answers in Chatwoot, the bot stays silent
    quiet = api_stub.mark()
    assert _post(chatwoot_stack, _message(503, "hello? my parcel is damaged", status="open")).status_code == 200
    time.sleep(3)
    assert api_stub.calls(quiet, _to(503)) == []

    # the agent sets the conversation back to pending: the bot says so and answers again
    back = api_stub.mark()
    status_event = {"event": "conversation_status_changed", "id": 503, "status": "pending", "account": {"id": ACCOUNT}}
    assert _post(chatwoot_stack, status_event).status_code == 200
    handback = api_stub.wait(back, _to(503))
    assert "back with the assistant" in handback[0].json["content"]
    again = api_stub.mark()
    assert _post(chatwoot_stack, _message(503, "how many days do I have to return a product?")).status_code == 200
    answer = api_stub.wait(again, _to(503))
    assert "30" in answer[0].json["content"], answer[0].json


def test_a_paused_messaging_chat_is_silent_not_an_error(chatwoot_stack, api_stub):
    """While a person has the conversation, a Telegram customer's messages get no "something went wrong": the bot
    is paused on purpose (the agent inbox's replies reach the web chat only: docs/handoff.md)."""
    chat_id = 5_200_000_017
    url = f"{chatwoot_stack.settings.rasa_url}/webhooks/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    sent_to = lambda call: call.path.endswith("/sendMessage") and (call.json or {}).get("chat_id") == chat_id  # noqa: E731
    mark = api_stub.mark()
    assert (
        requests.post(url, json=text_update(chat_id, "I want to talk to a person"), headers=headers).status_code == 200
    )
    joined = api_stub.wait(mark, sent_to)
    assert any("will join this chat" in (c.json or {}).get("text", "") for c in joined), [c.json for c in joined]
    quiet = api_stub.mark()
    assert requests.post(url, json=text_update(chat_id, "hello?"), headers=headers, timeout=30).status_code == 200
    time.sleep(4)
    assert api_stub.calls(quiet, sent_to) == []
