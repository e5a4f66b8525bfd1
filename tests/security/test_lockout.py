"""Finding 6: anyone could lock a real customer out. Five wrong emails from fresh sender ids locked order AK1000003
in 4 s, and the real customer then got only the generic failure. Only the order number was needed.

Replayed against the running stack: an attacker tries wrong emails for the customer's order from fresh conversations
and addresses. The real customer is then asked for a one-time code, which the stack mails (through a real SMTP
server on loopback) to the purchase email only, and gets in with it (RET-4). The attacker, who gave the right order
but not the email, gets the same words and no mail; one client's failures are throttled by the policy's figure.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.dialogue.dialogue_client import Customer, asked, new_address, verify

ROOT = Path(__file__).resolve().parents[2]
ORDER, EMAIL = "AK1000010", "ava.solix@example.com"
LOCKOUT = yaml.safe_load((ROOT / "policy" / "policy.yml").read_text())["identity"]["max_failed_attempts"]


def wrong_guess(settings, n: int) -> Customer:
    attacker = Customer.of(settings, forwarded_for=new_address())
    attacker.says("I want to return my order")
    asked(attacker, "order_number")
    attacker.says(ORDER)
    attacker.says(f"guess{n}@attacker.example")
    return attacker


def wait_for_code(mailbox, address: str, before: int, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(mailbox.to(address)) > before:
            return mailbox.code_for(address)
        time.sleep(0.2)
    raise AssertionError(f"no code mailed to {address}")


def test_strangers_cannot_lock_a_customer_out(settings, mailbox):
    attackers = [wrong_guess(settings, n) for n in range(LOCKOUT + 1)]
    assert all(a.slots()["verified"] is not True for a in attackers)

    owner = Customer.of(settings, forwarded_for=new_address())
    owner.says("my power station stopped charging")
    before = len(mailbox.to(EMAIL))
    verify(owner, ORDER, EMAIL)
    assert "utter_identity_code_sent" in owner.responses(), owner.transcript()
    asked(owner, "verification_code")
    code = wait_for_code(mailbox, EMAIL, before)
    assert all(EMAIL in r.recipients for r in mailbox.to(EMAIL)), "mail goes to the purchase email only"

    owner.says(code)
    assert owner.slots()["verified"] is True, owner.transcript()


def test_a_stranger_in_step_up_gets_the_same_words_and_no_mail(settings, mailbox):
    for n in range(LOCKOUT):  # put the order into step-up
        wrong_guess(settings, 100 + n)
    sent = len(mailbox.messages)
    stranger = Customer.of(settings, forwarded_for=new_address())
    stranger.says("I want to return my order")
    asked(stranger, "order_number")
    stranger.says(ORDER)
    stranger_words = stranger.says("not.ava@attacker.example").texts

    owner = Customer.of(settings, forwarded_for=new_address())
    owner.says("I want to return my order")
    asked(owner, "order_number")
    owner.says(ORDER)
    owner_words = owner.says(EMAIL).texts
    assert stranger_words == owner_words, "nothing tells a stranger whether the email matched"
    time.sleep(1)
    assert all(EMAIL in r.recipients for r in mailbox.messages[sent:]), "only the purchase email gets mail"
    assert stranger.slots()["verified"] is not True


def test_one_client_is_stopped_after_the_policys_figure(settings):
    address = new_address()
    for n in range(LOCKOUT + 1):
        attacker = Customer.of(settings, forwarded_for=address)
        attacker.says("I want to cancel my order")
        attacker.says("AK1000002")
        attacker.says(f"guess{n}@attacker.example")
    last = Customer.of(settings, forwarded_for=address)
    last.says("I want to cancel my order")
    last.says("AK1000002")
    last.says("sam.shipped@example.com")  # the right email, from the throttled client
    assert last.slots()["verified"] is not True, "a client past the lock-out figure cannot verify by email alone"
