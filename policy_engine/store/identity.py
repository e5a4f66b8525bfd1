"""Identity verification (RET-4): order number + purchase email, lock-out, and verification tokens.

* Unknown order and wrong email give the same answer (``not_verified``) with the same ``attempts_left``: failures
  are counted per conversation and per *typed* order number, whether or not that order exists.
* Clearly malformed input (not ``AK`` + 7 digits, not an email address) is ``invalid_input`` and is not counted.
* After ``MAX_FAILURES`` failures within ``LOCKOUT_MINUTES`` for the conversation or for the order number, every
  attempt answers ``locked_out`` (even a correct one) until ``locked_until``.
* Every attempt is recorded.  A success issues a random token; only its SHA-256 is stored, bound to the conversation
  and the order, expiring after ``TOKEN_MINUTES``.

The policy file (policy/policy.yml) has no key for these figures yet, so they are constants here.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..policy import InvalidRequest
from .models import CONVERSATION_LEN, EMAIL_LEN, OrderRow, VerificationAttemptRow, VerificationTokenRow
from .queries import order_by_number

MAX_FAILURES = 5
LOCKOUT_MINUTES = 15
TOKEN_MINUTES = 30

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


def _recent_failures(session: Session, column, value: str, since: datetime) -> tuple[int, datetime | None]:
    stmt = select(func.count(), func.max(VerificationAttemptRow.created_at)).where(
        column == value,
        VerificationAttemptRow.counts_as_failure.is_(True),
        VerificationAttemptRow.created_at > since,
    )
    count, latest = session.execute(stmt).one()
    if latest is not None and latest.tzinfo is None:  # func.max bypasses the column type on SQLite
        latest = _as_aware(latest)
    return int(count), latest


def _as_aware(value) -> datetime:
    from datetime import timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _record(session: Session, conversation_id: str, order_number: str, code: str, failure: bool, now: datetime):
    session.add(
        VerificationAttemptRow(
            conversation_id=conversation_id,
            order_number=order_number[:64],
            code=code,
            counts_as_failure=failure,
            created_at=now,
        )
    )


def verify(session: Session, conversation_id: str, order_number: object, email: object, now: datetime) -> Verification:
    """RET-4. Writes the attempt (and the token) into ``session``; the caller commits."""
    conversation_id = check_conversation_id(conversation_id)
    window_start = now - timedelta(minutes=LOCKOUT_MINUTES)
    typed_order = order_number.strip().upper()[:64] if isinstance(order_number, str) else ""

    conv_failures, conv_latest = _recent_failures(
        session, VerificationAttemptRow.conversation_id, conversation_id, window_start
    )
    if conv_failures >= MAX_FAILURES:
        _record(session, conversation_id, typed_order, "locked_out", False, now)
        return Verification(False, "locked_out", locked_until=conv_latest + timedelta(minutes=LOCKOUT_MINUTES))

    number = normalise_order_number(order_number)
    address = normalise_email(email)
    if number is None or address is None:
        _record(session, conversation_id, typed_order, "invalid_input", False, now)
        return Verification(False, "invalid_input", attempts_left=MAX_FAILURES - conv_failures)

    order_failures, order_latest = _recent_failures(
        session, VerificationAttemptRow.order_number, number, window_start
    )
    if order_failures >= MAX_FAILURES:
        _record(session, conversation_id, number, "locked_out", False, now)
        return Verification(False, "locked_out", locked_until=order_latest + timedelta(minutes=LOCKOUT_MINUTES))

    order = order_by_number(session, number)
    expected = order.email if order is not None else _DUMMY_EMAIL
    matches = hmac.compare_digest(expected.lower().encode(), address.encode()) and order is not None
    if matches:
        _record(session, conversation_id, number, "verified", False, now)
        token = secrets.token_urlsafe(32)
        session.add(
            VerificationTokenRow(
                token_hash=hash_token(token),
                conversation_id=conversation_id,
                order_id=order.id,
                created_at=now,
                expires_at=now + timedelta(minutes=TOKEN_MINUTES),
            )
        )
        return Verification(True, "verified", token=token, order_number=number, attempts_left=MAX_FAILURES)

    failures = max(conv_failures, order_failures) + 1
    if failures >= MAX_FAILURES:
        _record(session, conversation_id, number, "locked_out", True, now)
        return Verification(False, "locked_out", locked_until=now + timedelta(minutes=LOCKOUT_MINUTES))
    _record(session, conversation_id, number, "not_verified", True, now)
    return Verification(False, "not_verified", attempts_left=MAX_FAILURES - failures)


def authorise(session: Session, conversation_id: object, token: object, order_number: object, now: datetime) -> OrderRow:
    """The verified order, if ``token`` was issued to this conversation for this order and has not expired.

    ``order_number=None`` accepts the token's own order (e.g. the credits balance).  Raises ``NotVerified``.
    """
    if not isinstance(conversation_id, str) or not isinstance(token, str) or not token or len(token) > 256:
        raise NotVerified()
    row = session.scalars(
        select(VerificationTokenRow).where(VerificationTokenRow.token_hash == hash_token(token))
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.conversation_id.encode(), conversation_id.encode()):
        raise NotVerified()
    if row.expires_at <= now:
        raise NotVerified()
    order = order_by_number(session, row.order.order_number)
    if order is None:
        raise NotVerified()
    if order_number is not None and normalise_order_number(order_number) != order.order_number:
        raise NotVerified()
    return order
