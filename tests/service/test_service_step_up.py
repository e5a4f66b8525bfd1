"""RET-4 hardening (issue 12, finding 6): a lock-out nobody else can trigger.

* failures are throttled per conversation, per client (the channel's keyed hash of the caller's address) and per
  order number, with the one figure of policy/policy.yml (``identity.max_failed_attempts``);
* too many failures for an order do not lock its customer out: the next matching order number + email gets a one-time
  code mailed to the purchase email on file (a real SMTP server on loopback receives it here), and the code verifies;
* the answer to a mismatching email in step-up is identical to the matching one (nothing is disclosed);
* codes: 6 random digits, only a salted HMAC stored, expiring, limited tries per code, limited sends per order/hour.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from policy_engine.service import NotVerified, SupportService
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.identity_models import VerificationAttemptRow, VerificationCodeRow
from policy_engine.store.mail import OutboxMailer, SmtpMailer, mailer_from_env
from tests.support.smtp import code_in
from tests.support.store import repository_policy

ORDER, EMAIL = "AK1000003", "emma.twenty@example.com"
LIMITS = repository_policy().identity
MAX = LIMITS.max_failed_attempts
CLIENT_A, CLIENT_B = "a" * 32, "b" * 32


@pytest.fixture
def smtp_service(service, clock, smtp_server):
    """The demo store (SQLite and PostgreSQL) whose codes go through a real SMTP server on 127.0.0.1 (aiosmtpd)."""
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, sender="support@anker.test")
    return SupportService(service._sessions, repository_policy(), clock, mailer)


def _flood_order(service, order=ORDER, n=MAX):
    """``n`` wrong emails for ``order`` from fresh conversations and fresh clients (issue 12's attack)."""
    for i in range(n):
        v = service.verify_customer(f"attacker-{i}", order, f"guess{i}@example.com", client=f"{i:032x}")
        assert v.code == "not_verified"


def test_the_attack_of_issue_12_no_longer_locks_the_customer_out(smtp_service, smtp_server):
    """RET-4: 5 wrong emails from fresh sender ids put the order in step-up; its customer gets in with the code that
    arrives at the purchase email."""
    _flood_order(smtp_service)
    first = smtp_service.verify_customer("owner", ORDER, EMAIL, client=CLIENT_A)
    assert first.code == "code_sent" and not first.verified
    with pytest.raises(NotVerified):
        smtp_service.order_overview("owner", ORDER)
    received = smtp_server.to(EMAIL)
    assert len(received) == 1 and received[0].envelope_from == "support@anker.test"
    code = smtp_server.code_for(EMAIL)
    assert code is not None and len(code) == 6
    ok = smtp_service.verify_code("owner", code, client=CLIENT_A)
    assert ok.verified and ok.code == "verified" and ok.order_number == ORDER
    assert smtp_service.order_overview("owner", ORDER).order_number == ORDER
    # spent: the same code does not verify again (another conversation or this one)
    assert not smtp_service.verify_code("owner", code).verified


def test_a_mismatching_email_in_step_up_gets_the_identical_answer_and_no_mail(smtp_service, smtp_server):
    _flood_order(smtp_service)
    matching = smtp_service.verify_customer("c-match", ORDER, EMAIL)
    wrong = smtp_service.verify_customer("c-wrong", ORDER, "someone.else@example.com")
    unknown = smtp_service.verify_customer("c-unknown", "AK9999999", EMAIL)  # not in step-up: its own counter
    assert wrong == matching  # byte-identical: same dataclass, every field
    assert repr(wrong) == repr(matching)
    assert unknown.code == "not_verified"
    assert [r.recipients for r in smtp_server.messages] == [[EMAIL]]  # only the purchase email gets a code
    assert smtp_service.verify_code("c-wrong", "000000").code == smtp_service.verify_code("c-match", "000000").code


def test_a_locked_conversation_gets_back_in_by_code(smtp_service, smtp_server):
    """RET-4: the way back in for a customer whose own conversation hit the lock-out figure."""
    for i in range(MAX - 1):
        assert smtp_service.verify_customer("c-typo", ORDER, f"typo{i}@example.com").code == "not_verified"
    assert smtp_service.verify_customer("c-typo", ORDER, "typo@example.com").code == "locked_out"
    assert smtp_service.verify_customer("c-typo", ORDER, EMAIL).code == "code_sent"
    assert smtp_service.verify_code("c-typo", smtp_server.code_for(EMAIL)).verified
    assert smtp_service.refund_status("c-typo", ORDER).topic == "refund"


def test_failures_are_counted_per_client_across_fresh_conversations(sqlite_service, sqlite_engine):
    """Issue 12: one client hopping sender ids is throttled like one conversation; another client is not."""
    for i in range(MAX - 1):
        v = sqlite_service.verify_customer(f"hop-{i}", f"AK900000{i}", "x@example.com", client=CLIENT_A)
        assert v.code == "not_verified" and v.attempts_left == MAX - 1 - i
    assert (
        sqlite_service.verify_customer("hop-last", "AK9000009", "x@example.com", client=CLIENT_A).code == "locked_out"
    )
    # the client is in step-up now, even with a right pair in a fresh conversation
    assert sqlite_service.verify_customer("hop-new", ORDER, EMAIL, client=CLIENT_A).code == "code_sent"
    # another client (and no client at all) is unaffected
    assert sqlite_service.verify_customer("other", ORDER, EMAIL, client=CLIENT_B).verified
    assert sqlite_service.verify_customer("shell", "AK1000004", "noah.late@example.com").verified
    with unit_of_work(make_session_factory(sqlite_engine)) as uow:
        clients = set(uow.session.scalars(select(VerificationAttemptRow.client)))
    assert clients == {CLIENT_A, CLIENT_B, None}


def test_a_malformed_client_key_is_ignored(sqlite_service, sqlite_engine):
    assert sqlite_service.verify_customer("c", ORDER, EMAIL, client="not a key; drop table").verified
    with unit_of_work(make_session_factory(sqlite_engine)) as uow:
        assert uow.session.scalars(select(VerificationAttemptRow.client)).all() == [None]


def test_only_a_salted_hash_of_the_code_is_stored(sqlite_service, sqlite_engine):
    _flood_order(sqlite_service)
    sqlite_service.verify_customer("c-hash", ORDER, EMAIL)
    code = sqlite_service.mailer.code_for(EMAIL)
    with unit_of_work(make_session_factory(sqlite_engine)) as uow:
        row = uow.session.scalars(select(VerificationCodeRow)).one()
        stored = " ".join(str(getattr(row, c)) for c in VerificationCodeRow.__table__.columns.keys())  # noqa: SIM118 (column names)
        assert len(row.code_hash) == 64 and len(row.salt) == 32
    assert code not in stored


def test_codes_are_random_six_digits(sqlite_service):
    _flood_order(sqlite_service)
    for i in range(LIMITS.code_max_sends_per_hour):
        sqlite_service.verify_customer(f"c-rand-{i}", ORDER, EMAIL)
    sent = sqlite_service.mailer.sent
    assert len(sent) == LIMITS.code_max_sends_per_hour
    found = [code_in(m) for m in sent]
    assert all(c is not None and len(c) == 6 and c.isdigit() for c in found)
    assert len(set(found)) == len(found)  # 3 draws out of a million: a repeat means the codes are not random


def test_the_code_expires(sqlite_service, clock):
    _flood_order(sqlite_service)
    sqlite_service.verify_customer("c-exp", ORDER, EMAIL)
    code = sqlite_service.mailer.code_for(EMAIL)
    clock.advance(minutes=LIMITS.code_lifetime_minutes, seconds=1)
    assert sqlite_service.verify_code("c-exp", code).code == "code_expired"


def test_a_code_has_limited_tries(sqlite_service):
    _flood_order(sqlite_service)
    sqlite_service.verify_customer("c-tries", ORDER, EMAIL)
    code = sqlite_service.mailer.code_for(EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    answers = [sqlite_service.verify_code("c-tries", wrong) for _ in range(LIMITS.code_max_attempts)]
    assert [a.code for a in answers] == ["invalid_code"] * (LIMITS.code_max_attempts - 1) + ["code_expired"]
    assert [a.attempts_left for a in answers[:-1]] == list(range(LIMITS.code_max_attempts - 1, 0, -1))
    # the right code is void now
    assert sqlite_service.verify_code("c-tries", code).code == "code_expired"
    with pytest.raises(NotVerified):
        sqlite_service.order_overview("c-tries", ORDER)


def test_asking_again_does_not_renew_the_tries_of_a_code(sqlite_service):
    """The send limit reached, a new request sends nothing; the old code keeps its own try count."""
    _flood_order(sqlite_service)
    for _ in range(LIMITS.code_max_sends_per_hour):
        sqlite_service.verify_customer("c-renew", ORDER, EMAIL)
    code = sqlite_service.mailer.code_for(EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    sends = len(sqlite_service.mailer.sent)
    for _ in range(4):
        assert sqlite_service.verify_customer("c-renew", ORDER, EMAIL).code == "code_sent"
        for _ in range(LIMITS.code_max_attempts - 1):
            sqlite_service.verify_code("c-renew", wrong)
    assert len(sqlite_service.mailer.sent) == sends
    assert not sqlite_service.verify_code("c-renew", code).verified


def test_sends_per_order_per_hour_are_limited(sqlite_service, clock):
    """No mail bombing: at most code_max_sends_per_hour codes per order number, whatever the conversations."""
    _flood_order(sqlite_service)
    for i in range(LIMITS.code_max_sends_per_hour + 3):
        assert sqlite_service.verify_customer(f"bomb-{i}", ORDER, EMAIL).code == "code_sent"
    assert len(sqlite_service.mailer.sent) == LIMITS.code_max_sends_per_hour
    clock.advance(hours=1, seconds=1)
    _flood_order(sqlite_service, n=MAX)  # the step-up window expired too; put the order back in step-up
    sqlite_service.verify_customer("bomb-later", ORDER, EMAIL)
    assert len(sqlite_service.mailer.sent) == LIMITS.code_max_sends_per_hour + 1


def test_a_code_works_only_in_the_conversation_that_asked_for_it(sqlite_service):
    _flood_order(sqlite_service)
    sqlite_service.verify_customer("c-asked", ORDER, EMAIL)
    code = sqlite_service.mailer.code_for(EMAIL)
    assert sqlite_service.verify_code("c-other", code).code == "code_expired"  # no request of its own
    assert sqlite_service.verify_code("c-asked", code).verified


@pytest.mark.parametrize("raw", ["12345", "1234567", "abcdef", "", None, 12.5, "1" * 100])
def test_a_malformed_code_is_invalid_input_and_not_counted(sqlite_service, raw):
    _flood_order(sqlite_service)
    sqlite_service.verify_customer("c-fmt", ORDER, EMAIL)
    assert sqlite_service.verify_code("c-fmt", raw).code == "invalid_input"
    assert sqlite_service.verify_code(
        "c-fmt", " ".join(sqlite_service.mailer.code_for(EMAIL)[i : i + 3] for i in (0, 3))
    ).verified


def test_a_failed_delivery_changes_nothing_in_the_answer(sqlite_service, caplog):
    class Broken:
        sender = "x@y.z"

        def send(self, message):
            from policy_engine.store.mail import MailError

            raise MailError("down")

    _flood_order(sqlite_service)
    sqlite_service._mailer = Broken()
    with caplog.at_level(logging.ERROR):
        assert sqlite_service.verify_customer("c-down", ORDER, EMAIL).code == "code_sent"
    assert "could not be sent" in caplog.text and EMAIL not in caplog.text


def test_step_up_on_postgres_too(service, clock):
    """The same on both backends (``service`` is parametrised over SQLite and PostgreSQL)."""
    _flood_order(service)
    assert service.verify_customer("pg-owner", ORDER, EMAIL).code == "code_sent"
    assert service.verify_code("pg-owner", service.mailer.code_for(EMAIL)).verified
    assert service.order_overview("pg-owner", ORDER).order_number == ORDER


# ------------------------------------------------------------------------------------------------ the mail adapter


def test_without_smtp_host_the_code_is_written_to_the_outbox_0600(tmp_path, caplog):
    mailer = mailer_from_env({"MAIL_OUTBOX_DIR": str(tmp_path / "outbox")})
    assert isinstance(mailer, OutboxMailer)
    from policy_engine.store.mail import code_message

    with caplog.at_level(logging.INFO, logger="policy_engine.store.mail"):
        mailer.send(code_message(mailer.sender, EMAIL, "123456", 10))
    [written] = list((tmp_path / "outbox").glob("*.eml"))
    assert written.stat().st_mode & 0o777 == 0o600
    assert b"123456" in written.read_bytes()
    assert "outbox" in caplog.text and EMAIL not in caplog.text and "123456" not in caplog.text


def test_smtp_settings_come_from_the_environment():
    mailer = mailer_from_env(
        {
            "SMTP_HOST": "mail.example",
            "SMTP_FROM": "support@example.com",
            "SMTP_USER": "u",
            "SMTP_PASSWORD": "p",
            "SMTP_STARTTLS": "true",
        }
    )
    assert mailer == SmtpMailer(
        host="mail.example", port=25, sender="support@example.com", user="u", password="p", starttls=True
    )
    with pytest.raises(ValueError, match="SMTP_FROM"):
        mailer_from_env({"SMTP_HOST": "mail.example"})
    with pytest.raises(ValueError, match="SMTP_PORT"):
        mailer_from_env({"SMTP_HOST": "mail.example", "SMTP_FROM": "a@b.c", "SMTP_PORT": "x"})


def test_the_smtp_mailer_delivers_to_a_real_server(smtp_server):
    from policy_engine.store.mail import code_message

    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, sender="support@anker.test")
    mailer.send(code_message(mailer.sender, EMAIL, "654321", 10))
    assert smtp_server.code_for(EMAIL) == "654321"
