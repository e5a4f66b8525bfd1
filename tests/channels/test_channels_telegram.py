"""Telegram (chat_channels/telegram.py): updates posted as Telegram posts them, Bot API calls read from the stub.

Update payloads follow Telegram's documentation: the sample updates of "Testing your bot with updates"
(https://core.telegram.org/bots/webhooks#testing-your-bot-with-updates) and the Update, Message, CallbackQuery and
PhotoSize objects of the Bot API (https://core.telegram.org/bots/api#update); ids and texts are varied per test.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import stat
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from tests.channels.channel_credentials import CLIENT_HASH_KEY, ROOT, TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.dialogue.dialogue_client import Customer, asked

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
_update_ids = itertools.count(850_000_000)
_chat_ids = itertools.count(5_100_000_001)


def response(name: str) -> dict:
    return DOMAIN["responses"][name][0]


def text_update(chat_id: int, text: str, update_id: int | None = None, chat_type: str = "private") -> dict:
    # https://core.telegram.org/bots/webhooks#testing-your-bot-with-updates ("Message with text")
    return {
        "update_id": next(_update_ids) if update_id is None else update_id,
        "message": {
            "date": 1441645532,
            "chat": {
                "last_name": "Test Lastname",
                "id": chat_id,
                "type": chat_type,
                "first_name": "Test Firstname",
                "username": "Testusername",
            },
            "message_id": 1365,
            "from": {
                "last_name": "Test Lastname",
                "id": chat_id,
                "is_bot": False,
                "first_name": "Test Firstname",
                "username": "Testusername",
                "language_code": "en",
            },
            "text": text,
        },
    }


def callback_update(chat_id: int, data: str) -> dict:
    # https://core.telegram.org/bots/api#callbackquery: a button of an inline keyboard under the bot's message
    update_id = next(_update_ids)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"4382bfdwdsb323b2d9{update_id}",
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": "Test Firstname",
                "username": "Testusername",
                "language_code": "en",
            },
            "message": {
                "message_id": 1366,
                "date": 1441645540,
                "from": {"id": 123456789, "is_bot": True, "first_name": "Anker Support", "username": "bot"},
                "chat": {"id": chat_id, "type": "private", "first_name": "Test Firstname"},
                "text": "Which item is it about?",
            },
            "chat_instance": "-2887356174302123984",
            "data": data,
        },
    }


def photo_update(chat_id: int) -> dict:
    # https://core.telegram.org/bots/api#message (photo: array of PhotoSize, optional caption)
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": 1367,
            "date": 1441645550,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test Firstname"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Test Firstname"},
            "photo": [
                {
                    "file_id": "AgACAgQAAxkBAAIBY2Zz",
                    "file_unique_id": "AQADr7cxG1",
                    "file_size": 1254,
                    "width": 90,
                    "height": 67,
                },
                {
                    "file_id": "AgACAgQAAxkBAAIBY2Zy",
                    "file_unique_id": "AQADr7cxG2",
                    "file_size": 48213,
                    "width": 800,
                    "height": 600,
                },
            ],
            "caption": "the receipt",
        },
    }


class TelegramChat:
    """One Telegram user in a private chat with the bot."""

    def __init__(self, rasa_url: str, api_token: str, stub) -> None:
        self.chat_id = next(_chat_ids)
        self.url = f"{rasa_url}/webhooks/telegram/webhook"
        self.stub = stub
        self.customer = Customer(rasa_url, "", api_token, sender=f"tg-{self.chat_id}")

    def to_me(self, call) -> bool:
        body = call.json or {}
        return call.path.startswith("/telegram/") and body.get("chat_id") == self.chat_id

    def sent(self, call) -> bool:
        return self.to_me(call) and call.method in ("sendMessage", "sendPhoto")

    def post(self, update: dict, secret: str | None = TELEGRAM_SECRET) -> requests.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return requests.post(self.url, json=update, headers=headers, timeout=30)

    def turn(self, update: dict) -> list[dict]:
        """Post one update, wait for the turn's messages; the sendMessage/sendPhoto bodies."""
        mark = self.stub.mark()
        started = time.monotonic()
        answer = self.post(update)
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < 2.0, "the webhook must answer before the turn runs"
        return [c.json for c in self.stub.wait(mark, self.sent)]

    def says(self, text: str) -> list[dict]:
        return self.turn(text_update(self.chat_id, text))

    def presses(self, payload: str) -> list[dict]:
        return self.turn(callback_update(self.chat_id, payload))

    def user_events(self) -> list[dict]:
        return [e for e in self.customer.tracker()["events"] if e.get("event") == "user"]


def keyboard(buttons: list[dict]) -> dict:
    return {"inline_keyboard": [[{"text": b["title"], "callback_data": b["payload"]}] for b in buttons]}


def button_for(messages: list[dict], title: str) -> str:
    for message in messages:
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == title:
                    return button["callback_data"]
    raise AssertionError(f"no button {title!r} in {messages}")


@pytest.fixture
def chat(rasa_url, channel_stack, api_stub) -> TelegramChat:
    return TelegramChat(rasa_url, channel_stack.settings.secrets["RASA_API_TOKEN"], api_stub)


# ---- text, buttons, typing ------------------------------------------------------------------------------------------


def test_a_text_message_is_answered_through_the_bot_api_with_an_inline_keyboard(chat, api_stub):
    mark = api_stub.mark()
    sent = chat.says("hello")
    greet = response("utter_greet")
    assert sent == [{"chat_id": chat.chat_id, "text": greet["text"], "reply_markup": keyboard(greet["buttons"])}]
    calls = api_stub.calls(mark, chat.to_me)
    assert calls[0].method == "sendChatAction" and calls[0].json == {"chat_id": chat.chat_id, "action": "typing"}
    assert calls[0].path == f"/telegram/bot{TELEGRAM_TOKEN}/sendChatAction"
    (event,) = chat.user_events()
    assert event["text"] == "hello"
    assert event["input_channel"] == "telegram"
    client = hmac.new(CLIENT_HASH_KEY.encode(), f"telegram:{chat.chat_id}".encode(), hashlib.sha256).hexdigest()[:32]
    assert {k: v for k, v in event["metadata"].items() if k not in ("model_id", "assistant_id")} == {
        "client": client
    }, "the channel's only metadata is the keyed hash of the Telegram user (Rasa adds its model and assistant id)"


def test_a_pressed_button_is_handled_as_its_payload_and_answered(chat, api_stub):
    chat.says("hello")
    payload = button_for([{"reply_markup": keyboard(response("utter_greet")["buttons"])}], "Return an item")
    update = callback_update(chat.chat_id, payload)
    mark = api_stub.mark()
    sent = chat.turn(update)
    answered = api_stub.calls(mark, lambda c: c.method == "answerCallbackQuery")
    assert [c.json for c in answered if c.json.get("callback_query_id") == update["callback_query"]["id"]] == [
        {"callback_query_id": update["callback_query"]["id"]}
    ]
    assert chat.user_events()[-1]["text"] == "/request_return"
    asked(chat.customer, "order_number")
    assert sent[-1]["text"] == response("utter_ask_order_number")["text"]


# ---- exactly once ---------------------------------------------------------------------------------------------------


def test_a_redelivered_update_is_handled_once(chat, api_stub):
    update = text_update(chat.chat_id, "are you a bot?")
    mark = api_stub.mark()
    assert chat.post(update).status_code == 200
    assert chat.post(update).status_code == 200  # Telegram retries when it did not see our 200 in time
    api_stub.wait(mark, chat.sent)
    mark = api_stub.mark()
    assert chat.post(update).status_code == 200  # and again, later
    api_stub.nothing_sent(mark, chat.to_me)
    assert len([c for c in api_stub.calls(0, chat.to_me) if c.method == "sendChatAction"]) == 1
    assert len(chat.user_events()) == 1


def test_updates_arriving_together_are_all_handled_in_order(chat, api_stub):
    # Telegram sends one update per request, but a customer typing fast makes them arrive at once
    texts = ["hello", "are you a bot?", "I want to return my order"]
    mark = api_stub.mark()
    for text in texts:
        assert chat.post(text_update(chat.chat_id, text)).status_code == 200
    api_stub.wait(mark, lambda c: chat.to_me(c) and c.method == "sendChatAction", count=3)
    sent = api_stub.wait(mark, chat.sent, count=3)
    assert [e["text"] for e in chat.user_events()] == texts
    assert sent[0].json["text"] == response("utter_greet")["text"]
    assert sent[-1].json["text"] == response("utter_ask_order_number")["text"]


# ---- refused requests -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret", [None, "", "wrong-secret-of-the-same-shape-0123456789abcdefg", TELEGRAM_SECRET + "x"]
)
def test_a_request_without_the_secret_token_is_refused_and_nothing_happens(chat, api_stub, rasa_log, secret):
    marker = f"parcel {time.monotonic_ns()}"
    mark = api_stub.mark()
    answer = chat.post(text_update(chat.chat_id, marker), secret=secret)
    assert answer.status_code == 401
    api_stub.nothing_sent(mark, lambda c: c.path.startswith("/telegram/"))
    assert chat.user_events() == [], "nothing stored"
    log = rasa_log.read_text(encoding="utf-8", errors="replace")
    assert "telegram webhook refused: missing or wrong secret token" in log
    assert marker not in log and str(chat.chat_id) not in log


def test_a_verified_request_that_is_not_json_gets_400(chat):
    answer = requests.post(
        chat.url, data=b"{not json", timeout=30, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    )
    assert answer.status_code == 400


def test_a_message_over_the_limit_gets_a_polite_reply_and_is_not_parsed(chat):
    sent = chat.says("x" * 1001)
    assert sent == [
        {
            "chat_id": chat.chat_id,
            "text": "That message is too long for me (1000 characters at most). Could you say it in fewer words?",
        }
    ]
    assert chat.user_events() == []


def test_group_chats_are_ignored(chat, api_stub):
    mark = api_stub.mark()
    assert chat.post(text_update(chat.chat_id, "hello", chat_type="group")).status_code == 200
    api_stub.nothing_sent(mark, chat.to_me)


# ---- attachments ----------------------------------------------------------------------------------------------------


def document_update(chat_id: int, file_id: str, size: int, mime: str = "application/pdf") -> dict:
    # https://core.telegram.org/bots/api#document
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": 1368,
            "date": 1441645560,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test Firstname"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Test Firstname"},
            "document": {
                "file_name": "../../receipt.pdf",
                "mime_type": mime,
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": size,
            },
        },
    }


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x07" * 400
PDF = b"%PDF-1.4\n" + b"1 0 obj <<>> endobj\n" * 20


def upload_dir(channel_stack) -> Path:
    return Path(channel_stack.settings.child_env()["UPLOAD_DIR"])


def stored_for(channel_stack, conversation_id: str) -> list[dict]:
    directory = upload_dir(channel_stack)
    metas = [json.loads(p.read_text()) for p in directory.glob("*.json")] if directory.is_dir() else []
    return [m for m in metas if m["conversation_id"] == conversation_id]


def test_a_photo_is_downloaded_with_the_bots_token_and_stored_for_the_conversation(chat, api_stub, channel_stack):
    api_stub.files["AgACAgQAAxkBAAIBY2Zy"] = PNG  # the largest size of photo_update
    mark = api_stub.mark()
    sent = chat.turn(photo_update(chat.chat_id))
    assert [m["text"] for m in sent] == [response("utter_upload_kept")["text"]]
    get_file = api_stub.calls(mark, lambda c: c.method == "getFile")
    assert [c.json for c in get_file] == [{"file_id": "AgACAgQAAxkBAAIBY2Zy"}]
    downloads = api_stub.calls(mark, lambda c: "/file/bot" in c.path)
    assert [c.path for c in downloads] == [f"/telegram/file/bot{TELEGRAM_TOKEN}/files/AgACAgQAAxkBAAIBY2Zy"]
    [meta] = stored_for(channel_stack, f"tg-{chat.chat_id}")
    assert meta["content_type"] == "image/png" and meta["size"] == len(PNG) and meta["channel"] == "telegram"
    stored = upload_dir(channel_stack) / f"{meta['upload_id']}.bin"
    assert stored.read_bytes() == PNG and stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    [event] = chat.user_events()
    assert event["parse_data"]["intent"]["name"] == "upload_file"
    assert [e["value"] for e in event["parse_data"]["entities"]] == [meta["upload_id"]]


def test_a_file_declared_too_large_is_refused_before_downloading(chat, api_stub, channel_stack):
    mark = api_stub.mark()
    sent = chat.turn(document_update(chat.chat_id, "BQACAgQAAxkBAAIBZW", 50 * 1024 * 1024))
    assert len(sent) == 1 and "too large" in sent[0]["text"]
    assert not api_stub.calls(mark, lambda c: c.method == "getFile" or "/file/bot" in c.path)
    assert stored_for(channel_stack, f"tg-{chat.chat_id}") == [] and chat.user_events() == []


def test_a_file_that_is_not_a_photo_or_pdf_is_refused_by_its_bytes(chat, api_stub, channel_stack):
    api_stub.files["BQACAgQAAxkBAAIBZX"] = b"PK\x03\x04" + b"\x00" * 200  # a zip named receipt.pdf
    sent = chat.turn(document_update(chat.chat_id, "BQACAgQAAxkBAAIBZX", 204))
    assert len(sent) == 1 and "photo (JPEG, PNG, WebP, HEIC) or a PDF" in sent[0]["text"]
    assert stored_for(channel_stack, f"tg-{chat.chat_id}") == [] and chat.user_events() == []


def test_a_receipt_sent_on_telegram_moves_the_purchase_claim_on(chat, api_stub, channel_stack):
    api_stub.files["BQACAgQAAxkBAAIBZY"] = PDF
    chat.says("/bought_elsewhere")
    asked(chat.customer, "purchase_seller")
    for text in (
        "Best Buy",
        "Anker 737 Power Bank",
        (date.today() - timedelta(days=30)).strftime("%d %B %Y"),
        "149.99",
        "A1289X0000012345",
        "it stopped charging",
        "/affirm",
    ):
        chat.says(text)
    asked(chat.customer, "purchase_receipt")
    sent = chat.turn(document_update(chat.chat_id, "BQACAgQAAxkBAAIBZY", len(PDF)))
    assert any("received your receipt" in m["text"] for m in sent), sent
    asked(chat.customer, "purchase_photo")
    [meta] = stored_for(channel_stack, f"tg-{chat.chat_id}")
    assert meta["content_type"] == "application/pdf"
    assert chat.customer.slots()["purchase_receipt"] == meta["upload_id"]


# ---- a whole conversation with buttons ------------------------------------------------------------------------------


def test_a_return_over_telegram_verified_confirmed_with_a_case_number(chat, support_db):
    chat.says("I want to return my order")
    asked(chat.customer, "order_number")
    chat.says("AK1000003")
    asked(chat.customer, "email")
    sent = chat.says("emma.twenty@example.com")
    asked(chat.customer, "order_line")
    assert sent[-1]["text"] == "Which item is it about?"
    sent = chat.presses(sent[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"])  # line 1, the hub
    for _ in range(3):
        requested = chat.customer.slots().get("requested_slot")
        if requested is None:
            break
        answer = {"quantity": None, "item_condition": "Unopened", "quality_issue": "No"}[requested]
        sent = chat.says("1") if answer is None else chat.presses(button_for(sent, answer))
    texts = [m["text"] for m in sent]
    assert any(t.startswith("Return: approved (policy RET-1") for t in texts), texts
    assert sent[-1]["text"] == response("utter_confirm_return")["text"]
    assert [
        r for r in support_db.cases("return_cases", "AK1000003") if r["conversation_id"] == chat.customer.sender
    ] == [], "a preview writes nothing"

    sent = chat.presses(button_for(sent, "Yes"))
    texts = [m["text"] for m in sent]
    # opened here, or (after the Messenger test returned the same line) found again and not doubled
    case = re.search(
        r"(?:Done! Your case number is|You already have an open case for this:) (RET-\d{6})\.", " ".join(texts)
    )
    assert case, texts
    assert any(t.startswith(f"Case {case.group(1)}: return approved") for t in texts), texts
    rows = support_db.cases("return_cases", "AK1000003")
    assert [row["case_id"] for row in rows].count(case.group(1)) == 1


WARRANTY_ANSWERS = {
    "order_line": ("says", "1"),
    "serial_number": ("says", "I can't find it"),
    "defect": ("says", "it stopped charging, the screen stays black"),
    "defect_cause": ("presses", '/inform{"defect_cause":"quality"}'),
    "troubleshooting_done": ("presses", "/affirm"),
    "country_now": ("says", "United States"),
    "shipped_internationally": ("presses", "/deny"),
}


def test_a_warranty_claim_over_telegram_takes_the_photo_of_the_defect_WAR_7(chat, api_stub, support_db):
    """Issue 16, item 1 on a messaging channel: where WAR-7 asks for the photo, a Telegram photo is downloaded, stored
    and registered as the claim's defect evidence, then linked to the WAR- case."""
    chat.says("my power station stopped charging")
    asked(chat.customer, "order_number")
    chat.says("AK1000010")
    asked(chat.customer, "email")
    sent = chat.says("ava.solix@example.com")
    photo_sent = False
    for _ in range(12):
        requested = chat.customer.slots().get("requested_slot")
        if requested is None:
            break
        if requested == "evidence_provided":
            assert sent[-1]["text"] == response("utter_ask_evidence_provided")["text"]
            assert button_for(sent, "I don't have one") == "/deny"
            api_stub.files["AgACAgQAAxkBAAIBY2Zy"] = PNG
            sent = chat.turn(photo_update(chat.chat_id))
            assert sent[0]["text"] == response("utter_upload_received_photo")["text"], sent
            photo_sent = True
            continue
        how, answer = WARRANTY_ANSWERS[requested]
        sent = getattr(chat, how)(answer)
    assert photo_sent, "WAR-7: the bot asked for the photo of the defect"
    assert sent[-1]["text"] == response("utter_confirm_warranty")["text"], sent
    texts = [m["text"] for m in chat.presses("/affirm")]
    case = re.search(r"(WAR-\d{6})", " ".join(texts))
    assert case, texts
    rows = support_db.rows(
        "SELECT kind, channel, case_id FROM evidence WHERE conversation_id = ?", f"tg-{chat.chat_id}"
    )
    assert rows == [{"kind": "defect", "channel": "telegram", "case_id": case.group(1)}]


# ---- registering the webhook ----------------------------------------------------------------------------------------


def test_the_set_webhook_command_registers_the_secret_token(api_stub):
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": f"{api_stub.url}/telegram",
    }
    mark = api_stub.mark()
    done = subprocess.run(
        [sys.executable, "-m", "chat_channels.telegram_webhook", "https://bot.example.com/webhooks/telegram/webhook"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert TELEGRAM_TOKEN not in done.stdout + done.stderr
    (call,) = api_stub.calls(mark, lambda c: c.method == "setWebhook")
    assert call.path == f"/telegram/bot{TELEGRAM_TOKEN}/setWebhook"
    assert call.json == {
        "url": "https://bot.example.com/webhooks/telegram/webhook",
        "secret_token": TELEGRAM_SECRET,
        "allowed_updates": ["message", "callback_query"],
        "drop_pending_updates": False,
        "max_connections": 40,
    }


@pytest.mark.parametrize("secret", ["", "short", "has spaces in it and is long enough 0123456789"])
def test_the_set_webhook_command_refuses_a_bad_secret_or_url(api_stub, secret):
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "TELEGRAM_API_URL": f"{api_stub.url}/telegram",
    }
    mark = api_stub.mark()
    done = subprocess.run(
        [sys.executable, "-m", "chat_channels.telegram_webhook", "https://bot.example.com/x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    env["TELEGRAM_WEBHOOK_SECRET"] = TELEGRAM_SECRET
    done = subprocess.run(
        [sys.executable, "-m", "chat_channels.telegram_webhook", "http://bot.example.com/x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "https" in done.stderr
    assert api_stub.calls(mark, lambda c: c.method == "setWebhook") == []
