"""RET-4's step-up, the second half: the one-time code typed back into the conversation that asked for it (the code
is issued and mailed by ``identity.verify`` when the lock-out figure is reached)."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..core.formats import normalise_code
from ..core.policy import IdentityPolicy
from .identity import (
    Verification,
    as_aware,
    check_conversation_id,
    grant,
    hash_code,
    lock_counters,
    normalise_client,
    record_attempt,
)
from .identity_models import VerificationAttemptRow, VerificationCodeRow
from .models import (
    OrderRow,
)

_LATEST_REQUEST = (
    select(VerificationAttemptRow.id, VerificationAttemptRow.created_at)
    .where(
        VerificationAttemptRow.conversation_id == bindparam("conversation_id"),
        VerificationAttemptRow.code == "code_sent",
    )
    .order_by(VerificationAttemptRow.id.desc())
    .limit(1)
)
_WRONG_CODES_SINCE = (
    select(func.count())
    .select_from(VerificationAttemptRow)
    .where(
        VerificationAttemptRow.conversation_id == bindparam("conversation_id"),
        VerificationAttemptRow.code == "code_invalid",
        VerificationAttemptRow.id > bindparam("request_id"),
    )
)
_LATEST_CODE = (
    select(VerificationCodeRow)
    .where(VerificationCodeRow.conversation_id == bindparam("conversation_id"))
    .order_by(VerificationCodeRow.id.desc())
    .limit(1)
)


def verify_code(
    session: Session, conversation_id: str, code: object, now: datetime, limits: IdentityPolicy, client: object = None
) -> Verification:
    """RET-4 step-up: the one-time code typed into the conversation that requested it.

    ``verified`` (a grant for the code's order), ``invalid_code`` (``attempts_left`` more tries), ``code_expired``
    (no request of this conversation within ``code_lifetime_minutes``, or its tries are used up: ask for a new code)
    or ``invalid_input`` (not 6 digits; not counted).  The answer depends only on this conversation's own requests
    and entries, never on whether a code was really sent."""
    conversation_id = check_conversation_id(conversation_id)
    client = normalise_client(client)
    lock_counters(session, ("conversation", conversation_id))
    digits = normalise_code(code)
    if digits is None:
        record_attempt(session, conversation_id, "", "invalid_input", False, now, client)
        return Verification(False, "invalid_input", attempts_left=limits.code_max_attempts)
    request = session.execute(_LATEST_REQUEST, {"conversation_id": conversation_id}).one_or_none()
    lifetime = timedelta(minutes=limits.code_lifetime_minutes)
    if request is None or as_aware(request.created_at) + lifetime <= now:
        record_attempt(session, conversation_id, "", "code_expired", False, now, client)
        return Verification(False, "code_expired")
    wrong = session.execute(
        _WRONG_CODES_SINCE, {"conversation_id": conversation_id, "request_id": request.id}
    ).scalar_one()
    if wrong >= limits.code_max_attempts:
        record_attempt(session, conversation_id, "", "code_expired", False, now, client)
        return Verification(False, "code_expired")

    row = session.execute(_LATEST_CODE, {"conversation_id": conversation_id}).scalar_one_or_none()
    live = row is not None and row.used_at is None and row.expires_at > now and row.tries < limits.code_max_attempts
    if live and row is not None and hmac.compare_digest(row.code_hash, hash_code(row.salt, conversation_id, digits)):
        row.used_at = now
        number = session.execute(select(OrderRow.order_number).where(OrderRow.id == row.order_id)).scalar_one()
        record_attempt(session, conversation_id, number, "code_verified", False, now, client)
        grant(session, conversation_id, row.order_id, now, limits)
        return Verification(True, "verified", order_number=number, attempts_left=limits.max_failed_attempts)
    if live and row is not None:
        row.tries += 1
    record_attempt(session, conversation_id, "", "code_invalid", False, now, client)
    left = limits.code_max_attempts - wrong - 1
    if left <= 0:
        return Verification(False, "code_expired")
    return Verification(False, "invalid_code", attempts_left=left)
