"""Tables of warranty claims for products bought elsewhere (WAR-9, WAR-12, WAR-20) and of uploaded evidence (WAR-7,
WAR-9): the proof of purchase and the photos of a defect.

* ``email_verifications``: a one-time code mailed to the address a customer without a web-store order gives; the
  claim is written under that address only after the code came back into the same conversation (the customer's
  identity for follow-up; RET-4's step-up, applied to an email instead of an order).  Only a salted HMAC is stored.
* ``purchase_claims``: a ``WAR-E`` case (``WAR-E000001``: the ``E`` keeps its numbers apart from the per-order-line
  ``WAR-`` claims, whose keys come from another table) with the purchase as the customer stated it (seller,
  date, price, country, product) and the claim's facts.  One *open* claim per conversation (a double "yes" gives
  the same case).
* ``evidence``: a file a channel stored (``chat_channels/uploads.py``), registered by the conversation that sent it
  and linked to the case once the case is written.  The row holds the file's storage key (a random name in the
  upload directory), never a path the customer chose; staff fetch it with ``python -m policy_engine evidence``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..core import formats
from .models import (
    CASE_ID_LEN,
    CONVERSATION_LEN,
    EMAIL_LEN,
    NAME_LEN,
    SERIAL_LEN,
    SHORT_LEN,
    SKU_LEN,
    Base,
    CaseColumns,
)
from .types import Money, UTCDateTime

#: an upload's id: ``secrets.token_hex(16)`` (chat_channels/uploads.py)
UPLOAD_ID_LEN = 32
SHA256_LEN = 64


class EmailVerificationRow(Base):
    """A one-time code sent to ``email`` for ``conversation_id``; ``verified_at`` once the code came back."""

    __tablename__ = "email_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_LEN))
    email: Mapped[str] = mapped_column(String(EMAIL_LEN))
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_email_verifications_conversation", "conversation_id", "created_at"),
        Index("ix_email_verifications_email", "email", "created_at"),
    )


class PurchaseClaimRow(CaseColumns, Base):
    """A warranty claim for a product bought elsewhere (no order in this store)."""

    __tablename__ = "purchase_claims"

    email: Mapped[str] = mapped_column(String(EMAIL_LEN), index=True)  # verified by a one-time code
    status: Mapped[str] = mapped_column(String(SHORT_LEN), default="open")  # open | closed
    seller: Mapped[str] = mapped_column(String(NAME_LEN))  # normalised (``best_buy``)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    purchased_on: Mapped[date] = mapped_column(Date)
    price: Mapped[Decimal] = mapped_column(Money)
    country: Mapped[str] = mapped_column(String(2))
    serial_number: Mapped[str | None] = mapped_column(String(SERIAL_LEN), nullable=True)
    defect: Mapped[str] = mapped_column(String(formats.TEXT_MAX_CHARS))
    cause: Mapped[str | None] = mapped_column(String(SHORT_LEN), nullable=True)
    claim_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)  # WAR-10

    __table_args__ = (
        CheckConstraint("price >= 0", name="ck_purchase_claims_price"),
        Index(
            "uq_purchase_claim_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )


class EvidenceRow(Base):
    """An uploaded file: a proof of purchase (``receipt``, WAR-9) or a photo of the defect (``defect``, WAR-7)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[str] = mapped_column(String(UPLOAD_ID_LEN), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_LEN), index=True)
    kind: Mapped[str] = mapped_column(String(SHORT_LEN))  # receipt | defect | file (held: sent off-question)
    content_type: Mapped[str] = mapped_column(String(SHORT_LEN))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(SHA256_LEN))
    channel: Mapped[str] = mapped_column(String(SHORT_LEN))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    case_id: Mapped[str | None] = mapped_column(String(CASE_ID_LEN), nullable=True, index=True)
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("kind IN ('receipt', 'defect', 'file')", name="ck_evidence_kind"),
        CheckConstraint("size_bytes > 0", name="ck_evidence_size"),
    )


def link_held_evidence(session: Session, conversation_id: str, case_id: str, now: datetime) -> int:
    """The conversation's files not yet linked to a case now belong to ``case_id`` (the case it just opened; issue
    16: a file sent while another question was asked is held until then); the number linked."""
    result = session.execute(
        update(EvidenceRow)
        .where(EvidenceRow.conversation_id == conversation_id, EvidenceRow.case_id.is_(None))
        .values(case_id=case_id, linked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["EmailVerificationRow", "PurchaseClaimRow", "EvidenceRow", "SKU_LEN", "link_held_evidence"]
