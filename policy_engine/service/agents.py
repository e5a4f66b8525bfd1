"""Agent accounts of the built-in inbox (issue 17): argon2id password hashes, server-side sessions (only a hash of
the session token is stored) with a CSRF token each, sign-in with the same cost for an unknown name."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..core.errors import InvalidRequest
from ..store.db import unit_of_work
from ..store.handoff_models import AGENT_NAME_LEN, AgentRow, AgentSessionRow
from .base import ServiceBase

#: a sign-in lasts at most this long (``INBOX_SESSION_HOURS``) and ends after this long unused (``INBOX_IDLE_MINUTES``)
SESSION_HOURS = 12
IDLE_MINUTES = 30
_MIN_PASSWORD = 12
#: an active session's idle deadline is moved forward at most once a minute (not a write per request)
_SLIDE_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class AgentSession:
    agent_id: int
    name: str
    csrf_token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_hasher():
    from argon2 import PasswordHasher  # an engine dependency, imported where it is used

    return PasswordHasher()


class _DummyHash:
    """A hash to verify unknown names against (made once, lazily)."""

    _value: str | None = None

    def get(self, hasher) -> str:
        if self._value is None:
            self._value = hasher.hash(secrets.token_urlsafe(16))
        return self._value


_DUMMY_HASH = _DummyHash()


class AgentUseCases(ServiceBase):
    session_lifetime = timedelta(hours=SESSION_HOURS)
    idle_timeout = timedelta(minutes=IDLE_MINUTES)

    def configure_sessions(self, hours: float = SESSION_HOURS, idle_minutes: float = IDLE_MINUTES) -> None:
        """The inbox's settings, read once at start-up (``INBOX_SESSION_HOURS``, ``INBOX_IDLE_MINUTES``)."""
        if hours <= 0 or idle_minutes <= 0:
            raise InvalidRequest("the session lifetime and the idle timeout must be positive")
        self.session_lifetime, self.idle_timeout = timedelta(hours=hours), timedelta(minutes=idle_minutes)

    def _deadline(self, created_at: datetime, now: datetime) -> datetime:
        return min(created_at + self.session_lifetime, now + self.idle_timeout)

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
                    expires_at=self._deadline(now, now),
                )
            )
            self._agent_audit(uow.session, "sign_in", agent.name, now)
            uow.commit()
            return token, AgentSession(agent.id, agent.name, csrf)

    def agent_session(self, token: object) -> AgentSession | None:
        """The signed-in agent, or None: no such session, past its lifetime or idle too long, or the agent disabled.
        Each use moves the idle deadline forward (never past ``session_lifetime`` after the sign-in)."""
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            row = uow.session.execute(
                select(AgentSessionRow, AgentRow.name)
                .join(AgentRow, AgentRow.id == AgentSessionRow.agent_id)
                .where(AgentSessionRow.token_hash == _token_hash(token), AgentRow.active)
            ).first()
            if row is None or row[0].expires_at <= now:
                return None
            deadline = self._deadline(row[0].created_at, now)
            if deadline - row[0].expires_at >= _SLIDE_STEP:
                row[0].expires_at = deadline
                uow.commit()
            return AgentSession(row[0].agent_id, row[1], row[0].csrf_token)

    def disable_agent(self, name: str, *, by: str) -> int:
        """The agent can no longer sign in and every session of theirs ends now (deleted; ``agent_session`` also
        refuses a disabled agent's); audited with who did it.  The number of sessions ended."""
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            agent = uow.session.scalars(select(AgentRow).where(AgentRow.name == str(name).strip())).first()
            if agent is None:
                raise InvalidRequest(f"no agent named {str(name).strip()!r}")
            agent.active = False
            ended = uow.session.execute(delete(AgentSessionRow).where(AgentSessionRow.agent_id == agent.id))
            count = int(getattr(ended, "rowcount", 0) or 0)
            self._agent_audit(uow.session, "disable_agent", by, now, None, {"disabled": agent.name, "sessions": count})
            uow.commit()
            return count

    def sign_out(self, token: str) -> None:
        with unit_of_work(self._sessions, write=True) as uow:
            row = uow.session.get(AgentSessionRow, _token_hash(token))
            if row is not None:
                uow.session.delete(row)
                uow.commit()
