"""What every use case shares: the unit of work, the clock, the audit row, and the one way a case is written.

Every call runs in one unit of work (``store.db.UnitOfWork``) that rolls back unless it commits, so a bad request
changes nothing.  Writes are idempotent by natural key (architecture.md): one open return per order line, one
cancellation per order, one open warranty claim per order line, one transit claim per order.  The unique constraints
in the store decide races: the loser of a concurrent duplicate gets the winner's case with ``values["repeated"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from datetime import datetime, timezone
from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.credits_spending import decide_credits_reversal
from ..core.decision import Decision, Outcome, to_jsonable
from ..core.errors import InvalidRequest
from ..core.facts import Order
from ..core.policy import Policy
from ..store.db import unit_of_work
from ..store.evidence_models import link_held_evidence
from ..store.identity import authorise
from ..store.mail import Mailer, mailer_from_env
from ..store.mapping import decision_from_dict, order_fact
from ..store.models import CreditLedgerRow, DecisionAuditRow, OrderRow, case_id_for
from ..store.queries import customer_ledger

#: outcomes that open a case a person or the warehouse acts on; other outcomes are only audited
CASE_OUTCOMES = (Outcome.APPROVED, Outcome.NEEDS_REVIEW)
_WRITE_ATTEMPTS = 3


def utc_now() -> datetime:
    """The real clock, for ``SupportService.from_env`` only: decisions get ``now`` passed in."""
    return datetime.now(timezone.utc)


def jsonable_request(request: Any) -> Any:
    if is_dataclass(request) and not isinstance(request, type):
        return to_jsonable(asdict(request))
    return to_jsonable(request)


def with_values(decision: Decision, **values: Any) -> Decision:
    return replace(decision, values={**decision.values, **values})


@dataclass
class NewCase:
    """A case row just inserted: its key, its case ID, and further column values to store with its decision."""

    id: int
    case_id: str
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def insert_into(table):
    """``INSERT INTO <table>`` with the parameters' columns, built once per table (compiled-statement cache)."""
    return table.insert()


@cache
def _update_by_id(table):
    """``UPDATE <table> SET <the parameters' columns> WHERE id = :row_id``, built once (compiled-statement cache)."""
    return table.update().where(table.c.id == bindparam("row_id"))


@cache
def _stored_decision_stmt(model, key: str, open_only: bool):
    where = [getattr(model, key) == bindparam("key")]
    if open_only:
        where.append(model.status == "open")
    return select(model.decision).where(*where)


def stored_decision(session: Session, model, key: str, value: int, *, open_only: bool = False) -> dict[str, Any] | None:
    """The stored decision of the case whose natural key ``key`` (``line_id`` of an open case, ``order_id``) is
    ``value``, if there is one."""
    return session.execute(_stored_decision_stmt(model, key, open_only), {"key": value}).scalar_one_or_none()


class ServiceBase:
    """The plumbing of ``SupportService``: construction, clock, audit, reads and case writes."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        policy: Policy,
        clock: Callable[[], datetime],
        mailer: Mailer | None = None,
    ):
        self._sessions = session_factory
        self.policy = policy
        self._clock = clock
        self._mailer = mailer

    @property
    def mailer(self) -> Mailer:
        """The mailer given, else the environment's (built on first use: nothing is created at import time)."""
        if self._mailer is None:
            self._mailer = mailer_from_env()
        return self._mailer

    def now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise InvalidRequest("the clock must give timezone-aware datetimes")
        return now.astimezone(timezone.utc)

    def _audit(
        self,
        session: Session,
        decision: Decision,
        *,
        conversation_id: str | None,
        order_number: str | None,
        inputs: dict[str, Any],
        now: datetime,
        stored: dict[str, Any] | None = None,
    ) -> None:
        # a Core insert: the audit row is never read back in the unit of work, so it skips the ORM's bookkeeping
        session.execute(
            insert_into(DecisionAuditRow.__table__),
            dict(
                topic=decision.topic,
                outcome=decision.outcome.value,
                case_id=decision.case_id,
                conversation_id=conversation_id,
                order_number=order_number,
                policy_version=decision.policy_version,
                inputs=to_jsonable(inputs),
                decision=stored if stored is not None else decision.to_dict(),
                created_at=now,
            ),
        )

    def _agent_audit(  # an agent's action in the audit log (issue 17): topic "agent", with the agent's name
        self,
        session: Session,
        operation: str,
        agent: str,
        now: datetime,
        row: Any = None,
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

    def _read(
        self,
        conversation_id: str,
        order_number: str | None,
        decide: Callable[[Session, OrderRow, datetime], Decision],
        *,
        any_order: bool = False,
    ) -> Decision:
        now = self.now()
        with unit_of_work(self._sessions) as uow:
            order = authorise(uow.session, conversation_id, order_number, now, any_order=any_order)
            return decide(uow.session, order, now)

    def _reverse_credits(
        self, session: Session, order: OrderRow, now: datetime, *, cause: str, note: str, refunded_amount: Any = None
    ) -> tuple[int, tuple]:
        """CRD-11, the one path for both causes (a cancellation, an issued return refund): the core decides how many
        points the order's refund takes back; a ledger ``reversal`` row records them.  Returns (points, reasons)."""
        reversal = decide_credits_reversal(
            customer_ledger(session, order.customer_id),
            order_fact(order),
            self.policy,
            now,
            cause=cause,
            refunded_amount=refunded_amount,
        )
        points = int(reversal.values.get("points", 0)) if reversal.outcome is Outcome.APPROVED else 0
        if not points:
            return 0, ()
        session.add(
            CreditLedgerRow(
                customer_id=order.customer_id,
                kind="reversal",
                points=-points,
                created_at=now,
                order_id=order.id,
                note=note,
            )
        )
        return points, reversal.reasons

    def _write_case(
        self,
        conversation_id: str,
        order_number: str,
        *,
        inputs: dict[str, Any],
        prefix: str,
        model: type,
        find_existing: Callable[[Session, OrderRow], dict[str, Any] | None],
        decide: Callable[[Order, datetime], Decision],
        new_row: Callable[[OrderRow, Decision, datetime], dict[str, Any]],
        after_insert: Callable[[Session, OrderRow, NewCase, Decision, datetime], Decision] | None = None,
    ) -> Decision:
        """Find the open case for the natural key (its stored decision), else decide and (for CASE_OUTCOMES) insert
        the case (``new_row`` gives its column values), its side effects and the audit row in one transaction.
        A unique-constraint race is retried: the retry finds the winner's case and answers it with
        ``repeated=True``.

        The case, its decision and the audit row are written with Core statements (no ORM unit-of-work
        bookkeeping for rows that are never read back here): about half the cost of a case write."""
        now = self.now()
        table = model.__table__  # type: ignore[attr-defined]
        for attempt in range(_WRITE_ATTEMPTS):
            with unit_of_work(self._sessions, write=True) as uow:
                session = uow.session
                stored = None
                order = authorise(session, conversation_id, order_number, now)
                existing = find_existing(session, order)
                if existing is not None:
                    return with_values(decision_from_dict(existing), repeated=True)
                decision = decide(order_fact(order), now)
                if decision.outcome in CASE_OUTCOMES:
                    values = {
                        **new_row(order, decision, now),
                        "decision": {},
                        "conversation_id": conversation_id,
                        "created_at": now,
                    }
                    try:
                        result = cast("CursorResult[Any]", session.execute(insert_into(table), values))
                        key = result.inserted_primary_key
                        assert key is not None  # an INSERT of one row
                        row_id = key[0]
                    except IntegrityError:
                        if attempt == _WRITE_ATTEMPTS - 1:
                            raise
                        continue  # leaving the block rolls back; the next attempt finds the winner's case
                    case = NewCase(row_id, case_id_for(prefix, row_id))
                    link_held_evidence(session, conversation_id, case.case_id, now)  # WAR-7's photos, held files
                    decision = with_values(decision.with_case(case.case_id), repeated=False)
                    if after_insert is not None:
                        decision = after_insert(session, order, case, decision, now)
                    stored = decision.to_dict()
                    session.execute(
                        _update_by_id(table),
                        {"row_id": case.id, "case_id": case.case_id, "decision": stored, **case.extra},
                    )
                self._audit(
                    session,
                    decision,
                    conversation_id=conversation_id,
                    order_number=order.order_number,
                    inputs=inputs,
                    now=now,
                    stored=stored,
                )
                uow.commit()
                return decision
        raise RuntimeError("unreachable")  # pragma: no cover
