"""WhatsApp Business Cloud API and Messenger (chat_channels/meta.py): signed webhooks, Graph API calls at the stub.

Payloads follow Meta's documentation, ids and texts varied per test:
- WhatsApp: the messages webhook reference and payload examples (text, interactive button_reply / list_reply,
  image, statuses): https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples and
  https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/
- Messenger: the messages, messaging_postbacks and quick reply webhook events:
  https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages and
  https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_postbacks
- the signature: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.channels.channel_credentials import (
    CLIENT_HASH_KEY,
    MESSENGER_APP_SECRET,
    MESSENGER_TOKEN,
    MESSENGER_VERIFY_TOKEN,
    ROOT,
    WHATSAPP_APP_SECRET,
    WHATSAPP_PHONE_NUMBER_ID,
    WHATSAPP_TOKEN,
    WHATSAPP_VERIFY_TOKEN,
)
from tests.dialogue.dialogue_client import Customer, asked

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
ATTACHMENTS_NOT_YET = "Sorry, I can't receive photos or files on this channel yet."
_numbers = itertools.count(15550100001)
_ids = itertools.count(1)


def response(name: str) -> dict:
    return DOMAIN["responses"][name][0]


def sign(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def channel_metadata(event: dict) -> dict:
    """The user event's metadata as the channel gave it (Rasa adds its own model_id and assistant_id)."""
    return {k: v for k, v in event["metadata"].items() if k not in ("model_id", "assistant_id")}


def keyed(text: str) -> str:
    return hmac.new(CLIENT_HASH_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


# ---- WhatsApp payloads ---------------------------------------------------------------------------------------------


def wa_envelope(messages: list[dict], phone_number_id: str = WHATSAPP_PHONE_NUMBER_ID, contacts=None) -> dict:
    # https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#text-messages
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                            "contacts": contacts
                            or [{"profile": {"name": "Sheena Nelson"}, "wa_id": m["from"]} for m in messages],
                            "messages": messages,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def wa_text(wa_id: str, body: str) -> dict:
    return {
        "from": wa_id,
        "id": f"wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA{next(_ids)}=",
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": body},
    }


def wa_button_reply(wa_id: str, button_id: str, title: str) -> dict:
    # https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#reply-button
    return {
        "context": {"from": "15550783881", "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"},
        "from": wa_id,
        "id": f"wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQUZCMTY0MDc2MUYwNzBDNTY5MAA{next(_ids)}=",
        "timestamp": "1749854575",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }


def wa_list_reply(wa_id: str, row_id: str, title: str) -> dict:
    # https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#list-messages
    return {
        "context": {"from": "15550783881", "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBIzNjZDNzc3NjU2RjQ2QjQyOEEA"},
        "from": wa_id,
        "id": f"wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQUM0NUNFRkQ3NUE3NzA1QzRBMQA{next(_ids)}=",
        "timestamp": "1749854575",
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}},
    }


def wa_image(wa_id: str) -> dict:
    # https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#media-messages
    return {
        "from": wa_id,
        "id": f"wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTU5NjBBNEE3QjFDOUIyNDY3NgA{next(_ids)}=",
        "timestamp": "1744344496",
        "type": "image",
        "image": {
            "caption": "the receipt",
            "mime_type": "image/jpeg",
            "sha256": "SfInY0gKEp0Vmb5XmHKYPLlBEJ2mzL7h8ho8FJ6eULQ=",
            "id": "1003383421387256",
        },
    }


def wa_status(wa_id: str) -> dict:
    # https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#message-status-updates
    envelope = wa_envelope([])
    value = envelope["entry"][0]["changes"][0]["value"]
    del value["messages"], value["contacts"]
    value["statuses"] = [
        {
            "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI3MDZCRjY0RjRDNjMyNDgzOUUA",
            "status": "delivered",
            "timestamp": "1750030073",
            "recipient_id": wa_id,
            "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility"},
        }
    ]
    return envelope


class WhatsAppUser:
    def __init__(self, rasa_url: str, api_token: str, stub) -> None:
        self.wa_id = str(next(_numbers))
        self.url = f"{rasa_url}/webhooks/whatsapp/webhook"
        self.stub = stub
        self.conversation_id = f"wa-{keyed('whatsapp-conversation:' + self.wa_id)}"
        self.customer = Customer(rasa_url, "", api_token, sender=self.conversation_id)

    def to_me(self, call) -> bool:
        return call.path.startswith("/graph/") and (call.json or {}).get("to") == self.wa_id

    def post(self, body: dict, secret: str | None = WHATSAPP_APP_SECRET) -> requests.Response:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Hub-Signature-256"] = sign(raw, secret)
        return requests.post(self.url, data=raw, headers=headers, timeout=30)

    def turn(self, *messages: dict) -> list[dict]:
        mark = self.stub.mark()
        started = time.monotonic()
        answer = self.post(wa_envelope(list(messages)))
        assert answer.status_code == 200 and answer.text == "EVENT_RECEIVED"
        assert time.monotonic() - started < 2.0, "the webhook must answer before the turn runs"
        return [c.json for c in self.stub.wait(mark, self.to_me)]

    def says(self, text: str) -> list[dict]:
        return self.turn(wa_text(self.wa_id, text))

    def user_events(self) -> list[dict]:
        return [e for e in self.customer.tracker()["events"] if e.get("event") == "user"]


def wa_message(to: str, kind: str, content: dict) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content}


def choices(sent: list[dict]) -> dict[str, str]:
    """title -> id of the buttons or list rows in what WhatsApp received."""
    found = {}
    for message in sent:
        interactive = message.get("interactive") or {}
        for button in (interactive.get("action") or {}).get("buttons", []):
            found[button["reply"]["title"]] = button["reply"]["id"]
        for section in (interactive.get("action") or {}).get("sections", []):
            for row in section["rows"]:
                found[row["title"]] = row["id"]
    return found


@pytest.fixture
def wa(rasa_url, channel_stack, api_stub) -> WhatsAppUser:
    return WhatsAppUser(rasa_url, channel_stack.settings.secrets["RASA_API_TOKEN"], api_stub)


# ---- the handshake --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path,token", [("whatsapp", WHATSAPP_VERIFY_TOKEN), ("messenger", MESSENGER_VERIFY_TOKEN)])
def test_the_verify_token_handshake(rasa_url, path, token):
    # https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
    url = f"{rasa_url}/webhooks/{path}/webhook"
    ok = requests.get(
        url, params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token}, timeout=30
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    for params in (
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token + "x"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {"hub.mode": "unsubscribe", "hub.challenge": "1158201444", "hub.verify_token": token},
        {"hub.mode": "subscribe", "hub.challenge": "<script>", "hub.verify_token": token},
    ):
        refused = requests.get(url, params=params, timeout=30)
        assert refused.status_code == 403 and "1158201444" not in refused.text and "<script>" not in refused.text


# ---- WhatsApp -------------------------------------------------------------------------------------------------------


def test_whatsapp_text_is_answered_with_a_list_for_many_buttons(wa, api_stub):
    mark = api_stub.mark()
    message = wa_text(wa.wa_id, "hello")
    sent = wa.turn(message)
    greet = response("utter_greet")
    rows = [{"id": b["payload"], "title": b["title"]} for b in greet["buttons"]]
    assert sent == [
        wa_message(
            wa.wa_id,
            "interactive",
            {
                "type": "list",
                "body": {"text": greet["text"]},
                "action": {"button": "Choose", "sections": [{"title": "Options", "rows": rows}]},
            },
        )
    ]
    typing = api_stub.calls(mark, lambda c: c.path.startswith("/graph/") and (c.json or {}).get("status") == "read")
    assert [c.json for c in typing] == [
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message["id"],
            "typing_indicator": {"type": "text"},
        }
    ]
    calls = api_stub.calls(mark, wa.to_me)
    assert {c.path for c in calls + typing} == {f"/graph/v21.0/{WHATSAPP_PHONE_NUMBER_ID}/messages"}
    assert all(c.headers["authorization"] == f"Bearer {WHATSAPP_TOKEN}" for c in calls + typing)
    (event,) = wa.user_events()
    assert event["text"] == "hello" and event["input_channel"] == "whatsapp"
    assert channel_metadata(event) == {"client": keyed(f"whatsapp:{wa.wa_id}")}
    assert wa.wa_id not in json.dumps(wa.customer.tracker()), "the phone number is in no id and no event"


def test_whatsapp_list_reply_and_button_reply_are_handled_as_their_payload(wa):
    sent = wa.says("hello")
    sent = wa.turn(wa_list_reply(wa.wa_id, choices(sent)["Return an item"], "Return an item"))
    assert wa.user_events()[-1]["text"] == "/request_return"
    asked(wa.customer, "order_number")
    assert sent == [
        wa_message(wa.wa_id, "text", {"body": response("utter_ask_order_number")["text"], "preview_url": False})
    ]
    wa.turn(wa_button_reply(wa.wa_id, "/stop", "Stop"))
    assert wa.user_events()[-1]["text"] == "/stop"


def test_whatsapp_every_message_of_a_batch_is_handled(rasa_url, channel_stack, api_stub):
    token = channel_stack.settings.secrets["RASA_API_TOKEN"]
    first, second = WhatsAppUser(rasa_url, token, api_stub), WhatsAppUser(rasa_url, token, api_stub)
    body = wa_envelope([wa_text(first.wa_id, "hello"), wa_text(first.wa_id, "are you a bot?")])
    other = wa_envelope([wa_text(second.wa_id, "hello")])
    body["entry"].append(other["entry"][0])  # two entries, one with two messages
    mark = api_stub.mark()
    assert first.post(body).status_code == 200
    api_stub.wait(mark, first.to_me, count=2)
    api_stub.wait(mark, second.to_me)
    assert [e["text"] for e in first.user_events()] == ["hello", "are you a bot?"]
    assert [e["text"] for e in second.user_events()] == ["hello"]


def test_whatsapp_a_redelivered_message_is_handled_once(wa, api_stub):
    message = wa_text(wa.wa_id, "are you a bot?")
    mark = api_stub.mark()
    assert wa.post(wa_envelope([message])).status_code == 200
    assert wa.post(wa_envelope([message])).status_code == 200
    api_stub.wait(mark, wa.to_me)
    mark = api_stub.mark()
    assert wa.post(wa_envelope([message])).status_code == 200
    api_stub.nothing_sent(mark, wa.to_me)
    assert len(wa.user_events()) == 1


@pytest.mark.parametrize("how", ["missing", "wrong secret", "sha1 only", "body changed"])
def test_whatsapp_a_bad_signature_is_refused_and_nothing_happens(wa, api_stub, rasa_log, how):
    marker = f"parcel {time.monotonic_ns()}"
    body = wa_envelope([wa_text(wa.wa_id, marker)])
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if how == "wrong secret":
        headers["X-Hub-Signature-256"] = sign(raw, WHATSAPP_APP_SECRET[::-1])
    elif how == "sha1 only":
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(WHATSAPP_APP_SECRET.encode(), raw, hashlib.sha1).hexdigest()
    elif how == "body changed":
        headers["X-Hub-Signature-256"] = sign(raw, WHATSAPP_APP_SECRET)
        raw = raw.replace(b"parcel", b"PARCEL")
    mark = api_stub.mark()
    answer = requests.post(wa.url, data=raw, headers=headers, timeout=30)
    assert answer.status_code == 403
    api_stub.nothing_sent(mark, lambda c: c.path.startswith("/graph/"))
    assert wa.user_events() == []
    log = rasa_log.read_text(encoding="utf-8", errors="replace")
    assert "whatsapp webhook refused: missing or wrong X-Hub-Signature-256" in log
    assert marker not in log and wa.wa_id not in log


def test_whatsapp_an_image_is_downloaded_with_the_access_token_and_stored(wa, api_stub, channel_stack):
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x05" * 500
    api_stub.files["1003383421387256"] = jpeg
    mark = api_stub.mark()
    sent = wa.turn(wa_image(wa.wa_id))
    assert len(sent) == 1 and sent[0]["type"] == "text"
    assert sent[0]["text"]["body"].startswith("Thanks, I've kept your file")
    lookups = api_stub.calls(mark, lambda c: c.path.endswith("/1003383421387256") and "/media/" not in c.path)
    downloads = api_stub.calls(mark, lambda c: c.path == "/graph/media/1003383421387256")
    assert len(lookups) == 1 and len(downloads) == 1
    assert all(c.headers["authorization"] == f"Bearer {WHATSAPP_TOKEN}" for c in lookups + downloads)
    directory = Path(channel_stack.settings.child_env()["UPLOAD_DIR"])
    [meta] = [m for m in (json.loads(p.read_text()) for p in directory.glob("*.json")) if m["channel"] == "whatsapp"]
    assert meta["content_type"] == "image/jpeg" and (directory / f"{meta['upload_id']}.bin").read_bytes() == jpeg
    [event] = wa.user_events()
    assert event["parse_data"]["intent"]["name"] == "upload_file"


def test_whatsapp_a_voice_note_is_not_downloaded(wa, api_stub):
    voice = wa_image(wa.wa_id)
    voice["type"], voice["audio"] = "audio", voice.pop("image")
    mark = api_stub.mark()
    sent = wa.turn(voice)
    assert sent[0]["text"]["body"].startswith(ATTACHMENTS_NOT_YET)
    assert wa.user_events() == []
    assert not api_stub.calls(mark, lambda c: "1003383421387256" in c.path), "the media is not downloaded"


def test_whatsapp_statuses_and_other_numbers_are_ignored(wa, api_stub):
    mark = api_stub.mark()
    assert wa.post(wa_status(wa.wa_id)).status_code == 200
    assert wa.post(wa_envelope([wa_text(wa.wa_id, "hello")], phone_number_id="999999999")).status_code == 200
    api_stub.nothing_sent(mark, wa.to_me)
    assert wa.user_events() == []


def wa_bsuid_text(bsuid: str, body: str) -> dict:
    """An incoming text from a user with a username whose phone number Meta withholds: no ``from``, the sender's
    business-scoped user id in ``from_user_id`` and in ``contacts[].user_id``, no ``wa_id`` (Meta's "Business-scoped
    user IDs", incoming messages webhooks: https://developers.facebook.com/documentation/business-messaging/whatsapp/
    business-scoped-user-ids/ ; the fields per case as listed in https://dualhook.com/docs/contacts-bsuid-webhooks)."""
    return {
        "from_user_id": bsuid,
        "id": f"wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQkM1QjA3RjI1NDcxQjQyOUEwNQA{next(_ids)}=",
        "timestamp": "1775000000",
        "type": "text",
        "text": {"body": body},
    }


def test_whatsapp_a_user_without_a_phone_number_is_answered_by_bsuid(wa, api_stub):
    bsuid = f"US.{next(_numbers)}{next(_numbers)}"
    conversation_id = f"wa-{keyed('whatsapp-conversation:bsuid:' + bsuid)}"
    customer = Customer(wa.customer.rasa_url, "", wa.customer.api_token, sender=conversation_id)
    contacts = [{"profile": {"name": "Sheena Nelson", "username": "@sheena"}, "user_id": bsuid}]

    def to_bsuid(call) -> bool:
        return call.path.startswith("/graph/") and (call.json or {}).get("recipient") == bsuid

    mark = api_stub.mark()
    assert wa.post(wa_envelope([wa_bsuid_text(bsuid, "are you a bot?")], contacts=contacts)).status_code == 200
    sent = [c.json for c in api_stub.wait(mark, to_bsuid)]
    assert sent[0]["text"]["body"] == response("utter_iamabot")["text"]
    assert all("to" not in message for message in sent), "a BSUID goes in recipient, never in to"
    (event,) = [e for e in customer.tracker()["events"] if e.get("event") == "user"]
    assert event["text"] == "are you a bot?"
    assert channel_metadata(event) == {"client": keyed(f"whatsapp:bsuid:{bsuid}")}

    # only contacts[].user_id names the sender (no from_user_id): the same conversation
    message = wa_bsuid_text(bsuid, "hello")
    del message["from_user_id"]
    mark = api_stub.mark()
    assert wa.post(wa_envelope([message], contacts=contacts)).status_code == 200
    api_stub.wait(mark, to_bsuid)
    assert [e["text"] for e in customer.tracker()["events"] if e.get("event") == "user"][-1] == "hello"

    # something that is not a BSUID is no address: dropped, nothing sent
    mark = api_stub.mark()
    forged = wa_bsuid_text("../../me/messages", "hello")
    assert wa.post(wa_envelope([forged], contacts=[{"user_id": "../../me/messages"}])).status_code == 200
    api_stub.nothing_sent(mark, lambda c: c.path.startswith("/graph/") and "recipient" in (c.json or {}))


def test_a_return_over_whatsapp_verified_confirmed_with_a_case_number(wa, support_db):
    wa.says("I want to return my order")
    asked(wa.customer, "order_number")
    wa.says("AK1000003")
    asked(wa.customer, "email")
    sent = wa.says("emma.twenty@example.com")
    asked(wa.customer, "order_line")
    line_2 = list(choices(sent).values())[1]  # the cable (line 1, the hub, is returned over Telegram)
    sent = wa.turn(wa_button_reply(wa.wa_id, line_2, "cable"))
    for _ in range(3):
        requested = wa.customer.slots().get("requested_slot")
        if requested is None:
            break
        if requested == "quantity":
            sent = wa.says("1")
            continue
        title = {"item_condition": "Unopened", "quality_issue": "No"}[requested]
        sent = wa.turn(wa_button_reply(wa.wa_id, choices(sent)[title], title))
    texts = [m["text"]["body"] for m in sent if m["type"] == "text"]
    assert any(t.startswith("Return: approved (policy RET-1") for t in texts), sent
    assert sent[-1]["interactive"]["body"]["text"] == response("utter_confirm_return")["text"]
    assert set(choices(sent)) == {"Yes", "No"}

    sent = wa.turn(wa_button_reply(wa.wa_id, choices(sent)["Yes"], "Yes"))
    texts = [m["text"]["body"] for m in sent if m["type"] == "text"]
    case = re.search(r"Done! Your case number is (RET-\d{6})\.", " ".join(texts))
    assert case, sent
    assert any(t.startswith(f"Case {case.group(1)}: return approved") for t in texts), texts
    assert case.group(1) in [row["case_id"] for row in support_db.cases("return_cases", "AK1000003")]


# ---- Messenger ------------------------------------------------------------------------------------------------------

_psids = itertools.count(6_000_000_000_000_001)


def fb_envelope(*messaging: dict) -> dict:
    # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
    return {"object": "page", "entry": [{"id": "107331984378000", "time": 1458692752478, "messaging": list(messaging)}]}


def fb_text(psid: str, text: str, quick_reply: str | None = None) -> dict:
    message = {
        "mid": f"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_{next(_ids)}",
        "text": text,
    }
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    return {"sender": {"id": psid}, "recipient": {"id": "107331984378000"}, "timestamp": 1762902671, "message": message}


def fb_postback(psid: str, payload: str, title: str) -> dict:
    # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_postbacks
    return {
        "sender": {"id": psid},
        "recipient": {"id": "107331984378000"},
        "timestamp": 1527459824,
        "postback": {"mid": f"m_postback_{next(_ids)}", "title": title, "payload": payload},
    }


def fb_image(psid: str, url: str = "https://scontent.xx.fbcdn.net/a.jpg", kind: str = "image") -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": "107331984378000"},
        "timestamp": 1762902672,
        "message": {
            "mid": f"m_image_{next(_ids)}",
            "attachments": [{"type": kind, "payload": {"url": url}}],
        },
    }


def fb_echo(psid: str) -> dict:
    return {
        "sender": {"id": "107331984378000"},
        "recipient": {"id": psid},
        "timestamp": 1762902673,
        "message": {"is_echo": True, "app_id": 1517776481860111, "mid": f"m_echo_{next(_ids)}", "text": "hi"},
    }


class MessengerUser:
    def __init__(self, rasa_url: str, api_token: str, stub) -> None:
        self.psid = str(next(_psids))
        self.url = f"{rasa_url}/webhooks/messenger/webhook"
        self.stub = stub
        self.customer = Customer(rasa_url, "", api_token, sender=f"fb-{self.psid}")

    def to_me(self, call) -> bool:
        body = call.json or {}
        return call.path.startswith("/graph/") and (body.get("recipient") or {}).get("id") == self.psid

    def sent(self, call) -> bool:
        return self.to_me(call) and "message" in (call.json or {})

    def post(self, body: dict, secret: str | None = MESSENGER_APP_SECRET) -> requests.Response:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Hub-Signature-256"] = sign(raw, secret)
        return requests.post(self.url, data=raw, headers=headers, timeout=30)

    def turn(self, *messaging: dict) -> list[dict]:
        mark = self.stub.mark()
        answer = self.post(fb_envelope(*messaging))
        assert answer.status_code == 200 and answer.text == "EVENT_RECEIVED"
        return [c.json["message"] for c in self.stub.wait(mark, self.sent)]

    def user_events(self) -> list[dict]:
        return [e for e in self.customer.tracker()["events"] if e.get("event") == "user"]


@pytest.fixture
def fb(rasa_url, channel_stack, api_stub) -> MessengerUser:
    return MessengerUser(rasa_url, channel_stack.settings.secrets["RASA_API_TOKEN"], api_stub)


def test_messenger_text_is_answered_with_quick_replies_and_typing(fb, api_stub):
    mark = api_stub.mark()
    sent = fb.turn(fb_text(fb.psid, "hello"))
    greet = response("utter_greet")
    assert sent == [
        {
            "text": greet["text"],
            "quick_replies": [
                {
                    "content_type": "text",
                    "title": b["title"][:19] + "\u2026" if len(b["title"]) > 20 else b["title"],
                    "payload": b["payload"],
                }
                for b in greet["buttons"]
            ],
        }
    ]
    calls = api_stub.calls(mark, fb.to_me)
    assert calls[0].json == {"recipient": {"id": fb.psid}, "sender_action": "typing_on"}
    assert calls[1].json["messaging_type"] == "RESPONSE"
    assert {c.path for c in calls} == {"/graph/v21.0/me/messages"}
    assert all(c.headers["authorization"] == f"Bearer {MESSENGER_TOKEN}" for c in calls)
    (event,) = fb.user_events()
    assert event["input_channel"] == "messenger"
    assert channel_metadata(event) == {"client": keyed(f"messenger:{fb.psid}")}


def test_messenger_quick_replies_and_postbacks_are_handled_as_their_payload(fb):
    fb.turn(fb_text(fb.psid, "Return an item", quick_reply="/request_return"))
    assert fb.user_events()[-1]["text"] == "/request_return"
    asked(fb.customer, "order_number")
    fb.turn(fb_postback(fb.psid, "/stop", "Stop"))
    assert fb.user_events()[-1]["text"] == "/stop"


def test_messenger_every_event_of_a_batch_is_handled_and_echoes_are_not(rasa_url, channel_stack, api_stub):
    token = channel_stack.settings.secrets["RASA_API_TOKEN"]
    first, second = MessengerUser(rasa_url, token, api_stub), MessengerUser(rasa_url, token, api_stub)
    body = fb_envelope(fb_text(first.psid, "hello"), fb_echo(first.psid), fb_text(first.psid, "are you a bot?"))
    body["entry"].append(fb_envelope(fb_text(second.psid, "hello"))["entry"][0])
    mark = api_stub.mark()
    assert first.post(body).status_code == 200
    api_stub.wait(mark, first.sent, count=2)
    api_stub.wait(mark, second.sent)
    assert [e["text"] for e in first.user_events()] == ["hello", "are you a bot?"]
    assert [e["text"] for e in second.user_events()] == ["hello"]


def test_messenger_a_redelivered_message_is_handled_once(fb, api_stub):
    event = fb_text(fb.psid, "are you a bot?")
    mark = api_stub.mark()
    assert fb.post(fb_envelope(event)).status_code == 200
    assert fb.post(fb_envelope(event)).status_code == 200
    api_stub.wait(mark, fb.sent)
    mark = api_stub.mark()
    assert fb.post(fb_envelope(event)).status_code == 200
    api_stub.nothing_sent(mark, fb.to_me)
    assert len(fb.user_events()) == 1


@pytest.mark.parametrize("secret", [None, WHATSAPP_APP_SECRET])
def test_messenger_a_bad_signature_is_refused_and_nothing_happens(fb, api_stub, rasa_log, secret):
    marker = f"parcel {time.monotonic_ns()}"
    mark = api_stub.mark()
    assert fb.post(fb_envelope(fb_text(fb.psid, marker)), secret=secret).status_code == 403
    api_stub.nothing_sent(mark, lambda c: c.path.startswith("/graph/"))
    assert fb.user_events() == []
    log = rasa_log.read_text(encoding="utf-8", errors="replace")
    assert "messenger webhook refused: missing or wrong X-Hub-Signature-256" in log
    assert marker not in log


def test_messenger_an_image_is_downloaded_without_the_page_token_and_stored(fb, api_stub, channel_stack):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x03" * 300
    api_stub.files["fb-receipt-1"] = png
    mark = api_stub.mark()
    sent = fb.turn(fb_image(fb.psid, f"{api_stub.url}/graph/media/fb-receipt-1"))
    assert len(sent) == 1 and sent[0]["text"].startswith("Thanks, I've kept your file")
    [download] = api_stub.calls(mark, lambda c: c.path == "/graph/media/fb-receipt-1")
    assert "authorization" not in download.headers, "a signed CDN URL gets no credential"
    directory = Path(channel_stack.settings.child_env()["UPLOAD_DIR"])
    metas = [json.loads(p.read_text()) for p in directory.glob("*.json")]
    [meta] = [m for m in metas if m["conversation_id"] == f"fb-{fb.psid}"]
    assert meta["content_type"] == "image/png" and meta["channel"] == "messenger"


def test_messenger_an_attachment_on_another_host_or_a_video_is_not_downloaded(fb, api_stub):
    mark = api_stub.mark()
    sent = fb.turn(fb_image(fb.psid, "https://evil.example/a.jpg"))
    assert len(sent) == 1 and sent[0]["text"].startswith("Sorry, I couldn't get that file")
    sent = fb.turn(fb_image(fb.psid, f"{api_stub.url}/graph/media/fb-video", kind="video"))
    assert len(sent) == 1 and sent[0]["text"].startswith(ATTACHMENTS_NOT_YET)
    assert not api_stub.calls(mark, lambda c: "/graph/media/" in c.path) and fb.user_events() == []


def test_a_return_over_messenger_verified_confirmed_with_a_case_number(fb, support_db):
    # AK1000003's two lines are returned over Telegram and WhatsApp; here its case is found again, not doubled,
    # or (run alone) opened
    fb.turn(fb_text(fb.psid, "I want to return my order"))
    asked(fb.customer, "order_number")
    fb.turn(fb_text(fb.psid, "AK1000003"))
    asked(fb.customer, "email")
    sent = fb.turn(fb_text(fb.psid, "emma.twenty@example.com"))
    asked(fb.customer, "order_line")
    first_line = sent[-1]["quick_replies"][0]
    sent = fb.turn(fb_text(fb.psid, first_line["title"], quick_reply=first_line["payload"]))
    for _ in range(3):
        requested = fb.customer.slots().get("requested_slot")
        if requested is None:
            break
        if requested == "quantity":
            sent = fb.turn(fb_text(fb.psid, "1"))
            continue
        title = {"item_condition": "Unopened", "quality_issue": "No"}[requested]
        (reply,) = [q for q in sent[-1]["quick_replies"] if q["title"] == title]
        sent = fb.turn(fb_text(fb.psid, title, quick_reply=reply["payload"]))
    assert sent[-1]["text"] == response("utter_confirm_return")["text"]
    yes = [q for q in sent[-1]["quick_replies"] if q["title"] == "Yes"][0]
    sent = fb.turn(fb_text(fb.psid, "Yes", quick_reply=yes["payload"]))
    texts = " ".join(m["text"] for m in sent)
    case = re.search(r"(?:Done! Your case number is|You already have an open case for this:) (RET-\d{6})\.", texts)
    assert case, texts
    assert f"Case {case.group(1)}: return approved" in texts
    assert [row["case_id"] for row in support_db.cases("return_cases", "AK1000003")].count(case.group(1)) == 1
