"""A person takes over (issue 17, CON-1) outside the live-chat hours, through the real servers: a verified customer
asks for a person, gets a ticket number and the next opening (as people write it), the contacts, and a confirmation
email that a real SMTP server on loopback (aiosmtpd) receives at the purchase email; the bot keeps answering.

The stack is started as ``make run`` starts it with a policy file whose live chat is closed now
(``tests/support/handoff_policy.py``), so the test never depends on the time of day."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import botstack
from policy_engine.core.handoff import next_opening
from policy_engine.core.policy_file import load_policy
from policy_engine.service.handoff_mail import people_moment
from tests.dialogue.dialogue_client import Customer, SupportDatabase, new_address, verify
from tests.support.handoff_policy import live_chat_policy
from tests.support.smtp import running_smtp

EMAIL = "grace.refunds@example.com"


@pytest.fixture(scope="module")
def mailbox():
    with running_smtp() as inbox:
        yield inbox


@pytest.fixture(scope="module")
def closed_stack(tmp_path_factory, mailbox):
    tmp = tmp_path_factory.mktemp("closed-stack")
    env = {
        **botstack.TEST_RATE_LIMITS,
        "POLICY_FILE": str(live_chat_policy(tmp, open_now=False)),
        "SMTP_HOST": mailbox.host,
        "SMTP_PORT": str(mailbox.port),
        "SMTP_FROM": "support@store.example",
    }
    stack = botstack.Stack(botstack.Settings.for_tests(tmp, extra_env=env), echo=False, with_web=False)
    stack.start(timeout=900)
    yield stack
    stack.stop()


def test_outside_hours_a_ticket_the_next_opening_and_a_confirmation_email_CON_1(closed_stack, mailbox):
    settings = closed_stack.settings
    customer = Customer.of(settings, forwarded_for=new_address())
    customer.says("where is my refund?")
    verify(customer, "AK1000016", EMAIL)
    refund_case = customer.turns[-1].decision

    turn = customer.says("I want to talk to a person")
    handoff, contact = turn.decisions
    assert handoff["topic"] == "handoff" and handoff["reasons"] == ["ticket_opened"] and handoff["clauses"] == ["CON-1"]
    assert contact["topic"] == "contact"
    ticket = handoff["case_id"]
    assert ticket and ticket.startswith("HND-")
    texts = " ".join(m.get("text") or "" for m in turn.messages)
    policy = load_policy(Path(settings.extra_env["POLICY_FILE"]))
    opening = people_moment(next_opening(policy, datetime.now(timezone.utc)), policy.tz)
    assert ticket in texts and opening in texts, (opening, texts)  # the next opening, as people write it

    deadline = time.monotonic() + 30
    while not mailbox.to(EMAIL) and time.monotonic() < deadline:
        time.sleep(0.2)
    mails = mailbox.to(EMAIL)
    assert len(mails) == 1, [m.recipients for m in mailbox.messages]
    assert ticket in mails[0].message["Subject"]
    assert ticket in mails[0].message.get_content() and opening in mails[0].message.get_content()

    rows = SupportDatabase(settings.database_url).rows(
        "SELECT status, order_number, summary FROM handoffs WHERE case_id = ?", ticket
    )
    assert rows[0]["status"] == "ticket" and rows[0]["order_number"] == "AK1000016"
    assert "I want to talk to a person" in rows[0]["summary"] and "refund" in rows[0]["summary"]
    assert refund_case["topic"] == "refund"

    answer = customer.says("how many days do I have to return a product?")  # the bot was never paused
    assert answer.messages and all("something went wrong" not in (m.get("text") or "") for m in answer.messages)


def test_a_decision_that_needs_review_becomes_a_ticket_with_its_case_RET_2_CON_1(closed_stack, mailbox):
    """Issue 17: a corporate purchase's return goes to review (RET-2); once the customer confirms, the case is opened
    and, the live chat being closed, the conversation becomes a ticket with that case in its summary, mailed to the
    purchase email; the customer is told so in the same turn."""
    from tests.dialogue.test_dialogue_flows import RETURN_ANSWERS, fill_form

    settings = closed_stack.settings
    customer = Customer.of(settings, forwarded_for=new_address())
    customer.says("I'd like to return an item")
    verify(customer, "AK1000006", "purchasing@contoso-corp.example")
    fill_form(customer, RETURN_ANSWERS)
    preview = customer.turns[-1].decision
    assert preview["topic"] == "return" and preview["outcome"] == "needs_review" and "RET-2" in preview["clauses"]

    turn = customer.says("yes")
    case, handoff, contact = turn.decisions
    assert case["topic"] == "return" and case["outcome"] == "needs_review" and case["case_id"]
    assert handoff["topic"] == "handoff" and handoff["reasons"] == ["ticket_opened"] and handoff["clauses"] == ["CON-1"]
    assert handoff["case_id"].startswith("HND-") and contact["topic"] == "contact"
    texts = " ".join(m.get("text") or "" for m in turn.messages)
    assert handoff["case_id"] in texts

    rows = SupportDatabase(settings.database_url).rows(
        "SELECT status, cause, order_number, summary FROM handoffs WHERE case_id = ?", handoff["case_id"]
    )
    assert rows[0]["status"] == "ticket" and rows[0]["cause"] == "needs_review"
    assert rows[0]["order_number"] == "AK1000006"
    assert case["case_id"] in rows[0]["summary"] and "RET-2" in rows[0]["summary"]
    deadline = time.monotonic() + 30
    while not mailbox.to("purchasing@contoso-corp.example") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(mailbox.to("purchasing@contoso-corp.example")) == 1
