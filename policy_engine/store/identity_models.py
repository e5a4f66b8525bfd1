"""Tables of the identity check (RET-4): failed attempts (the lock-out), verification grants bound to a
conversation, and the one-time codes of the step-up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import CONVERSATION_LEN, SHORT_LEN, Base, OrderRow
from .types import UTCDateTime

#: ``verification_attempts.client``: the channel's keyed hash of the caller's address (32 hex characters)
CLIENT_LEN = 64


class VerificationAttemptRow(Base):
    """Every identity check (RET-4), successful or not; the lock-out counts the failures per conversation, per client
    and per order number.  ``code``: verified | not_verified | locked_out | invalid_input | code_sent (a step-up
    request) | code_invalid (a wrong one-time code) | code_verified."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_LEN))
    order_number: Mapped[str] = mapped_column(String(64))  # as normalised, whether or not it exists
    code: Mapped[str] = mapped_column(String(SHORT_LEN))
    counts_as_failure: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client: Mapped[str | None] = mapped_column(String(CLIENT_LEN), nullable=True)

    __table_args__ = (
        Index("ix_verification_attempts_conversation", "conversation_id", "created_at"),
        Index("ix_verification_attempts_order", "order_number", "created_at"),
        Index("ix_verification_attempts_client", "client", "created_at"),
    )


class VerificationTokenRow(Base):
    """A verification grant: this conversation proved it knows this order's purchase email (or got its one-time code)
    and may read and act on the order until ``expires_at``.  Bound server-side to the conversation id; nothing
    secret is handed out (RET-4)."""

    __tablename__ = "verification_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_LEN))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    order: Mapped[OrderRow] = relationship()

    __table_args__ = (Index("ix_verification_tokens_conversation", "conversation_id", "order_id"),)


class VerificationCodeRow(Base):
    """A one-time code sent to an order's purchase email for a conversation in step-up (RET-4).  Only an HMAC of the
    code (keyed with a random per-row salt) is stored; ``tries`` wrong entries void it, ``used_at`` spends it."""

    __tablename__ = "verification_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_LEN))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_verification_codes_conversation", "conversation_id", "created_at"),
        Index("ix_verification_codes_order", "order_id", "created_at"),
    )
