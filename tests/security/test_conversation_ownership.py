"""Finding 3: the conversation id was the only credential, on the REST channel and on socket.io.

Replayed: a second REST client posting as the victim's sender id without the channel's token; a socket.io client
asking to join the victim's session (``session_request`` with the victim's id) and speaking in it; a socket.io
connection without a token, with a forged one, an expired one, from a foreign origin. The attacker must get nothing
and change nothing in the victim's conversation.
"""

from __future__ import annotations

import queue
import time

import jwt
import requests
import socketio

from tests.dialogue.dialogue_client import verify, web_session_token

WAIT = 60.0


class WebClient:
    """A socket.io client as the chat page is one: a session token, a connection, the confirmed conversation id."""

    def __init__(self, rasa_url: str, token: str | None, headers: dict | None = None) -> None:
        self.client = socketio.Client(reconnection=False)
        self.uttered: queue.Queue[dict] = queue.Queue()
        self.confirmed: queue.Queue[str] = queue.Queue()
        self.client.on("bot_uttered", self.uttered.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.client.connect(
            rasa_url,
            socketio_path="/socket.io",
            wait_timeout=30,
            headers=headers or {},
            auth={"token": token} if token else None,
        )

    def session(self, asked_for: str | None = None) -> str:
        self.client.emit("session_request", {"session_id": asked_for})
        return self.confirmed.get(timeout=WAIT)

    def say(self, text: str, session_id: str) -> dict:
        self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        return self.uttered.get(timeout=WAIT)

    def quiet_for(self, seconds: float) -> bool:
        try:
            self.uttered.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self.client.disconnect()


def refused(rasa_url: str, token: str | None, headers: dict | None = None) -> bool:
    try:
        client = WebClient(rasa_url, token, headers)
    except socketio.exceptions.ConnectionError:
        return True
    connected = client.client.connected
    client.close()
    return not connected


def test_rest_without_the_channel_token_cannot_speak_as_another_customer(settings, customer):
    customer.says("how many AnkerCredits do I have?")
    verify(customer, "AK1000008", "liam.rewards@example.com")
    before = customer.tracker()["events"]
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": settings.secrets["REST_CHANNEL_TOKEN"]}):
        response = requests.post(
            url, json={"sender": customer.sender, "message": "how many credits do I have"}, headers=headers, timeout=30
        )
        assert response.status_code == 401, headers
        assert "AnkerCredits" not in response.text
    assert customer.tracker()["events"] == before


def test_a_socket_client_cannot_join_or_speak_in_another_session(settings):
    victim = WebClient(settings.rasa_url, web_session_token(settings.rasa_url))
    attacker = WebClient(settings.rasa_url, web_session_token(settings.rasa_url))
    try:
        victim_id = victim.session()
        assert victim.say("hi", victim_id).get("text")

        attacker_id = attacker.session(asked_for=victim_id)
        assert attacker_id != victim_id, "the server confirms the token's conversation, not the one asked for"
        attacker.say("I want to return my order", victim_id)  # lands in the attacker's own conversation

        victim.say("how long do refunds take?", victim_id)
        assert attacker.quiet_for(3), "the attacker must not see the victim's replies"
    finally:
        victim.close()
        attacker.close()
    api = {"token": settings.secrets["RASA_API_TOKEN"]}
    victim_events = requests.get(
        f"{settings.rasa_url}/conversations/{victim_id}/tracker", params=api, timeout=30
    ).json()["events"]
    said = [e.get("text") for e in victim_events if e.get("event") == "user"]
    assert "I want to return my order" not in said
    attacker_events = requests.get(
        f"{settings.rasa_url}/conversations/{attacker_id}/tracker", params=api, timeout=30
    ).json()["events"]
    assert "I want to return my order" in [e.get("text") for e in attacker_events if e.get("event") == "user"]


def test_socket_connections_need_a_valid_token_from_an_allowed_origin(settings):
    url = settings.rasa_url
    secret = settings.secrets["CHAT_SESSION_SECRET"]
    now = int(time.time())
    claims = {"sub": "a" * 32, "aud": "support-webchat", "iat": now, "exp": now + 600}
    assert refused(url, None)
    assert refused(url, "not-a-token")
    assert refused(url, jwt.encode(claims, "another-key-of-at-least-32-characters!!", algorithm="HS256"))
    assert refused(url, jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, secret, algorithm="HS256"))
    assert refused(url, jwt.encode({**claims, "aud": "someone-else"}, secret, algorithm="HS256"))
    assert refused(url, jwt.encode(claims, None, algorithm="none")), "an unsigned token"
    good = web_session_token(url)
    assert refused(url, good, headers={"Origin": "http://evil.example"})
    assert not refused(url, good, headers={"Origin": settings.web_origin})
    assert not refused(url, jwt.encode(claims, secret, algorithm="HS256")), "a well-signed token is the credential"
