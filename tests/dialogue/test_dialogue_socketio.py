"""The socket.io channel the web chat page uses (chat_channels/webchat.py, credentials.yml), without a browser.

Pins the two Rasa 3.6.21 defects the channel fixes: with ``session_persistence`` the replies reach the client that
asked for the session, and a decision payload arrives as ``{"custom": {"decision": ...}}`` after the reply text.
The session is the server's: a signed token names it (tests/security has the attacks on it).
"""

from __future__ import annotations

import queue
import uuid

import socketio

from tests.dialogue.dialogue_client import web_session_token

WAIT = 60.0


def collect_until(events: queue.Queue[dict], done, timeout: float = WAIT) -> list[dict]:
    got: list[dict] = []
    while not done(got):
        got.append(events.get(timeout=timeout))
    return got


def test_replies_and_decisions_reach_a_persistent_session(bot_stack):
    client = socketio.Client(reconnection=False)
    confirmed: queue.Queue[str] = queue.Queue()
    uttered: queue.Queue[dict] = queue.Queue()
    client.on("session_confirm", lambda session_id: confirmed.put(session_id))
    client.on("bot_uttered", lambda message: uttered.put(message))
    chosen = f"socket-{uuid.uuid4().hex[:12]}"
    token = web_session_token(bot_stack.settings.rasa_url)
    client.connect(bot_stack.settings.rasa_url, socketio_path="/socket.io", wait_timeout=30, auth={"token": token})
    try:
        client.emit("session_request", {"session_id": chosen})
        session_id = confirmed.get(timeout=WAIT)
        assert session_id != chosen and len(session_id) == 32, "the server names the conversation, not the client"

        client.emit("user_uttered", {"message": "I want to talk to a human", "session_id": chosen})
        messages = collect_until(uttered, lambda got: any("custom" in m for m in got))
    finally:
        client.disconnect()

    texts = [m for m in messages if m.get("text")]
    decisions = [m["custom"]["decision"] for m in messages if "custom" in m]
    assert texts, f"the reply text reaches the session's room: {messages}"
    assert decisions[0]["topic"] == "handoff" and "CON-1" in decisions[0]["clauses"]  # an agent joins, or a ticket


def test_a_connection_without_a_session_token_is_refused(bot_stack):
    client = socketio.Client(reconnection=False)
    try:
        client.connect(bot_stack.settings.rasa_url, socketio_path="/socket.io", wait_timeout=15)
        connected = client.connected
    except socketio.exceptions.ConnectionError:
        connected = False
    finally:
        client.disconnect()
    assert connected is False
