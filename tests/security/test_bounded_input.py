"""Findings 7, 8 and 11: no size limits, no rate limits, malformed requests answered with tracebacks.

Replayed: a 1 MB message and a 10 MB body; an empty body, a JSON array, a message that is a number, a list or an
object; no sender (which used to share the conversation ``"default"``); a 1 MB sender id; one client flooding.
Each gets a clear, bounded answer, nothing is parsed or stored, and another customer is still answered.
(The flood's effect on another customer's latency is measured by ``scripts/flood_bench.py``, not timed here.)
"""

from __future__ import annotations

import pytest
import requests

from tests.dialogue.dialogue_client import Customer, new_address

MB = 1024 * 1024


def post(settings, body: bytes | None = None, *, json_body=None, address: str | None = None) -> requests.Response:
    headers = {
        "Authorization": f"Bearer {settings.secrets['REST_CHANNEL_TOKEN']}",
        "X-Forwarded-For": address or new_address(),
    }
    if json_body is not None:
        return requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", json=json_body, headers=headers, timeout=60)
    headers["Content-Type"] = "application/json"
    return requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", data=body, headers=headers, timeout=60)


def events(settings, sender: str) -> list:
    response = requests.get(
        f"{settings.rasa_url}/conversations/{sender}/tracker",
        params={"token": settings.secrets["RASA_API_TOKEN"]},
        timeout=30,
    )
    return [e for e in response.json().get("events") or [] if e.get("event") == "user"]


def test_a_long_message_gets_a_polite_answer_and_is_not_parsed(settings):
    sender = "long-message"
    response = post(settings, json_body={"sender": sender, "message": "x" * MB})
    assert response.status_code == 413, "over the body limit: refused by the server before it is read"
    assert "Traceback" not in response.text
    response = post(settings, json_body={"sender": sender, "message": "x" * 5000})
    assert response.status_code == 413
    assert "too long" in response.json()["error"]
    just_over = post(settings, json_body={"sender": sender, "message": "y" * 1001})
    assert just_over.status_code == 413 and "1000 characters" in just_over.json()["error"]
    assert events(settings, sender) == [], "nothing was parsed or stored"
    at_limit = post(settings, json_body={"sender": sender, "message": "hello " + "z" * 994})
    assert at_limit.status_code == 200


def test_a_huge_body_is_refused_before_it_is_read(settings, customer):
    response = post(settings, b"{" + b" " * (10 * MB) + b"}")
    assert response.status_code == 413
    assert customer.says("hi").texts, "another customer is still answered"


@pytest.mark.parametrize("body", [b"", b"[]", b"[1, 2]", b"null", b"42", b"not json", b'{"sender": "a"'])
def test_a_malformed_body_gets_400_without_a_traceback(settings, body):
    response = post(settings, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert "Traceback" not in response.text and 'File "' not in response.text


@pytest.mark.parametrize("message", [42, ["hi"], {"text": "hi"}, None, True])
def test_a_message_that_is_not_text_gets_400(settings, message):
    response = post(settings, json_body={"sender": "not-text", "message": message})
    assert response.status_code == 400
    assert "text" in response.json()["error"]
    assert events(settings, "not-text") == []


@pytest.mark.parametrize("sender", [None, "", 42, "a" * 65, "has space", "../etc/passwd", "é", "a\nb"])
def test_a_missing_or_bad_sender_is_refused_and_never_shares_default(settings, sender):
    body = {"message": "how many AnkerCredits do I have"}
    if sender is not None:
        body["sender"] = sender
    response = post(settings, json_body=body)
    assert response.status_code == 400
    assert events(settings, "default") == [], "no shared fallback conversation"


def test_a_megabyte_sender_id_is_refused_and_not_echoed(settings):
    sender = "s" * MB
    response = post(settings, json_body={"sender": sender, "message": "hi"})
    assert response.status_code in (400, 413)
    assert len(response.content) < 1000, "the sender id is not echoed back"


def test_a_flooding_client_is_slowed_down_and_another_customer_is_not(settings):
    flooder = new_address()
    statuses = [
        post(settings, json_body={"sender": f"flood-{n % 3}", "message": "hi"}, address=flooder).status_code
        for n in range(70)
    ]
    assert statuses.count(200) <= 60, "at most RATE_LIMIT_CLIENT (60/minute) messages from one client"
    assert statuses[-1] == 429
    refused = post(settings, json_body={"sender": "flood-0", "message": "hi"}, address=flooder)
    assert refused.status_code == 429 and refused.json()["error"]
    other = Customer.of(settings, forwarded_for=new_address())
    assert other.says("hi").texts, "another client is answered"


def test_one_conversation_is_limited_even_from_many_addresses(settings):
    statuses = [
        post(settings, json_body={"sender": "busy-conversation", "message": "hi"}).status_code for _ in range(25)
    ]
    assert statuses.count(200) == 20, "RATE_LIMIT_CONVERSATION: 20/minute"
    assert set(statuses[20:]) == {429}
