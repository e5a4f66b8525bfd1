"""WhatsApp through Twilio (chat_channels/twilio_whatsapp.py): form posts signed as Twilio signs them, Messages API
calls read from the stub.

The request parameters follow Twilio's documentation of the incoming-message webhook
(https://www.twilio.com/docs/messaging/guides/webhook-request, WhatsApp fields: WaId, ProfileName, ButtonPayload;
media: NumMedia, MediaUrl0, MediaContentType0); the signature is computed here by hand as documented
(https://www.twilio.com/docs/usage/security#validating-requests: base64 HMAC-SHA1 of the URL followed by the sorted
parameters' names and values, keyed with the auth token), independently of the twilio library the channel uses.
"""

from __future__ import annotations

import base64
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

from tests.channels.channel_credentials import (
    CLIENT_HASH_KEY,
    ROOT,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_WEBHOOK_URL,
    TWILIO_WHATSAPP_NUMBER,
)
from tests.dialogue.dialogue_client import Customer, asked

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
_numbers = itertools.count(447700900001)
_sids = itertools.count(1)


def response(name: str) -> dict:
    return DOMAIN["responses"][name][0]


def keyed(text: str) -> str:
    return hmac.new(CLIENT_HASH_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def twilio_signature(url: str, params: dict[str, str], token: str = TWILIO_AUTH_TOKEN) -> str:
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class TwilioUser:
    def __init__(self, rasa_url: str, api_token: str, stub) -> None:
        self.digits = str(next(_numbers))
        self.address = f"whatsapp:+{self.digits}"
        self.url = f"{rasa_url}/webhooks/twilio_whatsapp/webhook"  # what Rasa sees; Twilio signs the public URL
        self.stub = stub
        self.customer = Customer(rasa_url, "", api_token, sender=f"wa-{keyed('whatsapp-conversation:' + self.digits)}")

    def to_me(self, call) -> bool:
        return call.path.startswith("/twilio/") and call.form.get("To") == self.address

    def params(self, body: str | None = "hello", **extra: str) -> dict[str, str]:
        # https://www.twilio.com/docs/messaging/guides/webhook-request
        sid = f"SM{next(_sids):032x}"
        params = {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ProfileName": "Alex",
            "MessageType": "text",
            "SmsSid": sid,
            "WaId": self.digits,
            "SmsStatus": "received",
            "To": TWILIO_WHATSAPP_NUMBER,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": TWILIO_ACCOUNT_SID,
            "From": self.address,
            "ApiVersion": "2010-04-01",
        }
        if body is not None:
            params["Body"] = body
        params.update(extra)
        return params

    def post(self, params: dict[str, str], signature: str | None = None) -> requests.Response:
        signature = twilio_signature(TWILIO_WEBHOOK_URL, params) if signature is None else signature
        return requests.post(
            self.url,
            data=urlencode(params),
            timeout=30,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )

    def turn(self, params: dict[str, str]) -> list[str]:
        mark = self.stub.mark()
        started = time.monotonic()
        answer = self.post(params)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
        assert answer.text.endswith("<Response></Response>"), "an empty TwiML: Twilio sends nothing itself"
        assert time.monotonic() - started < 2.0, "the webhook must answer before the turn runs"
        calls = self.stub.wait(mark, self.to_me)
        assert all(c.form["From"] == TWILIO_WHATSAPP_NUMBER for c in calls)
        return [c.form.get("Body", "") for c in calls]

    def says(self, text: str) -> list[str]:
        return self.turn(self.params(text))

    def user_events(self) -> list[dict]:
        return [e for e in self.customer.tracker()["events"] if e.get("event") == "user"]


def menu(buttons: list[dict], start: int = 1) -> str:
    return "\n".join([f"{n}. {b['title']}" for n, b in enumerate(buttons, start)] + ["Reply with a number."])


def number_of(bodies: list[str], title: str) -> str:
    found = re.search(rf"^(\d+)\. {re.escape(title)}$", "\n".join(bodies), re.MULTILINE)
    assert found, f"no option {title!r} in {bodies}"
    return found.group(1)


@pytest.fixture
def tw(rasa_url, channel_stack, api_stub) -> TwilioUser:
    return TwilioUser(rasa_url, channel_stack.settings.secrets["RASA_API_TOKEN"], api_stub)


def test_a_message_is_answered_through_the_messages_api_with_a_numbered_menu(tw, api_stub):
    mark = api_stub.mark()
    bodies = tw.says("hello")
    greet = response("utter_greet")
    assert bodies == [f"{greet['text']}\n\n{menu(greet['buttons'])}"]
    (call,) = api_stub.calls(mark, tw.to_me)
    assert call.path == f"/twilio/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json"
    expected_auth = base64.b64encode(f"{TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}".encode()).decode()
    assert call.headers["authorization"] == f"Basic {expected_auth}"
    (event,) = tw.user_events()
    assert event["input_channel"] == "twilio_whatsapp"
    assert {k: v for k, v in event["metadata"].items() if k not in ("model_id", "assistant_id")} == {
        "client": keyed(f"whatsapp:{tw.digits}")
    }


def test_a_number_or_a_title_from_the_menu_is_handled_as_the_buttons_payload(tw):
    bodies = tw.says("hello")
    tw.says(number_of(bodies, "Return an item"))
    assert tw.user_events()[-1]["text"] == "/request_return"
    asked(tw.customer, "order_number")
    tw.says("1")  # no menu is shown now: "1" is just text
    assert tw.user_events()[-1]["text"] == "1"


def test_a_template_quick_reply_button_is_handled_as_its_payload(tw):
    tw.turn(
        tw.params("Return an item", ButtonPayload="/request_return", ButtonText="Return an item", MessageType="button")
    )
    assert tw.user_events()[-1]["text"] == "/request_return"


def test_a_redelivered_message_is_handled_once(tw, api_stub):
    params = tw.params("are you a bot?")
    mark = api_stub.mark()
    assert tw.post(params).status_code == 200
    assert tw.post(params).status_code == 200
    api_stub.wait(mark, tw.to_me)
    mark = api_stub.mark()
    assert tw.post(params).status_code == 200  # also a captured request replayed later: the signature has no time
    api_stub.nothing_sent(mark, tw.to_me)
    assert len(tw.user_events()) == 1


@pytest.mark.parametrize("how", ["missing", "wrong token", "another url", "body changed"])
def test_a_bad_signature_is_refused_and_nothing_happens(tw, api_stub, rasa_log, how):
    marker = f"parcel {time.monotonic_ns()}"
    params = tw.params(marker)
    signature = {
        "missing": "",
        "wrong token": twilio_signature(TWILIO_WEBHOOK_URL, params, TWILIO_AUTH_TOKEN[::-1]),
        "another url": twilio_signature("https://evil.example.com/webhooks/twilio_whatsapp/webhook", params),
        "body changed": twilio_signature(TWILIO_WEBHOOK_URL, params),
    }[how]
    if how == "body changed":
        params["Body"] = marker.upper()
    mark = api_stub.mark()
    assert tw.post(params, signature=signature).status_code == 403
    api_stub.nothing_sent(mark, lambda c: c.path.startswith("/twilio/"))
    assert tw.user_events() == []
    log = rasa_log.read_text(encoding="utf-8", errors="replace")
    assert "twilio_whatsapp webhook refused: missing or wrong X-Twilio-Signature" in log
    assert marker not in log and tw.digits not in log


def media_params(tw, url: str) -> dict:
    return tw.params("", NumMedia="1", MessageType="image", MediaContentType0="image/jpeg", MediaUrl0=url)


def test_media_is_downloaded_with_the_accounts_basic_auth_and_stored(tw, api_stub, channel_stack):
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x06" * 400
    api_stub.files["ME5a7e3fd0a5d8c5ad7a8a8a1f1c1c1c1c"] = jpeg
    url = (
        f"{api_stub.url}/twilio/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/"
        "MM800f449d0399ed014aae2bcc0cc2f2ec/Media/ME5a7e3fd0a5d8c5ad7a8a8a1f1c1c1c1c"
    )
    mark = api_stub.mark()
    bodies = tw.turn(media_params(tw, url))
    assert len(bodies) == 1 and bodies[0].startswith("Thanks, I've kept your file")
    [download] = api_stub.calls(mark, lambda c: "/Media/" in c.path)
    assert (
        download.headers["authorization"]
        == "Basic " + base64.b64encode(f"{TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}".encode()).decode()
    )
    directory = Path(channel_stack.settings.child_env()["UPLOAD_DIR"])
    metas = [json.loads(p.read_text()) for p in directory.glob("*.json")]
    assert any(m["channel"] == "twilio_whatsapp" and m["content_type"] == "image/jpeg" for m in metas), metas


def test_media_elsewhere_is_not_fetched_with_the_accounts_credentials(tw, api_stub):
    mark = api_stub.mark()
    bodies = tw.turn(media_params(tw, "https://evil.example/2010-04-01/Media/x"))
    assert len(bodies) == 1 and bodies[0].startswith("Sorry, I couldn't get that file")
    assert not api_stub.calls(mark, lambda c: "/Media/" in c.path) and tw.user_events() == []


def test_messages_for_another_account_or_number_are_ignored(tw, api_stub):
    mark = api_stub.mark()
    assert tw.post(tw.params("hello", AccountSid="AC" + "1" * 32)).status_code == 200
    assert tw.post(tw.params("hello", To="whatsapp:+15005550006")).status_code == 200
    api_stub.nothing_sent(mark, tw.to_me)
    assert tw.user_events() == []


def test_a_return_over_twilio_verified_confirmed_with_a_case_number(tw, support_db):
    tw.says("I want to return my order")
    asked(tw.customer, "order_number")
    tw.says("AK1000003")
    asked(tw.customer, "email")
    bodies = tw.says("emma.twenty@example.com")
    asked(tw.customer, "order_line")
    bodies = tw.says("1")  # the first item of the numbered menu: the hub
    for _ in range(3):
        requested = tw.customer.slots().get("requested_slot")
        if requested is None:
            break
        if requested == "quantity":
            bodies = tw.says("1")
            continue
        bodies = tw.says(number_of(bodies, {"item_condition": "Unopened", "quality_issue": "No"}[requested]))
    assert any(b.startswith("Return: approved (policy RET-1") for b in bodies), bodies
    assert bodies[-1].startswith(response("utter_confirm_return")["text"])
    bodies = tw.says(number_of(bodies, "Yes"))
    said = " ".join(bodies)
    # opened here, or (when another channel's test returned the same line first) found again and not doubled
    case = re.search(r"(?:Done! Your case number is|You already have an open case for this:) (RET-\d{6})\.", said)
    assert case, said
    assert f"Case {case.group(1)}: return approved" in said
    assert [row["case_id"] for row in support_db.cases("return_cases", "AK1000003")].count(case.group(1)) == 1
