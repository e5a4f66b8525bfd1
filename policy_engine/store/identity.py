"""Identity verification (RET-4): order number + purchase email, lock-out, step-up by one-time code, and grants.

The figures come from the policy file's ``identity:`` section (``IdentityPolicy``, docs/policy.md); the bot uses
the same figures through the service's answers (it counts nothing itself):

* Unknown order and wrong email give the same answer (``not_verified``) with the same ``attempts_left``: failures
  are counted per conversation, per client (the channel's keyed hash of the caller's address, when known) and per
  *typed* order number, whether or not that order exists.
* Clearly malformed input (not ``AK`` + 7 digits, not an email address) is ``invalid_input`` and is not counted.
* The ``max_failed_attempts``-th failure within ``lockout_minutes`` of a conversation or a client answers
  ``locked_out`` (``locked_until``).  From then on, and for an order number with that many failures from anyone,
  an attempt does not verify: it is a **step-up** request.  A matching order number + email gets a random 6-digit
  code sent to the purchase email on file (``CodeToSend``, mailed by the service after commit); the answer,
  ``code_sent``, is the same whether or not the email matched, the order exists or a code was really sent (the
  per-order send limit ``code_max_sends_per_hour``).  Step-up requests are not counted as failures: nobody but the
  owner of the purchase mailbox gets past them, so guessing there gains nothing, and a flood of wrong guesses for an
  order never locks its customer out (issue 12, finding 6).
* ``verify_code``: the code typed into the conversation that requested it, within ``code_lifetime_minutes`` of the
  request, at most ``code_max_attempts`` wrong entries per request and per code (a wrong entry, an expired request
  and a conversation that never got a code answer alike: they depend only on the conversation's own requests).
  Only a salted HMAC of each code is stored.
* Success records a **grant**: this conversation may act on this order until ``token_lifetime_minutes`` have passed.
  The grant is bound server-side to the conversation id (server-issued by the channels), so nothing secret is
  handed out and the conversation state (Rasa's tracker) holds no reusable credential; ``authorise`` checks it.

Counting is atomic: concurrent guesses for the same conversation, client or order number are serialised before the
failures are counted, so parallel wrong guesses never get more than ``max_failed_attempts`` tries.  SQLite: the write
unit of work starts with ``BEGIN IMMEDIATE`` (one writer at a time).  PostgreSQL: ``pg_advisory_xact_lock`` on a 64-bit
key per conversation, client and order number, taken in a fixed order (so two attempts never deadlock) and released
at commit or rollback.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from ..core.errors import InvalidRequest, NotVerified
from ..core.formats import normalise_email, normalise_order_number
from ..core.policy import IdentityPolicy
from .identity_models import CLIENT_LEN, VerificationAttemptRow, VerificationCodeRow, VerificationTokenRow
from .models import (
    CONVERSATION_LEN,
    OrderRow,
)
from .queries import order_for_grant

logger = logging.getLogger(__name__)

_DUMMY_EMAIL = "nobody@invalid.example"


@dataclass(frozen=True)
class Verification:
    """The answer to a verification attempt; it carries no secret (the grant stays in the store)."""

    verified: bool
    code: str  # verified | not_verified | locked_out | invalid_input | code_sent | invalid_code | code_expired
    order_number: str | None = None
    attempts_left: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class CodeToSend:
    """A one-time code to mail to the purchase email (service-internal: never returned to a caller)."""

    email: str
    code: str
    minutes: int

    def __repr__(self) -> str:  # never log the address or the code
        return "CodeToSend(<redacted>)"


CLIENT_RE = re.compile(rf"[0-9A-Za-z_-]{{1,{CLIENT_LEN}}}")


def check_conversation_id(conversation_id: object) -> str:
    if not isinstance(conversation_id, str) or not conversation_id.strip() or len(conversation_id) > CONVERSATION_LEN:
        raise InvalidRequest(f"conversation_id must be a non-empty string of at most {CONVERSATION_LEN} characters")
    return conversation_id


def normalise_client(raw: object) -> str | None:
    """The channel's client key (``metadata["client"]``: a keyed hash of the caller's address), or None."""
    if isinstance(raw, str) and CLIENT_RE.fullmatch(raw):
        return raw.lower()
    return None


def hash_code(salt: str, conversation_id: str, code: str) -> str:
    return hmac.new(salt.encode(), f"{conversation_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _lock_key(scope: str, value: str) -> int:
    """A signed 64-bit advisory-lock key for (scope, value); a collision only serialises two unrelated keys."""
    digest = hashlib.sha256(f"identity:{scope}:{value}".encode()).digest()
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
    "client": _failures_stmt(VerificationAttemptRow.client),
    "order": _failures_stmt(VerificationAttemptRow.order_number),
}
_ORDER_EMAIL = select(OrderRow.id, OrderRow.email).where(OrderRow.order_number == bindparam("number"))
_INSERT_ATTEMPT = insert(VerificationAttemptRow)
_INSERT_GRANT = insert(VerificationTokenRow)
_INSERT_CODE = insert(VerificationCodeRow)
_SENDS_FOR_ORDER = (
    select(func.count())
    .select_from(VerificationCodeRow)
    .where(
        VerificationCodeRow.order_id == bindparam("order_id"),
        VerificationCodeRow.created_at > bindparam("since", type_=VerificationCodeRow.created_at.type),
    )
)


def _recent_failures(session: Session, counter: str, value: str | None, since: datetime) -> tuple[int, datetime | None]:
    if value is None:
        return 0, None
    count, latest = session.execute(_FAILURES[counter], {"value": value, "since": since}).one()
    if latest is not None and (not isinstance(latest, datetime) or latest.tzinfo is None):
        latest = as_aware(latest)  # func.max bypasses the column type on SQLite
    return int(count), latest


def as_aware(value) -> datetime:
    from datetime import timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def record_attempt(
    session: Session,
    conversation_id: str,
    order_number: str,
    code: str,
    failure: bool,
    now: datetime,
    client: str | None,
) -> None:
    session.execute(
        _INSERT_ATTEMPT,
        {
            "conversation_id": conversation_id,
            "order_number": order_number[:64],
            "code": code,
            "counts_as_failure": failure,
            "created_at": now,
            "client": client,
        },
    )


def grant(session: Session, conversation_id: str, order_id: int, now: datetime, limits: IdentityPolicy) -> None:
    session.execute(
        _INSERT_GRANT,
        {
            "conversation_id": conversation_id,
            "order_id": order_id,
            "created_at": now,
            "expires_at": now + timedelta(minutes=limits.token_lifetime_minutes),
        },
    )


def _issue_code(
    session: Session, conversation_id: str, order_id: int, email: str, now: datetime, limits: IdentityPolicy
) -> CodeToSend | None:
    """A new one-time code for (conversation, order), unless the order had ``code_max_sends_per_hour`` already."""
    sends = session.execute(_SENDS_FOR_ORDER, {"order_id": order_id, "since": now - timedelta(hours=1)}).scalar_one()
    if sends >= limits.code_max_sends_per_hour:
        logger.info("step-up: the order's code send limit is reached; no code sent")
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(16)
    session.execute(
        _INSERT_CODE,
        {
            "conversation_id": conversation_id,
            "order_id": order_id,
            "salt": salt,
            "code_hash": hash_code(salt, conversation_id, code),
            "tries": 0,
            "created_at": now,
            "expires_at": now + timedelta(minutes=limits.code_lifetime_minutes),
            "used_at": None,
        },
    )
    return CodeToSend(email, code, limits.code_lifetime_minutes)


def verify(
    session: Session,
    conversation_id: str,
    order_number: object,
    email: object,
    now: datetime,
    limits: IdentityPolicy,
    client: object = None,
) -> tuple[Verification, CodeToSend | None]:
    """RET-4. Writes the attempt (and the grant or the code) into ``session``; the caller commits (``write=True``
    unit) and then mails the ``CodeToSend``, if any."""
    conversation_id = check_conversation_id(conversation_id)
    client = normalise_client(client)
    max_failures = limits.max_failed_attempts
    lockout = timedelta(minutes=limits.lockout_minutes)
    window_start = now - lockout
    typed_order = order_number.strip().upper()[:64] if isinstance(order_number, str) else ""
    number = normalise_order_number(order_number)
    address = normalise_email(email)
    # every counter is locked before any is read: the count and the new attempt are one atomic step
    lock_counters(
        session,
        ("conversation", conversation_id),
        *([("client", client)] if client else []),
        *([("order", number)] if number else []),
    )

    conv_failures, conv_latest = _recent_failures(session, "conversation", conversation_id, window_start)
    client_failures, client_latest = _recent_failures(session, "client", client, window_start)
    if number is None or address is None:
        record_attempt(session, conversation_id, typed_order, "invalid_input", False, now, client)
        return Verification(
            False, "invalid_input", attempts_left=max(0, max_failures - max(conv_failures, client_failures))
        ), None

    order_failures, _ = _recent_failures(session, "order", number, window_start)
    order = session.execute(_ORDER_EMAIL, {"number": number}).one_or_none()
    expected = order.email if order is not None else _DUMMY_EMAIL
    matches = hmac.compare_digest(expected.lower().encode(), address.encode()) and order is not None

    if max(conv_failures, client_failures, order_failures) >= max_failures:
        # step-up: the same answer whatever the email, the order or the send limit; a code only for a match
        record_attempt(session, conversation_id, number, "code_sent", False, now, client)
        to_send = (
            _issue_code(session, conversation_id, order.id, order.email, now, limits)
            if matches and order is not None
            else None
        )
        return Verification(False, "code_sent"), to_send

    if matches and order is not None:
        record_attempt(session, conversation_id, number, "verified", False, now, client)
        grant(session, conversation_id, order.id, now, limits)
        return Verification(True, "verified", order_number=number, attempts_left=max_failures), None

    failures = max(conv_failures, client_failures) + 1
    if failures >= max_failures:
        record_attempt(session, conversation_id, number, "locked_out", True, now, client)
        return Verification(False, "locked_out", locked_until=now + lockout), None
    record_attempt(session, conversation_id, number, "not_verified", True, now, client)
    return Verification(False, "not_verified", attempts_left=max_failures - failures), None


def authorise(
    session: Session, conversation_id: object, order_number: object, now: datetime, *, any_order: bool = False
) -> OrderRow:
    """The order, if this conversation holds an unexpired verification grant for it (RET-4).

    ``any_order=True`` with ``order_number=None``: the order of the conversation's latest grant (the credits
    balance).  Raises ``NotVerified`` otherwise; nothing about the order is read or disclosed."""
    if not isinstance(conversation_id, str) or not conversation_id.strip() or len(conversation_id) > CONVERSATION_LEN:
        raise NotVerified()
    number = None
    if order_number is not None or not any_order:
        number = normalise_order_number(order_number)
        if number is None:
            raise NotVerified()
    order = order_for_grant(session, conversation_id, number, now)
    if order is None:
        raise NotVerified()
    return order
