"""Tables of the handoff to people (issue 17, CON-1): agent accounts, their server-side sessions, the handoffs (the
waiting queue, taken conversations, outside-hours tickets) and the messages agents send.  Registered on
``Base.metadata`` by models.py, created by migration 0004.

* ``agents``: a support agent's account; ``password_hash`` is argon2id (``argon2-cffi``), never the password.
* ``agent_sessions``: a signed-in browser; the cookie carries a random token whose SHA-256 is ``token_hash`` (a
  stolen database does not sign anybody in), with the session's CSRF token and expiry.
* ``handoffs``: one per request for a person.  ``status``: ``waiting`` (in the queue) -> ``taken`` (an agent answers)
  -> ``handed_back`` (the bot answers again) or ``closed``; outside the hours ``ticket`` (answered by email later).
  At most one *active* (waiting or taken) handoff per conversation: partial unique index ``uq_handoff_active``.
  Taking is a conditional UPDATE (``WHERE status = 'waiting'``): two agents cannot both take one conversation.
* ``handoff_messages``: what agents wrote to the customer (the Rasa tracker holds the whole transcript).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .models import CASE_ID_LEN, CONVERSATION_LEN, NAME_LEN, ORDER_NUMBER_LEN, SHORT_LEN, Base
from .types import UTCDateTime

#: an agent's display and sign-in name
AGENT_NAME_LEN = 80
#: argon2 encoded hashes are about 100 characters
PASSWORD_HASH_LEN = 255
#: an agent's reply to a customer
AGENT_MESSAGE_LEN = 2000
HANDOFF_STATUSES = ("waiting", "taken", "handed_back", "closed", "ticket")
ACTIVE_STATUSES = ("waiting", "taken")


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(AGENT_NAME_LEN), unique=True)
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_LEN))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentSessionRow(Base):
    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandoffRow(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(CASE_ID_LEN), nullable=True, unique=True)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_LEN), index=True)
    channel: Mapped[str] = mapped_column(String(SHORT_LEN))
    status: Mapped[str] = mapped_column(String(SHORT_LEN))
    cause: Mapped[str] = mapped_column(String(SHORT_LEN))
    order_number: Mapped[str | None] = mapped_column(String(ORDER_NUMBER_LEN), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(SHORT_LEN), nullable=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'taken', 'handed_back', 'closed', 'ticket')", name="ck_handoffs_status"),
        Index(
            "uq_handoff_active",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'taken')"),
            postgresql_where=text("status IN ('waiting', 'taken')"),
        ),
        Index("ix_handoffs_status_created", "status", "created_at"),
    )


class HandoffMessageRow(Base):
    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    agent_name: Mapped[str] = mapped_column(String(NAME_LEN))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
