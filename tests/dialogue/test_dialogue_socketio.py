"""The socket.io channel the web chat page uses (chat_channels/webchat.py, credentials.yml), without a browser.

Pins the two Rasa 3.6.21 defects the channel fixes: with ``session_persistence`` the replies reach the client that
asked for the session, and a decision payload arrives as ``{"custom": {"decision": ...}}`` after the reply text.
"""
from __future__ import annotations

import queue
import uuid

import socketio

WAIT = 60.0


def collect_until(events: "queue.Queue[dict]", done, timeout: float = WAIT) -> list[dict]:
    got: list[dict] = []
    while not done(got):
        got.append(events.get(timeout=timeout))
    return got


def test_replies_and_decisions_reach_a_persistent_session(bot_stack):
    client = socketio.Client(reconnection=False)
    confirmed: "queue.Queue[str]" = queue.Queue()
    uttered: "queue.Queue[dict]" = queue.Queue()
    client.on("session_confirm", lambda session_id: confirmed.put(session_id))
    client.on("bot_uttered", lambda message: uttered.put(message))
    session_id = f"socket-{uuid.uuid4().hex[:12]}"
    client.connect(bot_stack.settings.rasa_url, socketio_path="/socket.io", wait_timeout=30)
    try:
        client.emit("session_request", {"session_id": session_id})
        assert confirmed.get(timeout=WAIT) == session_id

        client.emit("user_uttered", {"message": "I want to talk to a human", "session_id": session_id})
        messages = collect_until(uttered, lambda got: any("custom" in m for m in got))
    finally:
        client.disconnect()

    texts = [m for m in messages if m.get("text")]
    decisions = [m["custom"]["decision"] for m in messages if "custom" in m]
    assert texts, f"the reply text reaches the session's room: {messages}"
    assert [d["topic"] for d in decisions] == ["contact"]
    assert "CON-1" in decisions[0]["clauses"]


def test_a_message_without_a_session_is_ignored(bot_stack):
    client = socketio.Client(reconnection=False)
    uttered: "queue.Queue[dict]" = queue.Queue()
    client.on("bot_uttered", lambda message: uttered.put(message))
    client.connect(bot_stack.settings.rasa_url, socketio_path="/socket.io", wait_timeout=30)
    try:
        client.emit("user_uttered", {"message": "hi"})
        try:
            unexpected = uttered.get(timeout=3)
        except queue.Empty:
            unexpected = None
    finally:
        client.disconnect()
    assert unexpected is None, "with session_persistence a message needs a session id first"
