"""The service layer: verify the customer, load facts, decide, record the case and its audit row, answer.

Every call runs in one unit of work (``store.db.UnitOfWork``) that rolls back unless it commits, so a bad request
changes nothing.  Writes are idempotent by natural key (architecture.md): one open return per order line, one
cancellation per order, one open warranty claim per order line, one transit claim per order.  The unique constraints
in the store decide races: the loser of a concurrent duplicate gets the winner's case with ``values["repeated"]``.

Errors:
* ``NotVerified``: this conversation holds no unexpired verification grant for the order (nothing is disclosed);
* ``InvalidRequest``: request facts that cannot be decided; nothing is written.
Both are defined in ``policy_engine/core/errors.py`` (and re-exported here).
"""
from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from functools import lru_cache
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.cancellation import decide_cancellation
from ..core.contacts import contact_info
from ..core.credits import credits_summary, decide_credits_reversal, qualifying_amount
from ..core.decision import Decision, Outcome, to_jsonable
from ..core.formats import SHORT_TEXT_MAX_CHARS, TEXT_MAX_CHARS
from ..core.facts import LedgerEntry, Order, OrderStatus, RefundRecord
from ..core.errors import InvalidRequest, NotVerified
from ..core.policy import DEFAULT_POLICY_PATH, Policy, load_policy, policy_figures
from ..core.refunds import (
    AWAITING_ITEM,
    check_inspection,
    decide_refund_status,
    inspection_changes,
    inspection_record,
    issue_changes,
    issue_record,
    refunded_so_far,
)
from ..core.returns import ReturnRequest, decide_return
from ..store.db import make_engine, make_session_factory, unit_of_work
from ..store.mail import MailError, Mailer, code_message, mailer_from_env
from ..store.identity import (
    CodeToSend,
    Verification,
    authorise,
    normalise_order_number,
    verify,
    verify_code,
)
from ..store.mapping import decision_from_dict, ledger_fact, order_fact, refund_fact
from ..store.models import (
    CancellationRow,
    CreditLedgerRow,
    DecisionAuditRow,
    OrderRow,
    RefundRow,
    ReturnCaseRow,
    TransitClaimRow,
    WarrantyClaimRow,
    case_id_for,
)
from ..store.queries import ledger_for_customer, line_row, order_by_number, refunds_for_order
from ..core.transit import TransitRequest, decide_transit
from ..core.warranty import SERIAL_NUMBER, Purchase, WarrantyRequest, decide_warranty

__all__ = [
    "SupportService",
    "Verification",
    "NotVerified",
    "InvalidRequest",
    "OrderOverview",
    "LineOverview",
    "decide_topic",
    "utc_now",
    "STAFF_CONVERSATION",
]

logger = logging.getLogger(__name__)

#: outcomes that open a case a person or the warehouse acts on; other outcomes are only audited
CASE_OUTCOMES = (Outcome.APPROVED, Outcome.NEEDS_REVIEW)
MAX_TEXT = TEXT_MAX_CHARS              # free text the customer types (defect description); formats.py
MAX_SHORT_TEXT = SHORT_TEXT_MAX_CHARS  # serial numbers, country names typed by the customer; formats.py
_WRITE_ATTEMPTS = 3
#: ``decision_audit.conversation_id`` of the staff operations (warehouse / support desk, no conversation)
STAFF_CONVERSATION = "staff"


def utc_now() -> datetime:
    """The real clock, for ``from_env`` only: decisions get ``now`` passed in."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class LineOverview:
    line_id: int
    sku: str
    name: str
    quantity: int
    serial_numbers: tuple[str, ...]


@dataclass(frozen=True)
class OrderOverview:
    order_number: str
    status: str
    placed_at: datetime
    lines: tuple[LineOverview, ...]

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(asdict(self))


def _jsonable_request(request: Any) -> Any:
    return to_jsonable(asdict(request)) if is_dataclass(request) else to_jsonable(request)


def _require(request: Any, kind: type) -> None:
    if not isinstance(request, kind):
        raise InvalidRequest(f"request must be a {kind.__name__}, got {type(request).__name__}")


def _check_text(name: str, value: Any, limit: int, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidRequest(f"{name} is too long ({len(value)} characters, at most {limit})")


def _check_warranty_request(request: WarrantyRequest) -> None:
    _require(request, WarrantyRequest)
    _check_text("defect", request.defect, MAX_TEXT, optional=False)
    _check_text("serial_number", request.serial_number, MAX_SHORT_TEXT)
    _check_text("country_now", request.country_now, MAX_SHORT_TEXT)
    for name in ("evidence_provided", "shipped_internationally"):
        if not isinstance(getattr(request, name), bool):
            raise InvalidRequest(f"{name} must be true or false")


@dataclass
class NewCase:
    """A case row just inserted: its key, its case ID, and further column values to store with its decision."""

    id: int
    case_id: str
    extra: dict[str, Any] = field(default_factory=dict)


def _with_values(decision: Decision, **values: Any) -> Decision:
    return replace(decision, values={**decision.values, **values})


def decide_topic(topic: str, order: Order, request: Any, policy: Policy, now: datetime, *,
                 refund: RefundRecord | None = None, ledger: Iterable[LedgerEntry] = ()) -> Decision:
    """The pure decision for ``topic`` on facts already loaded (used by the service, the CLI and the bench)."""
    if topic == "return":
        _require(request, ReturnRequest)
        return decide_return(order, request, policy, now)
    if topic == "cancellation":
        return decide_cancellation(order, policy, now)
    if topic == "refund":
        return decide_refund_status(order, refund, policy, now)
    if topic == "warranty":
        _check_warranty_request(request)
        return decide_warranty(order, request, policy, now)
    if topic == "transit":
        _require(request, TransitRequest)
        return decide_transit(order, request, policy, now)
    if topic == "credits":
        return credits_summary(tuple(ledger), policy, now)
    raise InvalidRequest(f"unknown topic {topic!r}")


def _staff_order_number(raw: Any) -> str:
    number = normalise_order_number(raw)
    if number is None:
        raise InvalidRequest(f"order_number must be AK followed by 7 digits, got {raw!r}")
    return number


def _optional_line_id(line_id: Any) -> int | None:
    if line_id is None:
        return None
    if isinstance(line_id, bool) or not isinstance(line_id, int) or not 1 <= line_id <= 10_000:
        raise InvalidRequest(f"line_id must be a positive integer, got {line_id!r}")
    return line_id


def _staff_order(session: Session, number: str) -> OrderRow:
    order = order_by_number(session, number)
    if order is None:
        raise InvalidRequest(f"order {number} is not in the database")
    return order


def _order_refunds(session: Session, order: OrderRow, line_id: int | None) -> list[RefundRow]:
    """The order's refund records, oldest first, locked for this transaction (PostgreSQL ``FOR UPDATE``; SQLite's
    write transaction already excludes other writers), so two staff calls cannot both advance the same record."""
    stmt = select(RefundRow).where(RefundRow.order_id == order.id).order_by(RefundRow.id).with_for_update()
    refunds = list(session.scalars(stmt))
    if line_id is None:
        return refunds
    line = line_row(order, line_id)
    if line is None:
        raise InvalidRequest(f"order {order.order_number} has no line {line_id}")
    cases = set(session.scalars(select(ReturnCaseRow.id).where(ReturnCaseRow.line_id == line.id)))
    return [r for r in refunds if r.return_case_id in cases]


@lru_cache(maxsize=None)
def _insert(table):
    """``INSERT INTO <table>`` with the parameters' columns, built once per table (compiled-statement cache)."""
    return table.insert()


@lru_cache(maxsize=None)
def _update_by_id(table):
    """``UPDATE <table> SET <the parameters' columns> WHERE id = :row_id``, built once (compiled-statement cache)."""
    return table.update().where(table.c.id == bindparam("row_id"))


@lru_cache(maxsize=None)
def _stored_decision_stmt(model, key: str, open_only: bool):
    where = [getattr(model, key) == bindparam("key")]
    if open_only:
        where.append(model.status == "open")
    return select(model.decision).where(*where)


def _stored_decision(session: Session, model, key: str, value: int, *, open_only: bool = False
                     ) -> dict[str, Any] | None:
    """The stored decision of the case whose natural key ``key`` (``line_id`` of an open case, ``order_id``) is
    ``value``, if there is one."""
    return session.execute(_stored_decision_stmt(model, key, open_only), {"key": value}).scalar_one_or_none()


def _refund_note(refund: RefundRow) -> str:
    return f"refund {refund.id}"


def _reversed_for(session: Session, order: OrderRow, refund: RefundRow) -> int:
    rows = session.scalars(select(CreditLedgerRow.points).where(
        CreditLedgerRow.order_id == order.id, CreditLedgerRow.kind == "reversal",
        CreditLedgerRow.note == _refund_note(refund)))
    return -sum(rows)


class SupportService:
    """The API the action server calls (architecture.md, "The service layer")."""

    def __init__(self, session_factory: Callable[[], Session], policy: Policy, clock: Callable[[], datetime],
                 mailer: Mailer | None = None):
        self._sessions = session_factory
        self.policy = policy
        self._clock = clock
        self._mailer = mailer

    @classmethod
    def from_env(cls) -> "SupportService":
        """``DATABASE_URL`` (default ``sqlite:///var/support.db``), ``POLICY_FILE`` (default policy/policy.yml),
        the real UTC clock, the mailer of ``mail.mailer_from_env()`` (SMTP_HOST...; else ``var/outbox/``).  The schema
        must exist (``python -m policy_engine migrate``)."""
        policy = load_policy(Path(os.environ.get("POLICY_FILE") or DEFAULT_POLICY_PATH))
        return cls(make_session_factory(make_engine()), policy, utc_now, mailer_from_env())

    @property
    def mailer(self) -> Mailer:
        """The mailer given, else the environment's (built on first use: nothing is created at import time)."""
        if self._mailer is None:
            self._mailer = mailer_from_env()
        return self._mailer

    # ------------------------------------------------------------------------------------------------ plumbing

    def now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise InvalidRequest("the clock must give timezone-aware datetimes")
        return now.astimezone(timezone.utc)

    def _audit(self, session: Session, decision: Decision, *, conversation_id: str | None, order_number: str | None,
               inputs: dict[str, Any], now: datetime, stored: dict[str, Any] | None = None) -> None:
        # a Core insert: the audit row is never read back in the unit of work, so it skips the ORM's bookkeeping
        session.execute(_insert(DecisionAuditRow.__table__), dict(
            topic=decision.topic,
            outcome=decision.outcome.value,
            case_id=decision.case_id,
            conversation_id=conversation_id,
            order_number=order_number,
            policy_version=decision.policy_version,
            inputs=to_jsonable(inputs),
            decision=stored if stored is not None else decision.to_dict(),
            created_at=now,
        ))

    def _read(self, conversation_id: str, order_number: str | None,
              decide: Callable[[Session, OrderRow, datetime], Decision], *, any_order: bool = False) -> Decision:
        now = self.now()
        with unit_of_work(self._sessions) as uow:
            order = authorise(uow.session, conversation_id, order_number, now, any_order=any_order)
            return decide(uow.session, order, now)

    def _write_case(self, conversation_id: str, order_number: str, *, inputs: dict[str, Any],
                    prefix: str, model: type,
                    find_existing: Callable[[Session, OrderRow], dict[str, Any] | None],
                    decide: Callable[[Order, datetime], Decision],
                    new_row: Callable[[OrderRow, Decision, datetime], dict[str, Any]],
                    after_insert: Callable[[Session, OrderRow, "NewCase", Decision, datetime], Decision] | None = None,
                    ) -> Decision:
        """Find the open case for the natural key (its stored decision), else decide and (for CASE_OUTCOMES) insert
        the case (``new_row`` gives its column values), its side effects and the audit row in one transaction.
        A unique-constraint race is retried: the retry finds the winner's case and answers it with
        ``repeated=True``.

        The case, its decision and the audit row are written with Core statements (no ORM unit-of-work
        bookkeeping for rows that are never read back here): about half the cost of a case write."""
        now = self.now()
        table = model.__table__
        for attempt in range(_WRITE_ATTEMPTS):
            with unit_of_work(self._sessions, write=True) as uow:
                session = uow.session
                stored = None
                order = authorise(session, conversation_id, order_number, now)
                existing = find_existing(session, order)
                if existing is not None:
                    return _with_values(decision_from_dict(existing), repeated=True)
                decision = decide(order_fact(order), now)
                if decision.outcome in CASE_OUTCOMES:
                    values = {**new_row(order, decision, now), "decision": {}, "conversation_id": conversation_id,
                              "created_at": now}
                    try:
                        row_id = session.execute(_insert(table), values).inserted_primary_key[0]
                    except IntegrityError:
                        if attempt == _WRITE_ATTEMPTS - 1:
                            raise
                        continue  # leaving the block rolls back; the next attempt finds the winner's case
                    case = NewCase(row_id, case_id_for(prefix, row_id))
                    decision = _with_values(decision.with_case(case.case_id), repeated=False)
                    if after_insert is not None:
                        decision = after_insert(session, order, case, decision, now)
                    stored = decision.to_dict()
                    session.execute(_update_by_id(table), {"row_id": case.id, "case_id": case.case_id,
                                                           "decision": stored, **case.extra})
                self._audit(session, decision, conversation_id=conversation_id, order_number=order.order_number,
                            inputs=inputs, now=now, stored=stored)
                uow.commit()
                return decision
        raise RuntimeError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------------------------------------ identity

    def verify_customer(self, conversation_id: str, order_number: str, email: str, *,
                        client: str | None = None) -> Verification:
        """RET-4: order number + purchase email; same answer for unknown order and wrong email; throttled per
        conversation, per ``client`` (the channel's keyed hash of the caller's address; None when unknown) and per
        order number; past the lock-out figure a step-up (``code_sent``: a one-time code to the purchase email, only
        if the details match, same answer either way).  Success grants this conversation the order."""
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            result, to_send = verify(uow.session, conversation_id, order_number, email, now, self.policy.identity,
                                     client)
            uow.commit()
        if to_send is not None:
            self._send_code(to_send)
        return result

    def verify_code(self, conversation_id: str, code: str, *, client: str | None = None) -> Verification:
        """RET-4 step-up: the one-time code sent after ``code_sent``.  ``verified`` grants the code's order to this
        conversation; ``invalid_code`` (``attempts_left``), ``code_expired`` (ask for a new code), ``invalid_input``."""
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            result = verify_code(uow.session, conversation_id, code, now, self.policy.identity, client)
            uow.commit()
            return result

    def _send_code(self, to_send: CodeToSend) -> None:
        """Mail the code after the commit (no database lock is held during SMTP).  A failure is logged (without the
        address or the code) and not told: the customer's answer must not depend on it."""
        try:
            mailer = self.mailer
            message = code_message(getattr(mailer, "sender", "support@localhost"), to_send.email, to_send.code,
                                   to_send.minutes)
            mailer.send(message)
        except (MailError, ValueError) as error:
            logger.error("step-up: the one-time code could not be sent: %s", error)

    def order_overview(self, conversation_id: str, order_number: str) -> OrderOverview:
        now = self.now()
        with unit_of_work(self._sessions) as uow:
            order = authorise(uow.session, conversation_id, order_number, now)
            return OrderOverview(
                order_number=order.order_number,
                status=order.status,
                placed_at=order.placed_at,
                lines=tuple(
                    LineOverview(l.line_no, l.sku, l.product.name, l.quantity, tuple(s.serial for s in l.serials))
                    for l in order.lines
                ),
            )

    # ------------------------------------------------------------------------------------------------ returns

    def preview_return(self, conversation_id: str, order_number: str, request: ReturnRequest) -> Decision:
        _require(request, ReturnRequest)
        return self._read(conversation_id, order_number,
                          lambda s, order, now: decide_return(order_fact(order), request, self.policy, now))

    def open_return(self, conversation_id: str, order_number: str, request: ReturnRequest) -> Decision:
        """RET-1..12. Approved or for review: a ``RET-`` case; approved: a refund record awaiting the item (RET-6)."""
        _require(request, ReturnRequest)

        def find_existing(session: Session, order: OrderRow):
            line = line_row(order, request.line_id) if isinstance(request.line_id, int) else None
            if line is None:
                return None  # the decision raises InvalidRequest for an unknown line
            return _stored_decision(session, ReturnCaseRow, "line_id", line.id, open_only=True)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            return dict(order_id=order.id, line_id=line_row(order, request.line_id).id, status="open",
                        quantity=request.quantity, condition=request.condition, quality_issue=request.quality_issue,
                        outcome=decision.outcome.value)

        def after_insert(session: Session, order: OrderRow, case: NewCase, decision: Decision,
                         now: datetime) -> Decision:
            if decision.outcome is Outcome.APPROVED:  # RET-6 / REF-1: the refund waits for the item
                session.execute(_insert(RefundRow.__table__), dict(
                    order_id=order.id, return_case_id=case.id, amount=decision.values["refund_amount"],
                    payment_method=order.payment_method, status=AWAITING_ITEM, created_at=now))
            return decision

        return self._write_case(
            conversation_id, order_number, prefix="RET", model=ReturnCaseRow,
            inputs={"request": _jsonable_request(request), "order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_return(order, request, self.policy, now),
            new_row=new_row, after_insert=after_insert,
        )

    # ------------------------------------------------------------------------------------------------ cancellation

    def preview_cancellation(self, conversation_id: str, order_number: str) -> Decision:
        return self._read(conversation_id, order_number,
                          lambda s, order, now: decide_cancellation(order_fact(order), self.policy, now))

    def cancel_order(self, conversation_id: str, order_number: str) -> Decision:
        """CAN-1..3. Approved: a ``CAN-`` case, the order set to cancelled and its credits reversed (CRD-11), in one
        transaction."""

        def find_existing(session: Session, order: OrderRow):
            return _stored_decision(session, CancellationRow, "order_id", order.id)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            return dict(order_id=order.id, outcome=decision.outcome.value, reversed_points=0)

        def after_insert(session: Session, order: OrderRow, case: NewCase, decision: Decision,
                         now: datetime) -> Decision:
            if decision.outcome is not Outcome.APPROVED:
                return decision
            order.status = OrderStatus.CANCELLED.value
            order.cancelled_at = now
            ledger = [ledger_fact(r, r.order.order_number if r.order else None)
                      for r in ledger_for_customer(session, order.customer_id)]
            reversal = decide_credits_reversal(ledger, order_fact(order), self.policy, now, cause="cancellation")
            points = int(reversal.values.get("points", 0)) if reversal.outcome is Outcome.APPROVED else 0
            if points:
                session.add(CreditLedgerRow(customer_id=order.customer_id, kind="reversal", points=-points,
                                            created_at=now, order_id=order.id, note=case.case_id))
                case.extra["reversed_points"] = points
                decision = replace(decision, reasons=(*decision.reasons, *reversal.reasons))
            return _with_values(decision, credits_reversed=points)

        return self._write_case(
            conversation_id, order_number, prefix="CAN", model=CancellationRow,
            inputs={"order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_cancellation(order, self.policy, now),
            new_row=new_row, after_insert=after_insert,
        )

    # ------------------------------------------------------------------------------------------------ refunds

    def refund_status(self, conversation_id: str, order_number: str) -> Decision:
        """REF-1..4: the stage of the order's most recent refund."""

        def decide(session: Session, order: OrderRow, now: datetime) -> Decision:
            refunds = refunds_for_order(session, order.id)
            latest = max(refunds, key=lambda r: (r.created_at, r.id)) if refunds else None
            record = refund_fact(latest, order.order_number) if latest is not None else None
            return decide_refund_status(order_fact(order), record, self.policy, now)

        return self._read(conversation_id, order_number, decide)

    # ------------------------------------------------------------------------------------------------ warranty

    def preview_warranty(self, conversation_id: str, order_number: str,
                         request: WarrantyRequest) -> Decision:
        _check_warranty_request(request)
        return self._read(conversation_id, order_number,
                          lambda s, order, now: decide_warranty(order_fact(order), request, self.policy, now))

    def preview_warranty_purchase(self, purchase: Purchase, request: WarrantyRequest) -> Decision:
        """WAR-9/WAR-20: a purchase that is not in the store (a reseller's receipt, an invoice). No order data is
        read, so no verification is needed; nothing is written."""
        _check_warranty_request(request)
        _require(purchase, Purchase)
        now = self.now()
        bought = purchase.purchased_on
        if isinstance(bought, datetime) and bought.tzinfo is None:
            raise InvalidRequest("purchased_on must be timezone-aware")
        on = bought.astimezone(timezone.utc).date() if isinstance(bought, datetime) else bought
        if not isinstance(on, date) or on > now.date():
            raise InvalidRequest(f"purchase date {on} is in the future")
        return decide_warranty(None, request, self.policy, now, purchase=purchase)

    def open_warranty_claim(self, conversation_id: str, order_number: str,
                            request: WarrantyRequest) -> Decision:
        """WAR-1..22. Covered or for review: a ``WAR-`` claim (one open claim per order line)."""
        _check_warranty_request(request)

        def find_existing(session: Session, order: OrderRow):
            line = line_row(order, request.line_id) if isinstance(request.line_id, int) else None
            if line is None:
                return None
            return _stored_decision(session, WarrantyClaimRow, "line_id", line.id, open_only=True)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            serial = (request.serial_number or "").strip().upper()
            deadline = decision.values.get("claim_deadline")
            return dict(
                order_id=order.id, line_id=line_row(order, request.line_id).id, status="open",
                serial_number=serial if SERIAL_NUMBER.match(serial) else None,
                defect=request.defect, cause=request.cause, outcome=decision.outcome.value,
                claim_deadline=deadline if isinstance(deadline, date) and not isinstance(deadline, datetime) else None,
            )

        return self._write_case(
            conversation_id, order_number, prefix="WAR", model=WarrantyClaimRow,
            inputs={"request": _jsonable_request(request), "order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_warranty(order, request, self.policy, now),
            new_row=new_row,
        )

    # ------------------------------------------------------------------------------------------------ transit

    def transit_claim(self, conversation_id: str, order_number: str, request: TransitRequest) -> Decision:
        """INS-1/INS-2/REF-4: one ``INS-`` claim per order."""
        _require(request, TransitRequest)

        def find_existing(session: Session, order: OrderRow):
            return _stored_decision(session, TransitClaimRow, "order_id", order.id)

        def new_row(order: OrderRow, decision: Decision, now: datetime) -> dict[str, Any]:
            return dict(order_id=order.id, problem=request.problem, outcome=decision.outcome.value)

        return self._write_case(
            conversation_id, order_number, prefix="INS", model=TransitClaimRow,
            inputs={"request": _jsonable_request(request), "order_number": order_number},
            find_existing=find_existing,
            decide=lambda order, now: decide_transit(order, request, self.policy, now),
            new_row=new_row,
        )

    # ------------------------------------------------------------------------------------------------ credits

    def credits_balance(self, conversation_id: str, order_number: str | None = None) -> Decision:
        """CRD-6/CRD-7: the balance of the verified order's customer (``order_number``'s, else the conversation's
        latest verified order's)."""

        def decide(session: Session, order: OrderRow, now: datetime) -> Decision:
            ledger = [ledger_fact(r, r.order.order_number if r.order else None)
                      for r in ledger_for_customer(session, order.customer_id)]
            return credits_summary(ledger, self.policy, now)

        return self._read(conversation_id, order_number, decide, any_order=order_number is None)

    # ------------------------------------------------------------------------------------------------ staff side

    def record_inspection(self, order_number: str, passed: bool, finding: str | None = None, *,
                          line_id: int | None = None) -> Decision:
        """RET-6/REF-1: the warehouse inspected the returned item.  Staff operation: no conversation verification.

        Advances the order's refund record that awaits inspection (an inspection implies the item arrived, so
        ``item_received_at`` is set too when missing) to ``inspected`` (passed) or ``rejected`` (failed, with the
        ``finding`` the refund status cites: RET-8 altered label / incorrect item / empty package, RET-9 transit
        damage at the buyer's risk, RET-12 personal item).  Answers the refund status decision with
        ``values["repeated"]``; the same inspection again changes nothing (``repeated=True``), a different one is
        refused.  ``line_id`` picks the refund when several of the order's returns await inspection."""
        check_inspection(passed, finding)
        number = _staff_order_number(order_number)
        line_id = _optional_line_id(line_id)
        inputs = {"operation": "record_inspection", "order_number": number, "passed": passed, "finding": finding,
                  "line_id": line_id}
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            order = _staff_order(session, number)
            refunds = _order_refunds(session, order, line_id)
            refund, repeated = inspection_record(refunds, passed, finding, number)
            if repeated:
                return _with_values(self._refund_status(order, refund, now), repeated=True)
            for column, value in inspection_changes(refund, passed, finding, now).items():
                setattr(refund, column, value)
            decision = _with_values(self._refund_status(order, refund, now), repeated=False, refund_id=refund.id)
            self._audit(session, decision, conversation_id=STAFF_CONVERSATION, order_number=number, inputs=inputs,
                        now=now)
            uow.commit()
            return decision

    def issue_refund(self, order_number: str, *, line_id: int | None = None) -> Decision:
        """REF-1/REF-2: the refund of a return that passed inspection was paid to the original payment method.
        Staff operation: no conversation verification.

        In one transaction: the refund record becomes ``issued``, the credits earned by the returned lines are
        reversed (CRD-11: the refunded amount's credits; everything the order earned and still holds once the whole
        order is refunded; capped at the balance, the rest reported as ``shortfall``), and the audit row is written.
        REF-4: a refund is never issued twice: repeating the call answers the issued refund with
        ``values["repeated"] = True`` and reverses nothing more.  Refused (``InvalidRequest``, nothing changes)
        before the item arrived and passed inspection (REF-1), or after a failed inspection."""
        number = _staff_order_number(order_number)
        line_id = _optional_line_id(line_id)
        inputs = {"operation": "issue_refund", "order_number": number, "line_id": line_id}
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            order = _staff_order(session, number)
            refunds = _order_refunds(session, order, line_id)
            refund, repeated = issue_record(refunds, number)
            if repeated:  # REF-4: answered from the record, nothing is paid or reversed again
                return _with_values(self._refund_status(order, refund, now), repeated=True,
                                    credits_reversed=_reversed_for(session, order, refund))
            for column, value in issue_changes(now).items():
                setattr(refund, column, value)
            decision = self._refund_status(order, refund, now)
            points, reasons = self._reverse_refunded_credits(session, order, refund, refunds, now)
            decision = replace(decision, reasons=(*decision.reasons, *reasons))
            decision = _with_values(decision, repeated=False, refund_id=refund.id, credits_reversed=points)
            self._audit(session, decision, conversation_id=STAFF_CONVERSATION, order_number=number, inputs=inputs,
                        now=now)
            uow.commit()
            return decision

    def _refund_status(self, order: OrderRow, refund: RefundRow, now: datetime) -> Decision:
        return decide_refund_status(order_fact(order), refund_fact(refund, order.order_number), self.policy, now)

    def _reverse_refunded_credits(self, session: Session, order: OrderRow, refund: RefundRow,
                                  refunds: list[RefundRow], now: datetime) -> tuple[int, tuple]:
        """CRD-11 for an issued return refund: a ledger ``reversal`` of the credits the refunded lines earned."""
        facts = order_fact(order)
        refunded = refunded_so_far(refunds)
        whole_order = refunded >= qualifying_amount(facts)
        ledger = [ledger_fact(r, r.order.order_number if r.order else None)
                  for r in ledger_for_customer(session, order.customer_id)]
        reversal = decide_credits_reversal(ledger, facts, self.policy, now, cause="return",
                                           refunded_amount=None if whole_order else refund.amount)
        points = int(reversal.values.get("points", 0)) if reversal.outcome is Outcome.APPROVED else 0
        if not points:
            return 0, ()
        session.add(CreditLedgerRow(customer_id=order.customer_id, kind="reversal", points=-points, created_at=now,
                                    order_id=order.id, note=_refund_note(refund)))
        return points, reversal.reasons

    # ------------------------------------------------------------------------------------------------ no auth

    def policy_values(self) -> dict[str, str]:
        """Figures the FAQ answers quote, as strings (template variables): ``policy.policy_figures``."""
        return policy_figures(self.policy)

    def contacts(self) -> Decision:
        """CON-1, for handoff."""
        return contact_info(self.policy, self.now())
