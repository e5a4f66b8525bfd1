"""A claim without an order is written under an email address only after a one-time code mailed to it came back
into the same conversation (RET-4's step-up applied to an address; the figures of ``identity:`` in policy.yml)."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core.formats import normalise_code, normalise_email
from ..store.db import unit_of_work
from ..store.evidence_models import EmailVerificationRow
from ..store.identity import Verification, check_conversation_id, hash_code
from ..store.mail import MailError, code_message
from .base import ServiceBase

logger = logging.getLogger(__name__)


class ClaimEmailUseCases(ServiceBase):
    def send_claim_email_code(self, conversation_id: str, email: str) -> Verification:
        """A one-time code to ``email`` for this conversation: ``code_sent`` (whether or not it was really sent: the
        per-address and per-conversation send limits) or ``invalid_input``."""
        conversation_id = check_conversation_id(conversation_id)
        address = normalise_email(email)
        if address is None:
            return Verification(False, "invalid_input")
        limits = self.policy.identity
        now = self.now()
        since = now - timedelta(hours=1)
        code = f"{secrets.randbelow(1_000_000):06d}"
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            per_address = session.execute(
                select(func.count()).where(
                    EmailVerificationRow.email == address, EmailVerificationRow.created_at > since
                )
            ).scalar_one()
            per_conversation = session.execute(
                select(func.count()).where(
                    EmailVerificationRow.conversation_id == conversation_id, EmailVerificationRow.created_at > since
                )
            ).scalar_one()
            if max(per_address, per_conversation) >= limits.code_max_sends_per_hour:
                logger.info("claim email: the send limit is reached; no code sent")
                return Verification(False, "code_sent")
            salt = secrets.token_hex(16)
            session.add(
                EmailVerificationRow(
                    conversation_id=conversation_id,
                    email=address,
                    salt=salt,
                    code_hash=hash_code(salt, conversation_id, code),
                    tries=0,
                    created_at=now,
                    expires_at=now + timedelta(minutes=limits.code_lifetime_minutes),
                )
            )
            uow.commit()
        try:
            mailer = self.mailer
            mailer.send(
                code_message(
                    getattr(mailer, "sender", "support@localhost"), address, code, limits.code_lifetime_minutes
                )
            )
        except (MailError, ValueError) as error:
            logger.error("claim email: the one-time code could not be sent: %s", error)
        return Verification(False, "code_sent")

    def verify_claim_email(self, conversation_id: str, code: str) -> Verification:
        """The code of this conversation's latest request: ``verified``, ``invalid_code`` (``attempts_left``),
        ``code_expired`` or ``invalid_input``."""
        conversation_id = check_conversation_id(conversation_id)
        digits = normalise_code(code)
        limits = self.policy.identity
        if digits is None:
            return Verification(False, "invalid_input", attempts_left=limits.code_max_attempts)
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            row = uow.session.scalars(
                select(EmailVerificationRow)
                .where(EmailVerificationRow.conversation_id == conversation_id)
                .order_by(EmailVerificationRow.created_at.desc(), EmailVerificationRow.id.desc())
                .limit(1)
            ).first()
            if row is None or row.expires_at <= now or row.tries >= limits.code_max_attempts or row.verified_at:
                return Verification(False, "code_expired")
            if hmac.compare_digest(row.code_hash, hash_code(row.salt, conversation_id, digits)):
                row.verified_at = now
                uow.commit()
                return Verification(True, "verified", attempts_left=limits.code_max_attempts)
            row.tries += 1
            left = limits.code_max_attempts - row.tries
            uow.commit()
            return Verification(False, "invalid_code" if left > 0 else "code_expired", attempts_left=max(left, 0))

    def _verified_email(self, session: Session, conversation_id: str, now: datetime) -> str | None:
        since = now - timedelta(minutes=self.policy.identity.token_lifetime_minutes)
        return session.execute(
            select(EmailVerificationRow.email)
            .where(
                EmailVerificationRow.conversation_id == conversation_id,
                EmailVerificationRow.verified_at.is_not(None),
                EmailVerificationRow.verified_at > since,
            )
            .order_by(EmailVerificationRow.verified_at.desc())
            .limit(1)
        ).scalar_one_or_none()
