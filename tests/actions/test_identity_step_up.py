"""RET-4 step-up in the conversation (issue 12, finding 6): the forms ask ``verification_code`` when the service says
a one-time code was sent, the code mailed to the purchase email (a real SMTP server on loopback) lets the customer
in, and the bot's answers disclose nothing: a mismatching email in step-up gets byte-identical messages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.cancellation import ActionPreviewCancellation, ValidateCancelForm
from actions.returns import ValidateReturnForm
from actions.service import reset_service, set_service
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.identity_models import VerificationAttemptRow
from policy_engine.store.mail import SmtpMailer
from tests.support.store import make_service, repository_policy

MAX = repository_policy().identity.max_failed_attempts
OLIVIA = {"order_number": "AK1000001", "email": "olivia.fresh@example.com"}
CLIENT = {"metadata": {"client": "c0ffee" * 5 + "00"}}


@pytest.fixture
def smtp_service(engine, smtp_server):
    svc, _ = make_service(
        engine, demo=False, mailer=SmtpMailer(host=smtp_server.host, port=smtp_server.port, sender="support@anker.test")
    )
    set_service(svc)
    yield svc
    reset_service()


def _flood(new_chat, order_number="AK1000001"):
    """Issue 12's attack: wrong emails for one order from fresh sender ids, until the order is in step-up."""
    for i in range(MAX):
        attacker = new_chat(f"attacker-{i}")
        attacker.run(ValidateCancelForm(), {"order_number": order_number, "email": f"guess{i}@example.com"})
        assert attacker.responses == ["utter_identity_not_verified"]


def test_the_customer_of_a_flooded_order_gets_in_with_the_mailed_code(new_chat, smtp_service, smtp_server, counts):
    _flood(new_chat)
    owner = new_chat("owner")
    owner.active_loop = "cancel_form"
    owner.run(ValidateCancelForm(), OLIVIA)
    assert owner.responses == ["utter_identity_code_sent"]
    assert owner.slots["verified"] is False
    assert owner.slot_events()["requested_slot"] == "verification_code"
    code = smtp_server.code_for(OLIVIA["email"])
    assert code
    owner.run(ValidateCancelForm(), {"verification_code": f"the code is {code[:3]} {code[3:]}"})
    assert owner.responses == []  # the form ends: "found your order" opens the decision that follows
    assert owner.slots["verified"] is True and owner.slots["verification_code"] is None
    assert owner.slot_events()["requested_slot"] is None
    owner.run(ActionPreviewCancellation(), {"verified": True})  # verified in this turn (the events since the message)
    assert owner.responses[0] == "utter_identity_verified"
    assert owner.responses[-1] == "utter_confirm_cancellation"


def test_step_up_answers_are_byte_identical_for_a_wrong_email(new_chat, smtp_service, smtp_server):
    _flood(new_chat)
    right, wrong = new_chat("right"), new_chat("wrong")
    right.run(ValidateCancelForm(), OLIVIA)
    wrong.run(ValidateCancelForm(), {**OLIVIA, "email": "not.olivia@example.com"})
    assert wrong.messages == right.messages == [{**right.messages[0], "response": "utter_identity_code_sent"}]
    assert wrong.slot_events()["requested_slot"] == right.slot_events()["requested_slot"] == "verification_code"
    [text] = [v["text"] for v in right.domain["responses"]["utter_identity_code_sent"]]
    assert "if the details match" in text
    # and the code question after it: a wrong code is answered alike too
    right.run(ValidateCancelForm(), {"verification_code": "000000"})
    wrong.run(ValidateCancelForm(), {"verification_code": "000000"})
    if smtp_server.code_for(OLIVIA["email"]) != "000000":
        assert (
            wrong.messages == right.messages == [{**right.messages[0], "response": "utter_invalid_verification_code"}]
        )
    assert [r.recipients for r in smtp_server.messages] == [[OLIVIA["email"]]]


def test_unknown_order_and_wrong_email_still_get_the_same_messages(new_chat, service):
    """The held check of issue 12: byte-identical answers before any step-up."""
    unknown, wrong = new_chat("u"), new_chat("w")
    unknown.run(ValidateCancelForm(), {"order_number": "AK9999999", "email": "olivia.fresh@example.com"})
    wrong.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": "someone@example.com"})
    assert unknown.messages == wrong.messages == [{**wrong.messages[0], "response": "utter_identity_not_verified"}]


def test_a_locked_conversation_gets_back_in_by_code(chat, smtp_service, smtp_server):
    for i in range(MAX):
        chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": f"typo{i}@example.com"})
    assert "utter_identity_locked_out" in chat.responses
    chat.run(ValidateCancelForm(), OLIVIA)
    assert chat.responses == ["utter_identity_code_sent"]
    chat.run(ValidateCancelForm(), {"verification_code": smtp_server.code_for(OLIVIA["email"])})
    assert chat.responses == [] and chat.slots["verified"] is True  # acknowledged in the decision that follows


def test_a_wrong_code_asks_again_and_too_many_ask_for_the_email(chat, smtp_service, smtp_server, new_chat):
    _flood(new_chat)
    chat.run(ValidateReturnForm(), {"order_number": "AK1000001", "email": "olivia.fresh@example.com"})
    code = smtp_server.code_for(OLIVIA["email"])
    wrong = "111111" if code != "111111" else "222222"
    tries = repository_policy().identity.code_max_attempts
    for _ in range(tries - 1):
        chat.run(ValidateReturnForm(), {"verification_code": wrong})
        assert chat.responses == ["utter_invalid_verification_code"]
        assert chat.slot_events()["requested_slot"] == "verification_code"
    chat.run(ValidateReturnForm(), {"verification_code": wrong})
    assert chat.responses == ["utter_verification_code_expired"]
    assert chat.slots["email"] is None and chat.slot_events()["requested_slot"] == "email"
    # giving the email again asks for a new code (the right one is void now)
    chat.run(ValidateReturnForm(), {"email": OLIVIA["email"]})
    assert chat.responses == ["utter_identity_code_sent"]
    new_code = smtp_server.code_for(OLIVIA["email"])
    assert new_code and len(smtp_server.to(OLIVIA["email"])) == 2
    chat.run(ValidateReturnForm(), {"verification_code": new_code})
    assert chat.slots["verified"] is True


def test_a_malformed_code_gets_a_hint_and_is_not_sent_to_the_service(chat, service, new_chat, counts):
    _flood(new_chat)
    chat.run(ValidateCancelForm(), OLIVIA)
    before = counts()
    chat.run(ValidateCancelForm(), {"verification_code": "no idea"})
    assert chat.responses == ["utter_invalid_verification_code"]
    assert chat.slots["verification_code"] is None
    assert counts() == before


def test_the_client_of_the_channel_is_passed_to_the_service(chat, service, engine):
    """``metadata["client"]`` (set by the channel, never by the customer) is recorded and throttled (issue 12)."""
    chat.run(ValidateCancelForm(), {"order_number": "AK1000001", "email": "wrong@example.com"}, extra=CLIENT)
    chat.run(ValidateCancelForm(), {"email": "olivia.fresh@example.com"}, extra=CLIENT)
    assert chat.slots["verified"] is True
    with unit_of_work(make_session_factory(engine)) as uow:
        clients = uow.session.scalars(select(VerificationAttemptRow.client)).all()
    assert clients == [CLIENT["metadata"]["client"]] * 2


def test_one_client_hopping_sender_ids_is_locked_out_at_the_policy_figure(new_chat, service):
    for i in range(MAX - 1):
        hop = new_chat(f"hop-{i}")
        hop.run(ValidateCancelForm(), {"order_number": f"AK900000{i}", "email": "x@example.com"}, extra=CLIENT)
        assert hop.responses == ["utter_identity_not_verified"]
    last = new_chat("hop-last")
    last.run(ValidateCancelForm(), {"order_number": "AK9000009", "email": "x@example.com"}, extra=CLIENT)
    assert last.responses[0] == "utter_identity_locked_out"
    fresh = new_chat("hop-fresh")
    fresh.run(ValidateCancelForm(), OLIVIA, extra=CLIENT)
    assert fresh.responses == ["utter_identity_code_sent"]  # not verified by the email alone any more
    other = new_chat("other-client")
    other.run(ValidateCancelForm(), OLIVIA, extra={"metadata": {"client": "f" * 32}})
    assert other.slots["verified"] is True


def test_injected_slots_set_no_verification(domain):
    """``/intent{...}`` cannot set the identity state: custom mappings only (the code slot is typed, and checked)."""
    for name in ("verified", "verified_identity", "verification_pending"):
        assert [m["type"] for m in domain["slots"][name]["mappings"]] == ["custom"], name
    for mapping in domain["slots"]["verification_code"]["mappings"]:
        assert all(c.get("requested_slot") == "verification_code" for c in mapping["conditions"])
