"""Slack (chat_channels/slack.py): Events API and interactivity requests signed as Slack signs them, Web API calls
read from the stub.

Payloads follow Slack's documentation, ids and texts varied per test:
- the event wrapper: https://api.slack.com/apis/connections/events-api#callback-field (now
  https://docs.slack.dev/apis/events-api/), message.im: https://api.slack.com/events/message.im
- url_verification: https://api.slack.com/events/url_verification
- block_actions: https://api.slack.com/reference/interaction-payloads/block-actions
- file_share: https://api.slack.com/events/message/file_share
- the signature: https://api.slack.com/authentication/verifying-requests-from-slack
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
import yaml

from tests.channels.channel_credentials import CLIENT_HASH_KEY, ROOT, SLACK_SIGNING_SECRET, SLACK_TOKEN
from tests.dialogue.dialogue_client import Customer, asked

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
TEAM = "T061EG9R6"
_users = itertools.count(1)
_events = itertools.count(1)


def response(name: str) -> dict:
    return DOMAIN["responses"][name][0]


def signed_headers(
    raw: bytes, secret: str = SLACK_SIGNING_SECRET, at: float | None = None, content_type: str = "application/json"
) -> dict:
    timestamp = str(int(time.time() if at is None else at))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": content_type}


def event_callback(event: dict) -> dict:
    # https://api.slack.com/apis/connections/events-api#callback-field
    return {
        "token": "XXYYZZ",
        "team_id": TEAM,
        "api_app_id": "A0MDYCDME",
        "event": event,
        "type": "event_callback",
        "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": "U0BOTUSER", "is_bot": True}],
        "event_id": f"Ev0PV52K{next(_events):05d}",
        "event_time": int(time.time()),
    }


class SlackUser:
    def __init__(self, rasa_url: str, api_token: str, stub) -> None:
        self.user = f"U0{next(_users):07d}X"
        self.channel = f"D0{next(_users):07d}Y"  # the app's direct-message channel with this user
        self.url = f"{rasa_url}/webhooks/slack/webhook"
        self.stub = stub
        self.customer = Customer(rasa_url, "", api_token, sender=f"sl-{TEAM}-{self.user}")

    def to_me(self, call) -> bool:
        return call.path.startswith("/slack/") and (call.json or {}).get("channel") == self.channel

    def message(self, text: str, **extra) -> dict:
        # https://api.slack.com/events/message.im
        return {
            "type": "message",
            "channel": self.channel,
            "user": self.user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "event_ts": f"{time.time():.6f}",
            "channel_type": "im",
            **extra,
        }

    def file_share(self) -> dict:
        # https://api.slack.com/events/message/file_share
        return self.message(
            "",
            subtype="file_share",
            files=[
                {
                    "id": "F0RDC39U1",
                    "name": "receipt.pdf",
                    "title": "receipt.pdf",
                    "mimetype": "application/pdf",
                    "filetype": "pdf",
                    "size": 41216,
                    "url_private": "https://files.slack.com/files-pri/T061EG9R6-F0RDC39U1/r",
                }
            ],
        )

    def click(self, value: str, title: str) -> dict:
        # https://api.slack.com/reference/interaction-payloads/block-actions
        return {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "anker-support"},
            "user": {"id": self.user, "username": "customer", "team_id": TEAM},
            "api_app_id": "A0MDYCDME",
            "token": "9s8d9as89d8as9d8as989",
            "container": {
                "type": "message",
                "message_ts": "1548261231.000200",
                "channel_id": self.channel,
                "is_ephemeral": False,
            },
            "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
            "channel": {"id": self.channel, "name": "directmessage"},
            "response_url": "https://hooks.slack.com/actions/A0MDYCDME/1232321423432/D09sSasdasdAS9091209",
            "actions": [
                {
                    "action_id": "choice-0",
                    "block_id": "=qXel",
                    "type": "button",
                    "value": value,
                    "text": {"type": "plain_text", "text": title, "emoji": True},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    def post_event(self, body: dict, **headers) -> requests.Response:
        raw = json.dumps(body).encode()
        return requests.post(self.url, data=raw, headers={**signed_headers(raw), **headers}, timeout=30)

    def post_click(self, payload: dict) -> requests.Response:
        raw = urlencode({"payload": json.dumps(payload)}).encode()
        return requests.post(
            self.url,
            data=raw,
            timeout=30,
            headers=signed_headers(raw, content_type="application/x-www-form-urlencoded"),
        )

    def wait(self, mark: int) -> list[dict]:
        return [c.json for c in self.stub.wait(mark, self.to_me)]

    def says(self, text: str) -> list[dict]:
        mark = self.stub.mark()
        answer = self.post_event(event_callback(self.message(text)))
        assert answer.status_code == 200, answer.text
        return self.wait(mark)

    def clicks(self, value: str, title: str = "") -> list[dict]:
        mark = self.stub.mark()
        assert self.post_click(self.click(value, title)).status_code == 200
        return self.wait(mark)

    def user_events(self) -> list[dict]:
        return [e for e in self.customer.tracker()["events"] if e.get("event") == "user"]


def buttons(sent: list[dict]) -> dict[str, str]:
    return {
        e["text"]["text"]: e["value"]
        for m in sent
        for b in m["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


def texts(sent: list[dict]) -> list[str]:
    return [m["text"] for m in sent]


@pytest.fixture
def slack(rasa_url, channel_stack, api_stub) -> SlackUser:
    return SlackUser(rasa_url, channel_stack.settings.secrets["RASA_API_TOKEN"], api_stub)


def test_the_url_verification_challenge_is_answered_only_when_signed(slack):
    # https://api.slack.com/events/url_verification
    body = {
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "type": "url_verification",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    }
    answer = slack.post_event(body)
    assert answer.status_code == 200 and answer.json() == {"challenge": body["challenge"]}
    unsigned = requests.post(slack.url, json=body, timeout=30)
    assert unsigned.status_code == 401 and body["challenge"] not in unsigned.text


def test_a_direct_message_is_answered_with_blocks_and_buttons(slack, api_stub):
    mark = api_stub.mark()
    sent = slack.says("hello")
    greet = response("utter_greet")
    assert sent == [
        {
            "channel": slack.channel,
            "text": greet["text"],
            "blocks": [
                {"type": "section", "text": {"type": "plain_text", "text": greet["text"], "emoji": True}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": f"choice-{i}",
                            "value": b["payload"],
                            "text": {"type": "plain_text", "text": b["title"], "emoji": True},
                        }
                        for i, b in enumerate(greet["buttons"])
                    ],
                },
            ],
        }
    ]
    calls = api_stub.calls(mark, slack.to_me)
    assert [c.path for c in calls] == ["/slack/api/chat.postMessage"]
    assert calls[0].headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    (event,) = slack.user_events()
    assert event["input_channel"] == "slack"
    client = hmac.new(CLIENT_HASH_KEY.encode(), f"slack:{TEAM}:{slack.user}".encode(), hashlib.sha256).hexdigest()
    assert {k: v for k, v in event["metadata"].items() if k not in ("model_id", "assistant_id")} == {
        "client": client[:32]
    }


def test_a_button_click_is_handled_as_its_value(slack):
    sent = slack.says("hello")
    sent = slack.clicks(buttons(sent)["Return an item"], "Return an item")
    assert slack.user_events()[-1]["text"] == "/request_return"
    asked(slack.customer, "order_number")
    assert texts(sent) == [response("utter_ask_order_number")["text"]]


def test_a_retried_event_is_handled_once(slack, api_stub):
    body = event_callback(slack.message("are you a bot?"))
    mark = api_stub.mark()
    assert slack.post_event(body).status_code == 200
    # Slack retries with the same event_id when it did not see our 200 within 3 seconds
    assert (
        slack.post_event(body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}).status_code == 200
    )
    slack.wait(mark)
    mark = api_stub.mark()
    assert (
        slack.post_event(body, **{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}).status_code == 200
    )
    api_stub.nothing_sent(mark, slack.to_me)
    assert len(slack.user_events()) == 1


def test_quick_messages_are_all_handled_in_order(slack, api_stub):
    said = ["hello", "are you a bot?", "I want to return my order"]
    mark = api_stub.mark()
    for text in said:
        assert slack.post_event(event_callback(slack.message(text))).status_code == 200
    api_stub.wait(mark, slack.to_me, count=3)
    assert [e["text"] for e in slack.user_events()] == said


@pytest.mark.parametrize("how", ["missing", "wrong secret", "five minutes old", "body changed"])
def test_a_bad_or_replayed_signature_is_refused_and_nothing_happens(slack, api_stub, rasa_log, how):
    marker = f"parcel {time.monotonic_ns()}"
    raw = json.dumps(event_callback(slack.message(marker))).encode()
    headers = {"Content-Type": "application/json"}
    if how == "wrong secret":
        headers = signed_headers(raw, secret=SLACK_SIGNING_SECRET[::-1])
    elif how == "five minutes old":
        headers = signed_headers(raw, at=time.time() - 301)  # a captured request, replayed later
    elif how == "body changed":
        headers = signed_headers(raw)
        raw = raw.replace(b"parcel", b"PARCEL")
    mark = api_stub.mark()
    answer = requests.post(slack.url, data=raw, headers=headers, timeout=30)
    assert answer.status_code == 401
    api_stub.nothing_sent(mark, lambda c: c.path.startswith("/slack/"))
    assert slack.user_events() == []
    log = rasa_log.read_text(encoding="utf-8", errors="replace")
    assert "slack webhook refused: missing, wrong or expired signature" in log
    assert marker not in log and slack.user not in log


def test_a_shared_file_is_downloaded_with_the_bot_token_and_stored(slack, api_stub, channel_stack):
    pdf = b"%PDF-1.4\n" + b"2 0 obj <<>> endobj\n" * 30
    api_stub.files["receipt.pdf"] = pdf
    event = slack.file_share()
    event["files"][0]["url_private_download"] = f"{api_stub.url}/slack/files-pri/T061EG9R6-F0RDC39U1/receipt.pdf"
    event["files"][0]["size"] = len(pdf)
    mark = api_stub.mark()
    assert slack.post_event(event_callback(event)).status_code == 200
    sent = slack.wait(mark)
    assert len(sent) == 1 and sent[0]["text"].startswith("Thanks, I've kept your file")
    [download] = api_stub.calls(mark, lambda c: "/files-pri/" in c.path)
    assert download.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    directory = Path(channel_stack.settings.child_env()["UPLOAD_DIR"])
    metas = [json.loads(p.read_text()) for p in directory.glob("*.json")]
    [meta] = [m for m in metas if m["conversation_id"] == f"sl-{TEAM}-{slack.user}"]
    assert meta["content_type"] == "application/pdf" and meta["channel"] == "slack"
    [user_event] = slack.user_events()
    assert user_event["parse_data"]["intent"]["name"] == "upload_file"


def test_a_file_on_another_host_is_not_fetched_with_the_token(slack, api_stub):
    event = slack.file_share()
    event["files"][0]["url_private"] = "https://evil.example/files-pri/steal"
    mark = api_stub.mark()
    assert slack.post_event(event_callback(event)).status_code == 200
    sent = slack.wait(mark)
    assert len(sent) == 1 and sent[0]["text"].startswith("Sorry, I couldn't get that file")
    assert not api_stub.calls(mark, lambda c: "/files-pri/" in c.path) and slack.user_events() == []


def test_channel_messages_bot_messages_and_edits_are_ignored(slack, api_stub):
    mark = api_stub.mark()
    for event in (
        slack.message("hello", channel_type="channel", channel="C0LAN2Q65"),
        slack.message("hello", bot_id="B0BOT", subtype="bot_message"),
        slack.message("hello", subtype="message_changed"),
    ):
        assert slack.post_event(event_callback(event)).status_code == 200
    api_stub.nothing_sent(mark, lambda c: c.path.startswith("/slack/"))
    assert slack.user_events() == []


def test_a_return_over_slack_verified_confirmed_with_a_case_number(slack, support_db):
    slack.says("I want to return my order")
    asked(slack.customer, "order_number")
    slack.says("AK1000003")
    asked(slack.customer, "email")
    sent = slack.says("emma.twenty@example.com")
    asked(slack.customer, "order_line")
    sent = slack.clicks(list(buttons(sent).values())[0])  # line 1, the hub
    for _ in range(3):
        requested = slack.customer.slots().get("requested_slot")
        if requested is None:
            break
        if requested == "quantity":
            sent = slack.says("1")
            continue
        sent = slack.clicks(buttons(sent)[{"item_condition": "Unopened", "quality_issue": "No"}[requested]])
    assert any(t.startswith("Return: approved (policy RET-1") for t in texts(sent)), sent
    assert texts(sent)[-1] == response("utter_confirm_return")["text"]
    sent = slack.clicks(buttons(sent)["Yes"])
    said = " ".join(texts(sent))
    # opened here, or (when another channel's test returned the same line first) found again and not doubled
    case = re.search(r"(?:Done! Your case number is|You already have an open case for this:) (RET-\d{6})\.", said)
    assert case, said
    assert f"Case {case.group(1)}: return approved" in said
    assert [row["case_id"] for row in support_db.cases("return_cases", "AK1000003")].count(case.group(1)) == 1
