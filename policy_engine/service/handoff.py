"""A person takes over (issue 17, CON-1): the handoff request with its summary, the waiting queue, taking a
conversation (atomic), agents' replies, hand back, close, the outside-hours ticket and its confirmation email, agent
(agent accounts and sessions: ``agents.py``).  Every agent action writes an audit row (``decision_audit``, topic
``agent``) with the agent's name.

Where agents work (the built-in inbox or Chatwoot) is not decided here: ``agent_desk/`` calls these use cases and
carries the messages to and from the customer's chat.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

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
    expected_wait_minutes,
    handoff_summary,
    live_chat_open,
    next_opening,
)
from ..store.db import unit_of_work
from ..store.handoff_models import (
    ACTIVE_STATUSES,
    AGENT_MESSAGE_LEN,
    AgentRow,
    HandoffMessageRow,
    HandoffRow,
)
from ..store.identity import check_conversation_id
from ..store.mail import MailError
from ..store.models import DecisionAuditRow, case_id_for
from ..store.queries import order_for_grant
from .agents import AgentSession
from .base import ServiceBase
from .handoff_mail import people_moment, ticket_message

logger = logging.getLogger(__name__)

#: ticket numbers: ``HND-000042``
TICKET_PREFIX = "HND"
#: an agent's sign-in lasts this long
#: the transcript kept in a summary (the last lines; the tracker keeps them all)
TRANSCRIPT_LINES = 200
_MAX_TEXT = 2000
#: the expected wait is measured on the last RECENT_TAKES conversations taken within RECENT_TAKE_DAYS
RECENT_TAKES = 20
RECENT_TAKE_DAYS = 7


class HandoffConflict(InvalidRequest):
    """The handoff is not in a state that allows this (taken by another agent, already closed...)."""


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
                return self._joining(session, active, now, cause)
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
                decision = self._joining(session, row, now, cause)
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

    def _joining(self, session: Session, row: HandoffRow, now: datetime, cause: HandoffCause) -> Decision:
        position = _position(session, row)
        wait = expected_wait_minutes(position, _recent_waits(session, now), self.policy.contacts.live_chat_wait_minutes)
        return decide_handoff(self.policy, now, queue_position=position, expected_wait=wait, cause=cause)

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
            waits, per_place = _recent_waits(uow.session, self.now()), self.policy.contacts.live_chat_wait_minutes
            for row, agent in rows:
                view = handoff_view(row, agent, waiting + 1 if row.status == "waiting" else None)
                if row.status == "waiting":
                    waiting += 1
                    view["expected_wait_minutes"] = expected_wait_minutes(waiting, waits, per_place)
                views.append(view)
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


def _recent_waits(session: Session, now: datetime) -> list[timedelta]:
    """How long the last ``RECENT_TAKES`` conversations taken within ``RECENT_TAKE_DAYS`` waited for an agent."""
    taken = session.execute(
        select(HandoffRow.created_at, HandoffRow.taken_at)
        .where(HandoffRow.taken_at.is_not(None), HandoffRow.taken_at >= now - timedelta(days=RECENT_TAKE_DAYS))
        .order_by(HandoffRow.taken_at.desc())
        .limit(RECENT_TAKES)
    ).all()
    return [taken_at - created_at for created_at, taken_at in taken]
