"""Finding 10: with the action server killed mid-form the customer got no message at all, and ``make run`` then
stopped the whole stack instead of restarting the one process.

Replayed on the security stack: the action server is killed while a form waits for the email; the customer's next
message gets a spoken answer, the supervisor (``Stack.supervise``, what ``make run`` runs) restarts the action
server alone, Rasa keeps running, and the conversation resumes where it was.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import botstack
from tests.dialogue.dialogue_client import asked

NO_ANSWER_START = "Sorry, something went wrong on our side"


def child(stack, name: str):
    return next(c for c in stack.children if c.name == name)


def test_a_dead_action_server_is_spoken_of_and_restarted_alone(secure_stack, customer):
    customer.says("I want to cancel my order")
    asked(customer, "order_number")
    customer.says("AK1000001")
    asked(customer, "email")

    actions, rasa = child(secure_stack, "actions"), child(secure_stack, "rasa")
    os.killpg(actions.pid, signal.SIGKILL)
    actions.process.wait(timeout=10)

    turn = customer.says("olivia.fresh@example.com")
    assert turn.texts, "the customer is told something, not left in silence"
    assert any(text.startswith(NO_ANSWER_START) for text in turn.texts), turn.messages

    said: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=secure_stack.supervise,
        args=(lambda: not stop.is_set(),),
        kwargs={"poll": 0.2, "say": said.append},
        daemon=True,
    )
    watcher.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (said and botstack.action_server_ready(secure_stack.settings)):
            time.sleep(0.5)
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert said and "restarting it" in said[0], said
    assert rasa.alive() and rasa in secure_stack.children, "Rasa kept running"
    assert child(secure_stack, "actions") is not actions, "a new action server process"

    asked(customer, "email")
    customer.says("olivia.fresh@example.com")
    decision = customer.all_decisions()[-1]
    assert decision["topic"] == "cancellation", customer.transcript()
