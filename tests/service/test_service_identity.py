"""RET-4 identity checks: same answer for unknown order and wrong email, lock-out, grants bound and expiring.

The limits are the policy file's ``identity:`` figures (tests/service/test_service_identity_policy.py shows that
other figures take effect)."""

import pytest
from sqlalchemy import select

from policy_engine.service import NotVerified
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.identity_models import VerificationAttemptRow, VerificationTokenRow
from tests.support.store import repository_policy

ORDER, EMAIL = "AK1000003", "emma.twenty@example.com"
_LIMITS = repository_policy().identity
MAX_FAILURES = _LIMITS.max_failed_attempts
LOCKOUT_MINUTES = _LIMITS.lockout_minutes
TOKEN_MINUTES = _LIMITS.token_lifetime_minutes


def _public(v):
    return (v.verified, v.code, v.order_number, v.attempts_left, v.locked_until)


def test_correct_pair_verifies_case_insensitively_and_normalised(sqlite_service):
    v = sqlite_service.verify_customer("c1", " ak 100 0003 ", "  Emma.Twenty@EXAMPLE.com ")
    assert v.verified and v.code == "verified" and v.order_number == ORDER


def test_unknown_order_and_wrong_email_get_the_same_answer(sqlite_service):
    unknown = sqlite_service.verify_customer("c-a", "AK9999999", EMAIL)
    wrong = sqlite_service.verify_customer("c-b", ORDER, "someone.else@example.com")
    assert _public(unknown) == _public(wrong)
    assert unknown.code == "not_verified" and not unknown.verified and unknown.attempts_left == MAX_FAILURES - 1


@pytest.mark.parametrize(
    "order_number,email",
    [
        ("12345", EMAIL),
        ("AK12345678", EMAIL),
        ("", EMAIL),
        (ORDER, "not-an-email"),
        (ORDER, ""),
        (ORDER, "a@b"),
        (None, EMAIL),
        (ORDER, 42),
        ("AK" + "1" * 500, EMAIL),
        (ORDER, "x" * 300 + "@example.com"),
    ],
)
def test_malformed_input_is_invalid_input_and_not_counted(sqlite_service, order_number, email):
    v = sqlite_service.verify_customer("c-bad", order_number, email)
    assert v.code == "invalid_input" and not v.verified
    assert v.attempts_left == MAX_FAILURES
    assert sqlite_service.verify_customer("c-bad", ORDER, EMAIL).verified


def test_lock_out_per_conversation_even_with_the_right_pair(sqlite_service, clock):
    for i in range(MAX_FAILURES - 1):
        assert sqlite_service.verify_customer("c-lock", ORDER, f"wrong{i}@example.com").code == "not_verified"
    last = sqlite_service.verify_customer("c-lock", "AK9999998", "wrong@example.com")
    assert last.code == "locked_out" and last.locked_until is not None
    locked = sqlite_service.verify_customer("c-lock", ORDER, EMAIL)
    # issue 12: the right pair no longer verifies here; it only gets a one-time code to the purchase email (step-up)
    assert locked.code == "code_sent" and not locked.verified
    # another conversation on another order is not affected
    assert sqlite_service.verify_customer("c-other", "AK1000004", "noah.late@example.com").verified
    clock.advance(minutes=LOCKOUT_MINUTES + 1)
    assert sqlite_service.verify_customer("c-lock", ORDER, EMAIL).verified


def test_lock_out_per_order_across_conversations(sqlite_service):
    for i in range(MAX_FAILURES):
        sqlite_service.verify_customer(f"c-{i}", ORDER, f"guess{i}@example.com")
    v = sqlite_service.verify_customer("c-fresh", ORDER, EMAIL)
    # issue 12: the order is not locked for its customer, it needs a one-time code (step-up)
    assert v.code == "code_sent" and not v.verified


def test_an_unknown_order_locks_like_a_known_one(sqlite_service):
    known = [sqlite_service.verify_customer(f"k{i}", ORDER, "x@example.com").code for i in range(MAX_FAILURES + 1)]
    unknown = [
        sqlite_service.verify_customer(f"u{i}", "AK9999999", "x@example.com").code for i in range(MAX_FAILURES + 1)
    ]
    assert known == unknown


def test_every_attempt_is_recorded(sqlite_service, sqlite_engine):
    sqlite_service.verify_customer("c-rec", "AK9999999", EMAIL)
    sqlite_service.verify_customer("c-rec", "garbage", EMAIL)
    sqlite_service.verify_customer("c-rec", ORDER, EMAIL)
    with unit_of_work(make_session_factory(sqlite_engine)) as uow:
        codes = [
            a.code
            for a in uow.session.scalars(
                select(VerificationAttemptRow).filter_by(conversation_id="c-rec").order_by(VerificationAttemptRow.id)
            )
        ]
    assert codes == ["not_verified", "invalid_input", "verified"]


def test_the_grant_is_bound_to_conversation_and_order(sqlite_service):
    assert sqlite_service.verify_customer("c-own", ORDER, EMAIL).verified
    assert sqlite_service.order_overview("c-own", ORDER).order_number == ORDER
    with pytest.raises(NotVerified):
        sqlite_service.order_overview("c-thief", ORDER)
    with pytest.raises(NotVerified):
        sqlite_service.order_overview("c-own", "AK1000004")
    with pytest.raises(NotVerified):
        sqlite_service.preview_cancellation("c-own" + "x", ORDER)
    for bad in (None, "", 123, "x" * 1000):
        with pytest.raises(NotVerified):
            sqlite_service.refund_status(bad, ORDER)
        with pytest.raises(NotVerified):
            sqlite_service.refund_status("c-own", bad)


def test_the_grant_expires(sqlite_service, clock):
    assert sqlite_service.verify_customer("c-exp", ORDER, EMAIL).verified
    clock.advance(minutes=TOKEN_MINUTES - 1)
    sqlite_service.refund_status("c-exp", ORDER)
    clock.advance(minutes=2)
    with pytest.raises(NotVerified):
        sqlite_service.refund_status("c-exp", ORDER)


def test_no_secret_is_handed_out_or_stored(sqlite_service, sqlite_engine):
    """Issue 12, finding 4: nothing reusable leaves the service; the grant row holds no token or hash of one."""
    v = sqlite_service.verify_customer("c-hash", ORDER, EMAIL)
    assert set(vars(v)) == {"verified", "code", "order_number", "attempts_left", "locked_until"}
    with unit_of_work(make_session_factory(sqlite_engine)) as uow:
        grant = uow.session.scalars(select(VerificationTokenRow)).one()
        assert (grant.conversation_id, grant.order.order_number) == ("c-hash", ORDER)
    assert set(VerificationTokenRow.__table__.columns.keys()) == {
        "id",
        "conversation_id",
        "order_id",
        "created_at",
        "expires_at",
    }


def test_conversation_id_must_be_sane(sqlite_service):
    from policy_engine.core.errors import InvalidRequest

    for bad in ("", None, "c" * 500):
        with pytest.raises(InvalidRequest):
            sqlite_service.verify_customer(bad, ORDER, EMAIL)


def test_verification_on_postgres_too(service):
    assert service.verify_customer("pg", ORDER, EMAIL.upper()).verified
    assert service.verify_customer("pg2", "AK9999999", EMAIL).code == "not_verified"
