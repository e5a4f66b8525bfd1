"""``make run``'s two cores (issue 14, item 2): two Rasa processes behind the stack's own nginx, with its own Redis
(botstack/balancer.py), started exactly as ``make run`` starts them (``RASA_PROCESSES=2``, the default of
``Settings.from_env``).

The printed Rasa URL keeps working for both ways in: REST turns of one verified conversation are spread over both
processes (each does part of the work; the conversation, its lock and its limits are shared) and still get their
decision; the web chat's socket.io session (long-polling first, as the page's widget starts, then a websocket)
stays on one process through nginx and gets its replies. The Rasa processes themselves listen on loopback only.
"""

from __future__ import annotations

import queue
import socket
import uuid

import psutil
import pytest
import socketio

import botstack
from tests.dialogue.dialogue_client import Customer, new_address, verify, web_session_token

WAIT = 60.0


@pytest.fixture(scope="module")
def balanced(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("balanced")
    settings = botstack.Settings.for_tests(tmp, rasa_processes=2)
    stack = botstack.Stack(settings, echo=False, with_web=False, with_inbox=False)
    stack.start(timeout=900)
    yield stack
    stack.stop()


def _cpu(stack: botstack.Stack) -> dict[str, float]:
    times = {}
    for child in stack.children:
        if child.name.startswith("rasa-"):
            t = psutil.Process(child.pid).cpu_times()
            times[child.name] = t.user + t.system
    return times


def test_both_processes_serve_one_verified_conversation(balanced):
    settings = balanced.settings
    names = sorted(c.name for c in balanced.children)
    assert names == ["actions", "nginx", "rasa-1", "rasa-2", "redis"], names
    before = _cpu(balanced)
    customer = Customer.of(settings, forwarded_for=new_address())
    customer.says("where is my refund?")
    verify(customer, "AK1000016", "grace.refunds@example.com")
    decision = customer.turns[-1].decision
    assert decision["topic"] == "refund" and decision["clauses"], decision
    for text in ("thanks", "how long do i have to return something", "bye"):
        assert customer.says(text).messages
    used = {name: seconds - before[name] for name, seconds in _cpu(balanced).items()}
    # a turn costs tens of ms of CPU; an idle process spends well under that in the same time
    assert all(seconds > 0.05 for seconds in used.values()), used


def test_a_web_chat_session_through_nginx_sticks_to_one_process(balanced):
    url = balanced.settings.rasa_url
    client = socketio.Client(reconnection=False)
    confirmed: queue.Queue[str] = queue.Queue()
    uttered: queue.Queue[dict] = queue.Queue()
    client.on("session_confirm", lambda session_id: confirmed.put(session_id))
    client.on("bot_uttered", lambda message: uttered.put(message))
    token = web_session_token(url)
    # as the page connects: the token in the query string (nginx hashes it) and in the auth payload
    client.connect(
        f"{url}?token={token}",
        socketio_path="/socket.io",
        wait_timeout=30,
        auth={"token": token},
        transports=["polling", "websocket"],
    )
    try:
        client.emit("session_request", {"session_id": f"balanced-{uuid.uuid4().hex[:8]}"})
        session_id = confirmed.get(timeout=WAIT)
        for text in ("hi", "how long is the warranty on a power station"):
            client.emit("user_uttered", {"message": text, "session_id": session_id})
            reply = uttered.get(timeout=WAIT)
            assert reply.get("text"), reply
    finally:
        client.disconnect()


def test_the_rasa_processes_listen_on_loopback_only(balanced):
    ports = balanced.settings.rasa_internal_ports
    assert len(ports) == 2 and balanced.settings.rasa_port not in ports
    for port in ports:
        listening = [
            c.laddr.ip
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        ]
        assert listening and set(listening) <= {"127.0.0.1"}, (port, listening)
    with socket.create_connection(("127.0.0.1", balanced.settings.rasa_port), timeout=2):
        pass  # nginx on the printed port
