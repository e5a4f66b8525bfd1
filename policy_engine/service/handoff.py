"""A person takes over (issue 17, CON-1): the handoff request with its summary, the waiting queue, taking a
conversation (atomic), agents' replies, hand back, close, the outside-hours ticket and its confirmation email, agent
accounts and their server-side sessions.  Every agent action writes an audit row (``decision_audit``, topic
``agent``) with the agent's name.

Where agents work (the built-in inbox or Chatwoot) is not decided here: ``agent_desk/`` calls these use cases and
carries the messages to and from the customer's chat.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.decision import Decision, to_jsonable
from ..core.errors import InvalidRequest
from ..core.handoff import (
    HandoffCause,
    TranscriptLine,
    decide_handoff,
    decision_line,
    handoff_summary,
    live_chat_open,
    next_opening,
)
from ..store.db import unit_of_work
from ..store.handoff_models import (
    ACTIVE_STATUSES,
    AGENT_MESSAGE_LEN,
    AGENT_NAME_LEN,
    AgentRow,
    AgentSessionRow,
    HandoffMessageRow,
    HandoffRow,
)
from ..store.identity import check_conversation_id
from ..store.mail import MailError
from ..store.models import DecisionAuditRow, case_id_for
from ..store.queries import order_for_grant
from .base import ServiceBase, insert_into

logger = logging.getLogger(__name__)

#: ticket numbers: ``HND-000042``
TICKET_PREFIX = "HND"
#: an agent's sign-in lasts this long
SESSION_HOURS = 12
#: the transcript kept in a summary (the last lines; the tracker keeps them all)
TRANSCRIPT_LINES = 200
_MAX_TEXT = 2000
_MIN_PASSWORD = 12


class HandoffConflict(InvalidRequest):
    """The handoff is not in a state that allows this (taken by another agent, already closed...)."""


@dataclass(frozen=True)
class AgentSession:
    agent_id: int
    name: str
    csrf_token: str


def people_moment(moment: datetime, tz: ZoneInfo) -> str:
    """``Monday 11 March 2024 at 10:00 PDT``: a time as people write it, in the store's time zone."""
    local = moment.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M %Z}"


def ticket_message(sender: str, to: str, ticket_id: str, opening: str | None, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Your Anker support request {ticket_id}"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    when = f"The team is next available on {opening}; " if opening else ""
    message.set_content(
        f"We have your request {ticket_id} from the support chat.\n\n"
        f"{when}a person will read the conversation and reply to this address.\n\n"
        "You do not need to repeat anything: the conversation and any decisions are attached to the request.\n"
    )
    return message


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_hasher():
    from argon2 import PasswordHasher  # an engine dependency, imported where it is used

    return PasswordHasher()


def _check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("the message must be non-empty text")
    if len(text) > min(_MAX_TEXT, AGENT_MESSAGE_LEN):
        raise InvalidRequest(f"the message must be at most {AGENT_MESSAGE_LEN} characters")
    return text.strip()


def handoff_view(row: HandoffRow, agent_name: str | None, position: int | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "conversation_id": row.conversation_id,
        "channel": row.channel,
        "status": row.status,
        "cause": row.cause,
        "order_number": row.order_number,
        "topic": row.topic,
        "agent": agent_name,
        "created_at": row.created_at.isoformat(),
        "queue_position": position,
    }


class HandoffUseCases(ServiceBase):
    # ------------------------------------------------------------------------------------------------ the bot's side
    def request_handoff(
        self,
        conversation_id: str,
        *,
        channel: str,
        cause: HandoffCause = HandoffCause.CUSTOMER_ASKED,
        topic: str | None = None,
        transcript: Sequence[TranscriptLine] = (),
    ) -> Decision:
        """CON-1: during live-chat hours the conversation joins the queue (``agent_joining`` with the queue position;
        asking again answers the same place), outside them a ticket (``ticket_opened``, ``HND-...``) with the same
        summary and a confirmation to the verified purchase email, if the conversation is verified."""
        conversation_id = check_conversation_id(conversation_id)
        now = self.now()
        mail_to: str | None = None
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            active = session.scalars(
                select(HandoffRow).where(
                    HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(ACTIVE_STATUSES)
                )
            ).first()
            if active is not None:
                decision = decide_handoff(self.policy, now, queue_position=_position(session, active), cause=cause)
                return decision
            order = order_for_grant(session, conversation_id, None, now)
            decisions = [
                decision_line(row.decision, created_at=row.created_at)
                for row in session.scalars(
                    select(DecisionAuditRow)
                    .where(DecisionAuditRow.conversation_id == conversation_id)
                    .order_by(DecisionAuditRow.id)
                )
            ]
            summary = handoff_summary(
                verified_order=order.order_number if order is not None else None,
                topic=topic,
                cause=cause,
                decisions=decisions,
                transcript=list(transcript)[-TRANSCRIPT_LINES:],
            )
            is_open = live_chat_open(self.policy, now)
            row = HandoffRow(
                conversation_id=conversation_id,
                channel=str(channel)[:40] or "unknown",
                status="waiting" if is_open else "ticket",
                cause=cause.value,
                order_number=summary["order_number"],
                topic=(topic or None) and str(topic)[:40],
                summary=to_jsonable(summary),
                created_at=now,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent request of the same conversation won: answer its place
                uow.session.rollback()
                return self.request_handoff(
                    conversation_id, channel=channel, cause=cause, topic=topic, transcript=transcript
                )
            if is_open:
                decision = decide_handoff(self.policy, now, queue_position=_position(session, row), cause=cause)
            else:
                row.case_id = case_id_for(TICKET_PREFIX, row.id)
                decision = decide_handoff(self.policy, now, ticket_id=row.case_id, cause=cause)
                mail_to = order.email if order is not None else None
            self._audit(
                session,
                decision,
                conversation_id=conversation_id,
                order_number=row.order_number,
                inputs={"operation": "request_handoff", "cause": cause.value, "channel": row.channel},
                now=now,
            )
            uow.commit()
        if mail_to is not None and decision.case_id:
            self._mail_ticket(mail_to, decision.case_id, now)
        return decision

    def _mail_ticket(self, to: str, ticket_id: str, now: datetime) -> None:
        opening = next_opening(self.policy, now)
        tz = self.policy.tz  # the store's time zone, as the chat writes it
        sender = getattr(self.mailer, "sender", None) or "support@localhost"
        message = ticket_message(sender, to, ticket_id, people_moment(opening, tz) if opening else None, now)
        try:
            self.mailer.send(message)
        except MailError as error:
            logger.warning("the ticket confirmation could not be mailed: %s", error)

    def handoff_active(self, conversation_id: str) -> bool:
        """The bot is paused for this conversation (a handoff waits or is taken)."""
        with unit_of_work(self._sessions) as uow:
            return (
                uow.session.scalar(
                    select(func.count())
                    .select_from(HandoffRow)
                    .where(HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(ACTIVE_STATUSES))
                )
                or 0
            ) > 0

    # ------------------------------------------------------------------------------------------------ accounts
    def add_agent(self, name: str, password: str) -> int:
        """A new agent account (argon2id hash of the password); refuses a taken name or a short password."""
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > AGENT_NAME_LEN:
            raise InvalidRequest(f"the agent's name must be 1-{AGENT_NAME_LEN} characters")
        if not isinstance(password, str) or len(password) < _MIN_PASSWORD:
            raise InvalidRequest(f"the password must be at least {_MIN_PASSWORD} characters")
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            row = AgentRow(
                name=name.strip(), password_hash=_password_hasher().hash(password), active=True, created_at=now
            )
            uow.session.add(row)
            try:
                uow.session.flush()
            except IntegrityError:
                raise InvalidRequest(f"an agent named {name.strip()!r} exists already") from None
            self._agent_audit(uow.session, "add_agent", row.name, now)
            uow.commit()
            return row.id

    def agent_exists(self, name: str) -> bool:
        with unit_of_work(self._sessions) as uow:
            return uow.session.scalar(select(AgentRow.id).where(AgentRow.name == name)) is not None

    def sign_in(self, name: object, password: object) -> tuple[str, AgentSession] | None:
        """A new server-side session (the cookie's token, the session with its CSRF token), or ``None``; an unknown
        name costs one hash check too, so the answer time does not tell which names exist."""
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = _password_hasher()
        now = self.now()
        if not isinstance(name, str) or not isinstance(password, str) or len(password) > 1024:
            return None
        with unit_of_work(self._sessions, write=True) as uow:
            agent = uow.session.scalars(select(AgentRow).where(AgentRow.name == name, AgentRow.active)).first()
            try:
                hasher.verify(agent.password_hash if agent else _DUMMY_HASH.get(hasher), password)
            except (VerificationError, InvalidHashError):
                return None
            if agent is None:
                return None
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            uow.session.add(
                AgentSessionRow(
                    token_hash=_token_hash(token),
                    agent_id=agent.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + timedelta(hours=SESSION_HOURS),
                )
            )
            self._agent_audit(uow.session, "sign_in", agent.name, now)
            uow.commit()
            return token, AgentSession(agent.id, agent.name, csrf)

    def agent_session(self, token: object) -> AgentSession | None:
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        now = self.now()
        with unit_of_work(self._sessions) as uow:
            row = uow.session.execute(
                select(AgentSessionRow, AgentRow.name)
                .join(AgentRow, AgentRow.id == AgentSessionRow.agent_id)
                .where(AgentSessionRow.token_hash == _token_hash(token), AgentRow.active)
            ).first()
            if row is None or row[0].expires_at <= now:
                return None
            return AgentSession(row[0].agent_id, row[1], row[0].csrf_token)

    def sign_out(self, token: str) -> None:
        with unit_of_work(self._sessions, write=True) as uow:
            row = uow.session.get(AgentSessionRow, _token_hash(token))
            if row is not None:
                uow.session.delete(row)
                uow.commit()

    # ------------------------------------------------------------------------------------------------ the desk
    def handoff_queue(self) -> list[dict[str, Any]]:
        """Waiting (oldest first, with the queue position) and taken conversations."""
        with unit_of_work(self._sessions) as uow:
            rows = uow.session.execute(
                select(HandoffRow, AgentRow.name)
                .outerjoin(AgentRow, AgentRow.id == HandoffRow.agent_id)
                .where(HandoffRow.status.in_(ACTIVE_STATUSES))
                .order_by(HandoffRow.created_at, HandoffRow.id)
            ).all()
            views, waiting = [], 0
            for row, agent in rows:
                if row.status == "waiting":
                    waiting += 1
                views.append(handoff_view(row, agent, waiting if row.status == "waiting" else None))
            return views

    def tickets(self) -> list[dict[str, Any]]:
        with unit_of_work(self._sessions) as uow:
            rows = uow.session.scalars(
                select(HandoffRow).where(HandoffRow.status == "ticket").order_by(HandoffRow.id.desc()).limit(200)
            )
            return [handoff_view(row, None) for row in rows]

    def handoff_detail(self, handoff_id: int) -> dict[str, Any]:
        with unit_of_work(self._sessions) as uow:
            row = _handoff(uow.session, handoff_id)
            agent = uow.session.get(AgentRow, row.agent_id) if row.agent_id else None
            view = handoff_view(row, agent.name if agent else None)
            view["summary"] = row.summary
            view["messages"] = [
                {"agent": m.agent_name, "text": m.text, "at": m.created_at.isoformat()}
                for m in uow.session.scalars(
                    select(HandoffMessageRow)
                    .where(HandoffMessageRow.handoff_id == row.id)
                    .order_by(HandoffMessageRow.id)
                )
            ]
            return view

    def take_handoff(self, handoff_id: int, agent: AgentSession) -> dict[str, Any]:
        """One agent takes a waiting conversation: a conditional UPDATE (``WHERE status = 'waiting'``), so of two
        agents taking at once exactly one succeeds; the other gets ``HandoffConflict``."""
        return self._transition(handoff_id, agent, "take", ("waiting",), "taken", mine=False)

    def hand_back(self, handoff_id: int, agent: AgentSession) -> dict[str, Any]:
        """The bot answers again (the taking agent only)."""
        return self._transition(handoff_id, agent, "hand_back", ("taken",), "handed_back", mine=True)

    def close_handoff(self, handoff_id: int, agent: AgentSession) -> dict[str, Any]:
        """The conversation is over (the taking agent, or anyone for a waiting one)."""
        return self._transition(handoff_id, agent, "close", ("taken", "waiting"), "closed", mine=True)

    def record_agent_reply(self, handoff_id: int, agent: AgentSession, text: object) -> dict[str, Any]:
        """The taking agent's message to the customer, stored and audited; the desk delivers it."""
        body = _check_text(text)
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            row = _handoff(uow.session, handoff_id, lock=True)
            if row.status != "taken" or row.agent_id != agent.agent_id:
                raise HandoffConflict("only the agent who took the conversation can reply")
            uow.session.add(HandoffMessageRow(handoff_id=row.id, agent_name=agent.name, text=body, created_at=now))
            self._agent_audit(uow.session, "reply", agent.name, now, row, {"chars": len(body)})
            uow.commit()
            return handoff_view(row, agent.name)

    def _transition(
        self, handoff_id: int, agent: AgentSession, operation: str, before: tuple[str, ...], after: str, *, mine: bool
    ) -> dict[str, Any]:
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            table = cast(Table, HandoffRow.__table__)
            stmt = update(table).where(table.c.id == handoff_id, table.c.status.in_(before))
            if mine and after != "closed":
                stmt = stmt.where(table.c.agent_id == agent.agent_id)
            elif mine:  # close: a taken conversation only by its agent, a waiting one by anyone
                stmt = stmt.where((table.c.status == "waiting") | (table.c.agent_id == agent.agent_id))
            values: dict[str, Any] = {"status": after}
            if after == "taken":
                values.update(agent_id=agent.agent_id, taken_at=now)
            else:
                values["ended_at"] = now
            result = cast("CursorResult[Any]", session.execute(stmt.values(**values)))
            if result.rowcount != 1:
                _handoff(session, handoff_id)  # 404 first
                raise HandoffConflict(
                    f"cannot {operation.replace('_', ' ')}: the conversation is not yours or not {before[0]}"
                )
            row = _handoff(session, handoff_id)
            session.refresh(row)
            self._agent_audit(session, operation, agent.name, now, row)
            uow.commit()
            return handoff_view(row, agent.name)

    def _agent_audit(
        self,
        session: Session,
        operation: str,
        agent: str,
        now: datetime,
        row: HandoffRow | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        record = {"operation": operation, "agent": agent, "handoff_id": row.id if row else None, **(extra or {})}
        session.execute(
            insert_into(DecisionAuditRow.__table__),
            dict(
                topic="agent",
                outcome="answered",
                case_id=row.case_id if row else None,
                conversation_id=row.conversation_id if row else None,
                order_number=row.order_number if row else None,
                policy_version=self.policy.version,
                inputs=record,
                decision=record,
                created_at=now,
            ),
        )


def _handoff(session: Session, handoff_id: object, *, lock: bool = False) -> HandoffRow:
    if isinstance(handoff_id, bool) or not isinstance(handoff_id, int) or handoff_id < 1:
        raise LookupError("no such handoff")
    stmt = select(HandoffRow).where(HandoffRow.id == handoff_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise LookupError("no such handoff")
    return row


def _position(session: Session, row: HandoffRow) -> int:
    """1 = next: the waiting handoffs created before this one, plus one."""
    if row.status != "waiting":
        return 0
    ahead = session.scalar(
        select(func.count()).select_from(HandoffRow).where(HandoffRow.status == "waiting", HandoffRow.id < row.id)
    )
    return int(ahead or 0) + 1


class _DummyHash:
    """A hash to verify unknown names against (made once, lazily)."""

    _value: str | None = None

    def get(self, hasher) -> str:
        if self._value is None:
            self._value = hasher.hash(secrets.token_urlsafe(16))
        return self._value


_DUMMY_HASH = _DummyHash()
