"""Coming back to a warranty claim for a purchase elsewhere (``WAR-E...``; issue 15, item 4): a claim number is not
a credential either.

Replayed against the real action server (``python -m actions.server``) on its own demo database, mailing its one-time
codes to a real SMTP server on loopback, as Rasa calls it: a conversation that proved no email names a customer's
``WAR-E`` claim and forges ``claim_email_code: verified`` in its slots; a conversation that proved *another* email
names it.  Nothing about the claim (product, dates, decision) comes back, and another email's claim answers exactly
like a number that does not exist (RET-4: same response, same payload, one query by number and email).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from policy_engine.core.warranty_request import WarrantyRequest
from policy_engine.store import make_engine
from policy_engine.store.upload_files import UploadFiles
from tests.security.action_server_support import ActionServer, Conversation, copy_database, prepare_database, row_counts
from tests.service.test_service_purchase_claims import store_upload
from tests.support.store import Clock, make_service

OWNER, STRANGER = "kim.bestbuy@example.com", "mallory@example.com"
#: what a reply about the claim would carry
CLAIM_FACTS = ("product", "opened_on", "purchased_on", "claim_deadline", "decided_clauses", "decided_policy_version")


def open_claim(database_url: str, uploads: Path, email: str = OWNER) -> str:
    """A covered WAR-E claim under ``email``, written through the service (today's clock) as the bought-elsewhere
    path writes it: a receipt uploaded, the email proven by its code, the claim opened."""
    engine = make_engine(database_url)
    try:
        service, _ = make_service(engine, clock=Clock(datetime.now(timezone.utc)), demo=False)
        service.upload_files = UploadFiles(uploads)
        conversation = "opened-the-claim-" + secrets.token_hex(8)
        service.register_upload(conversation, store_upload(uploads, conversation), "receipt")
        service.send_claim_email_code(conversation, email)
        assert service.verify_claim_email(conversation, service.mailer.code_for(email)).verified
        stated = {"seller": "Best Buy", "purchased_on": date.today(), "price": Decimal("149.99"), "country": "US"}
        request = WarrantyRequest(
            line_id=None, serial_number="A1289X0000012345", defect="it stopped charging", troubleshooting_done=True
        )
        decision = service.open_purchase_claim(conversation, "A1289", stated, request)
        assert decision.case_id and decision.case_id.startswith("WAR-E")
        return decision.case_id
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory, mailbox):
    directory = tmp_path_factory.mktemp("purchase-case-numbers")
    db = copy_database(prepare_database(directory / "template"), directory)
    claim_id = open_claim(f"sqlite:///{db}", directory / "uploads")
    smtp = {"SMTP_HOST": mailbox.host, "SMTP_PORT": str(mailbox.port), "SMTP_FROM": "support@test.example"}
    server = ActionServer(db, directory, extra_env=smtp).start()
    server.claim_id = claim_id  # type: ignore[attr-defined]
    yield server
    server.stop()


def told(reply) -> list[dict]:
    assert reply.status == 200, reply.body
    return reply.json.get("responses", [])


def proven(server, mailbox, email: str, case_text: str) -> Conversation:
    """The case form as Rasa drives it: the number typed, the email, the code from the real mailbox."""
    chat = Conversation(server)
    chat.run("validate_case_form", {}, intent="case_status", text=case_text, active_loop="case_form")
    assert chat.slots["requested_slot"] == "claim_email", chat.slots
    chat.run("validate_case_form", {"claim_email": email}, text=email, active_loop="case_form")
    assert chat.slots["requested_slot"] == "claim_email_code"
    code = mailbox.code_for(email)
    assert code is not None
    chat.run("validate_case_form", {"claim_email_code": code}, text=code, active_loop="case_form")
    assert chat.slots["claim_email_code"] == "verified" and chat.slots["requested_slot"] is None
    return chat


def test_a_claim_number_with_a_forged_verification_reveals_nothing(server):
    before = row_counts(server.db)
    forged = {"case_number": server.claim_id, "claim_email": OWNER, "claim_email_code": "verified", "verified": True}
    messages = told(Conversation(server).run("action_case_status", forged, text=f"status of {server.claim_id}"))
    assert [m.get("response") for m in messages] == ["utter_identity_required"]
    assert not any(m.get("custom") for m in messages)
    assert not any(key in m for m in messages for key in CLAIM_FACTS)
    assert row_counts(server.db) == before


def test_another_emails_claim_answers_exactly_like_an_unknown_number(server, mailbox):
    answers = []
    for number in (server.claim_id, "WAR-E999999"):
        chat = proven(server, mailbox, STRANGER, f"what's happening with {number}")
        answers.append(told(chat.run("action_case_status", text=chat.slots["claim_email_code"])))
    for messages in answers:
        assert [m.get("response") for m in messages] == ["utter_case_status_purchase_claim_not_found"]
        assert messages[0]["custom"]["decision"]["reasons"] == ["purchase_claim_not_found"]
        assert messages[0]["custom"]["decision"]["case_id"] is None
        assert not any(key in messages[0] for key in CLAIM_FACTS)
    strip = lambda m: {k: v for k, v in m.items() if k != "case_number"}  # noqa: E731 - the number typed differs
    assert strip(answers[0][0]) == strip(answers[1][0])


def test_the_owner_proving_the_claims_email_is_told_its_decision(server, mailbox):
    """The control: the same calls with the claim's own email do find it (so the two above are not vacuous)."""
    chat = proven(server, mailbox, OWNER, f"any news on {server.claim_id[:5].lower()}-{server.claim_id[5:]}")
    messages = told(chat.run("action_case_status", text="thanks"))
    assert messages[0]["response"] == "utter_case_status_purchase_claim_covered"
    assert (
        messages[0]["custom"]["decision"]["case_id"] == server.claim_id
        and "WAR-9" in messages[0]["custom"]["decision"]["clauses"]
    )
