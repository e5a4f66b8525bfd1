"""Identity verification (RET-4): order number + purchase email, lock-out, and verification tokens.

The figures come from the policy file's ``identity:`` section (``IdentityPolicy``, docs/policy.md):

* Unknown order and wrong email give the same answer (``not_verified``) with the same ``attempts_left``: failures
  are counted per conversation and per *typed* order number, whether or not that order exists.
* Clearly malformed input (not ``AK`` + 7 digits, not an email address) is ``invalid_input`` and is not counted.
* After ``max_failed_attempts`` failures within ``lockout_minutes`` for the conversation or for the order number,
  every attempt answers ``locked_out`` (even a correct one) until ``locked_until``.
* Every attempt is recorded.  A success issues a random token; only its SHA-256 is stored, bound to the conversation
  and the order, expiring after ``token_lifetime_minutes``.

Counting is atomic: concurrent guesses for the same conversation or order number are serialised before the failures
are counted, so parallel wrong guesses never get more than ``max_failed_attempts`` tries.  SQLite: the write unit of
work starts with ``BEGIN IMMEDIATE`` (one writer at a time).  PostgreSQL: ``pg_advisory_xact_lock`` on a 64-bit key
per conversation and per order number, taken in a fixed order (so two attempts never deadlock) and released at
commit or rollback.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from ..policy import IdentityPolicy, InvalidRequest
from .models import CONVERSATION_LEN, EMAIL_LEN, OrderRow, VerificationAttemptRow, VerificationTokenRow
from .queries import order_for_token

ORDER_NUMBER_RE = re.compile(r"AK\d{7}")
EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_DUMMY_EMAIL = "nobody@invalid.example"


class NotVerified(Exception):
    """The token is missing, expired, or does not belong to this conversation and order. Nothing is disclosed."""


@dataclass(frozen=True)
class Verification:
    verified: bool
    code: str                      # "verified" | "not_verified" | "locked_out" | "invalid_input"
    token: str | None = None
    order_number: str | None = None
    attempts_left: int = 0
    locked_until: datetime | None = None


def normalise_order_number(raw: object) -> str | None:
    """``" ak 123 4567 "`` / ``"#AK1234567"`` -> ``"AK1234567"``; anything else -> None."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    candidate = re.sub(r"[\s\-#]", "", raw).upper()
    return candidate if ORDER_NUMBER_RE.fullmatch(candidate) else None


def normalise_email(raw: object) -> str | None:
    if not isinstance(raw, str) or len(raw) > EMAIL_LEN + 10:
        return None
    candidate = raw.strip().lower()
    if len(candidate) > EMAIL_LEN or not EMAIL_RE.fullmatch(candidate):
        return None
    return candidate


def check_conversation_id(conversation_id: object) -> str:
    if not isinstance(conversation_id, str) or not conversation_id.strip() or len(conversation_id) > CONVERSATION_LEN:
        raise InvalidRequest(f"conversation_id must be a non-empty string of at most {CONVERSATION_LEN} characters")
    return conversation_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _lock_key(scope: str, value: str) -> int:
    """A signed 64-bit advisory-lock key for (scope, value); a collision only serialises two unrelated keys."""
    digest = hashlib.sha256(f"identity:{scope}:{value}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_counters(session: Session, *keys: tuple[str, str]) -> None:
    """Serialise attempts on these (scope, value) counters until the transaction ends (RET-4 lock-out).

    PostgreSQL: transaction-level advisory locks, sorted so every attempt takes them in the same order.  SQLite needs
    nothing: the write transaction (``BEGIN IMMEDIATE``) already excludes every other writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({_lock_key(scope, value) for scope, value in keys}):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _failures_stmt(column):
    """Failures for one counter since a moment, and the latest of them (built once per counter: compiled cache)."""
    return select(func.count(), func.max(VerificationAttemptRow.created_at)).where(
        column == bindparam("value"),
        VerificationAttemptRow.counts_as_failure.is_(True),
        VerificationAttemptRow.created_at > bindparam("since", type_=VerificationAttemptRow.created_at.type),
    )


_FAILURES = {
    "conversation": _failures_stmt(VerificationAttemptRow.conversation_id),
    "order": _failures_stmt(VerificationAttemptRow.order_number),
}
_ORDER_EMAIL = select(OrderRow.id, OrderRow.email).where(OrderRow.order_number == bindparam("number"))
_INSERT_ATTEMPT = VerificationAttemptRow.__table__.insert()
_INSERT_TOKEN = VerificationTokenRow.__table__.insert()


def _recent_failures(session: Session, counter: str, value: str, since: datetime) -> tuple[int, datetime | None]:
    count, latest = session.execute(_FAILURES[counter], {"value": value, "since": since}).one()
    if latest is not None and (not isinstance(latest, datetime) or latest.tzinfo is None):
        latest = _as_aware(latest)  # func.max bypasses the column type on SQLite
    return int(count), latest


def _as_aware(value) -> datetime:
    from datetime import timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _record(session: Session, conversation_id: str, order_number: str, code: str, failure: bool, now: datetime):
    session.execute(_INSERT_ATTEMPT, {"conversation_id": conversation_id, "order_number": order_number[:64],
                                      "code": code, "counts_as_failure": failure, "created_at": now})


def verify(session: Session, conversation_id: str, order_number: object, email: object, now: datetime,
           limits: IdentityPolicy) -> Verification:
    """RET-4. Writes the attempt (and the token) into ``session``; the caller commits (``write=True`` unit)."""
    conversation_id = check_conversation_id(conversation_id)
    max_failures = limits.max_failed_attempts
    lockout = timedelta(minutes=limits.lockout_minutes)
    window_start = now - lockout
    typed_order = order_number.strip().upper()[:64] if isinstance(order_number, str) else ""
    number = normalise_order_number(order_number)
    address = normalise_email(email)
    # both counters are locked before either is read: the count and the new attempt are one atomic step
    lock_counters(session, ("conversation", conversation_id), *([("order", number)] if number else []))

    conv_failures, conv_latest = _recent_failures(session, "conversation", conversation_id, window_start)
    if conv_failures >= max_failures:
        _record(session, conversation_id, typed_order, "locked_out", False, now)
        return Verification(False, "locked_out", locked_until=conv_latest + lockout)

    if number is None or address is None:
        _record(session, conversation_id, typed_order, "invalid_input", False, now)
        return Verification(False, "invalid_input", attempts_left=max_failures - conv_failures)

    order_failures, order_latest = _recent_failures(session, "order", number, window_start)
    if order_failures >= max_failures:
        _record(session, conversation_id, number, "locked_out", False, now)
        return Verification(False, "locked_out", locked_until=order_latest + lockout)

    order = session.execute(_ORDER_EMAIL, {"number": number}).one_or_none()
    expected = order.email if order is not None else _DUMMY_EMAIL
    matches = hmac.compare_digest(expected.lower().encode(), address.encode()) and order is not None
    if matches:
        _record(session, conversation_id, number, "verified", False, now)
        token = secrets.token_urlsafe(32)
        session.execute(_INSERT_TOKEN, {
            "token_hash": hash_token(token),
            "conversation_id": conversation_id,
            "order_id": order.id,
            "created_at": now,
            "expires_at": now + timedelta(minutes=limits.token_lifetime_minutes),
        })
        return Verification(True, "verified", token=token, order_number=number, attempts_left=max_failures)

    failures = max(conv_failures, order_failures) + 1
    if failures >= max_failures:
        _record(session, conversation_id, number, "locked_out", True, now)
        return Verification(False, "locked_out", locked_until=now + lockout)
    _record(session, conversation_id, number, "not_verified", True, now)
    return Verification(False, "not_verified", attempts_left=max_failures - failures)


def authorise(session: Session, conversation_id: object, token: object, order_number: object, now: datetime) -> OrderRow:
    """The verified order, if ``token`` was issued to this conversation for this order and has not expired.

    ``order_number=None`` accepts the token's own order (e.g. the credits balance).  Raises ``NotVerified``.
    """
    if not isinstance(conversation_id, str) or not isinstance(token, str) or not token or len(token) > 256:
        raise NotVerified()
    # one statement: the token's binding and the order's facts (lines, products, serials)
    found = order_for_token(session, hash_token(token))
    if found is None:
        raise NotVerified()
    order, bound_conversation, expires_at = found
    if not hmac.compare_digest(bound_conversation.encode(), conversation_id.encode()):
        raise NotVerified()
    if expires_at <= now:
        raise NotVerified()
    if order_number is not None and normalise_order_number(order_number) != order.order_number:
        raise NotVerified()
    return order
