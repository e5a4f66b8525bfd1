"""``python -m policy_engine forget --email X``: erase a customer's personal data and conversations (issue 12, item 9).

What is erased, for every customer whose account email is X and every order whose purchase email is X (and the
other orders of those customers):

* personal data in the support store: the customers' email (replaced by ``forgotten-<id>@invalid``, the column is
  unique), name, birth date; the orders' purchase email (the same placeholder); the free text of warranty claims
  (``defect``); the orders' parcels (a tracking number opens the carrier's page: where, when, signed by whom);
* their conversations, i.e. every conversation id that verified, attempted or got a code for one of those orders,
  opened a case on them or appears in their audit rows, plus every Rasa conversation (tracker store) whose events
  contain X: the engine's rows of those conversations (verification attempts, grants, one-time codes) are deleted,
  and their events in Rasa's SQL tracker store (``TRACKER_STORE_URL``, default ``sqlite:///var/tracker.db``; table
  ``events``, column ``sender_id``) are deleted;
* claims for purchases elsewhere under X (``forget_purchase.py``): kept, anonymised; their code requests deleted;
  the uploaded receipts and photos of the forgotten conversations deleted (rows, then files after the commit);
* what is kept, anonymised: the decision audit rows and the case rows (a case is a business record: the warehouse and
  the refund need it), with the conversation id replaced by ``anon-`` + its SHA-256 (so one conversation's rows still
  group together) and personal fields (email, name, defect text, serial numbers) removed from the stored inputs and
  decisions.  The order numbers, amounts and decisions stay; the orders no longer point to a person.

Idempotent: a second run finds nothing more and reports zeros.  Atomic per database: the tracker store's deletions
are committed first, then the support store's; on any error before that nothing is written, and if the second
commit fails, running the command again completes the job (the support store still lists the conversations).
The summary holds counts only (never the email).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, MetaData, Table, create_engine, delete, func, inspect, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ..core.formats import normalise_email
from .db import database_url
from .forget_purchase import delete_upload_files, erase_purchase_rows, purchase_conversations
from .identity_models import VerificationAttemptRow, VerificationCodeRow, VerificationTokenRow
from .models import (
    CancellationRow,
    CustomerRow,
    DecisionAuditRow,
    OrderRow,
    ReturnCaseRow,
    TransitClaimRow,
    WarrantyClaimRow,
)
from .shipment_models import ShipmentRow

DEFAULT_TRACKER_STORE_URL = "sqlite:///var/tracker.db"
TRACKER_EVENTS_TABLE = "events"
STAFF_CONVERSATION = "staff"
ANON_PREFIX = "anon-"
#: keys whose values are personal data in stored inputs and decisions
PERSONAL_KEYS = frozenset(
    {
        "email",
        "name",
        "customer_name",
        "customer_email",
        "defect",
        "serial_number",
        "serial_numbers",
        "conversation_id",
        "birth_date",
        "phone",
    }
)
ERASED = "[erased]"
CASE_MODELS = (ReturnCaseRow, CancellationRow, WarrantyClaimRow, TransitClaimRow)


class ForgetError(Exception):
    """The request cannot be carried out (bad email, unreachable tracker store); nothing was written."""


def anonymise_conversation(conversation_id: str) -> str:
    if conversation_id.startswith(ANON_PREFIX) or conversation_id == STAFF_CONVERSATION:
        return conversation_id
    return ANON_PREFIX + hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:40]


def scrub(value: Any, email: str) -> Any:
    """A JSON value without personal keys, and with the email erased wherever it appears in text."""
    if isinstance(value, dict):
        return {k: scrub(v, email) for k, v in value.items() if k not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [scrub(v, email) for v in value]
    if isinstance(value, str) and email in value.lower():
        return ERASED
    return value


@dataclass
class ForgetSummary:
    customers: int = 0
    orders: int = 0
    conversations: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    tracker_events_deleted: int = 0
    tracker_store: str = "absent"
    #: uploads whose files are deleted once the database committed (forget_purchase.py); not reported
    upload_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "orders": self.orders,
            "conversations": self.conversations,
            "deleted": self.deleted,
            "anonymised": self.anonymised,
            "tracker_events_deleted": self.tracker_events_deleted,
            "tracker_store": self.tracker_store,
        }


def tracker_engine(url: str | None) -> Engine | None:
    """An engine on Rasa's tracker store, or None when it is a SQLite file that does not exist (nothing to erase;
    connecting would create it)."""
    resolved = make_url(database_url(url or DEFAULT_TRACKER_STORE_URL))
    if resolved.get_backend_name() == "sqlite":
        database = resolved.database or ""
        if database in ("", ":memory:") or not Path(database).expanduser().exists():
            return None
        return create_engine(resolved, connect_args={"timeout": 30})
    return create_engine(resolved, pool_pre_ping=True)


def _conversations_of(session: Session, order_ids: list[int], numbers: list[str]) -> set[str]:
    found: set[str] = set()
    if numbers:
        found |= set(
            session.scalars(
                select(VerificationAttemptRow.conversation_id).where(VerificationAttemptRow.order_number.in_(numbers))
            )
        )
        found |= set(
            session.scalars(select(DecisionAuditRow.conversation_id).where(DecisionAuditRow.order_number.in_(numbers)))
        )
    if order_ids:
        for model in (VerificationTokenRow, VerificationCodeRow, *CASE_MODELS):
            found |= set(session.scalars(select(model.conversation_id).where(model.order_id.in_(order_ids))))
    return {c for c in found if c and c != STAFF_CONVERSATION and not c.startswith(ANON_PREFIX)}


def _tracker_conversations_with(connection, email: str) -> set[str]:
    events = _events_table(connection)
    if events is None:
        return set()
    stmt = select(events.c.sender_id).where(func.lower(events.c.data).like(f"%{_like_escape(email)}%", escape="\\"))
    return set(connection.execute(stmt.distinct()).scalars())


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _events_table(connection):
    if not inspect(connection).has_table(TRACKER_EVENTS_TABLE):
        return None
    return Table(TRACKER_EVENTS_TABLE, MetaData(), autoload_with=connection)


#: the conversations' own rows, deleted (attempts first: the only table without an ``order_id``)
_VERIFICATION_TABLES = (
    ("verification_attempts", cast(Table, VerificationAttemptRow.__table__)),
    ("verification_grants", cast(Table, VerificationTokenRow.__table__)),
    ("verification_codes", cast(Table, VerificationCodeRow.__table__)),
)


def _deleted(session: Session, statement: Any) -> int:
    """Run a DELETE; the number of rows it removed."""
    result = cast("CursorResult[Any]", session.execute(statement))
    return result.rowcount or 0


def _chunks(values: Iterable[str], size: int = 500):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def forget_all(session: Session, tracker: Engine | None, raw_email: object) -> ForgetSummary:
    """The whole operation (module docstring): the support store's ``session`` is committed here, last."""
    email = normalise_email(raw_email)
    if email is None:
        raise ForgetError("--email must be an email address")
    summary = ForgetSummary()

    customers = list(session.scalars(select(CustomerRow).where(func.lower(CustomerRow.email) == email)))
    customer_ids = {c.id for c in customers}
    orders = list(
        session.scalars(
            select(OrderRow).where(
                or_(
                    func.lower(OrderRow.email) == email,
                    OrderRow.customer_id.in_(customer_ids) if customer_ids else text("1 = 0"),
                )
            )
        )
    )
    customer_ids |= {o.customer_id for o in orders}
    customers = (
        list(session.scalars(select(CustomerRow).where(CustomerRow.id.in_(customer_ids)))) if customer_ids else []
    )
    order_ids = [o.id for o in orders]
    numbers = [o.order_number for o in orders]
    conversations = _conversations_of(session, order_ids, numbers) | purchase_conversations(session, email)

    tracker_connection = tracker.connect() if tracker is not None else None
    try:
        if tracker_connection is not None and tracker is not None:
            summary.tracker_store = tracker.dialect.name
            with tracker_connection.begin() as tracker_tx:
                conversations |= _tracker_conversations_with(tracker_connection, email)
                events = _events_table(tracker_connection)
                if events is not None:
                    for chunk in _chunks(conversations):
                        result = tracker_connection.execute(delete(events).where(events.c.sender_id.in_(chunk)))
                        summary.tracker_events_deleted += result.rowcount or 0
                _erase_engine_rows(session, summary, email, customers, orders, conversations)
                session.flush()
                tracker_tx.commit()
        else:
            _erase_engine_rows(session, summary, email, customers, orders, conversations)
        session.commit()
    finally:
        if tracker_connection is not None:
            tracker_connection.close()
    summary.deleted["evidence_files"] = delete_upload_files(summary.upload_ids)
    summary.customers, summary.orders, summary.conversations = len(customers), len(orders), len(conversations)
    return summary


def _erase_engine_rows(
    session: Session,
    summary: ForgetSummary,
    email: str,
    customers: list[CustomerRow],
    orders: list[OrderRow],
    conversations: set[str],
) -> None:
    deleted = summary.deleted
    deleted.update({name: 0 for name, _ in _VERIFICATION_TABLES})
    anonymised = summary.anonymised
    order_ids = [o.id for o in orders]
    numbers = [o.order_number for o in orders]

    # the conversations' own rows: attempts, grants, codes
    for chunk in _chunks(conversations):
        for name, table in _VERIFICATION_TABLES:
            deleted[name] += _deleted(session, delete(table).where(table.c.conversation_id.in_(chunk)))
    if numbers:  # attempts on the orders from conversations already gone
        attempts = _VERIFICATION_TABLES[0][1]
        deleted["verification_attempts"] += _deleted(
            session, delete(attempts).where(attempts.c.order_number.in_(numbers))
        )
    deleted["shipments"] = 0
    if order_ids:
        for name, table in _VERIFICATION_TABLES[1:]:
            deleted[name] += _deleted(session, delete(table).where(table.c.order_id.in_(order_ids)))
        deleted["shipments"] = _deleted(session, delete(ShipmentRow).where(ShipmentRow.order_id.in_(order_ids)))

    # audit rows: kept, anonymised
    audit_filter = [DecisionAuditRow.order_number.in_(numbers)] if numbers else []
    for chunk in _chunks(conversations):
        audit_filter.append(DecisionAuditRow.conversation_id.in_(chunk))
    count = 0
    if audit_filter:
        for row in session.scalars(select(DecisionAuditRow).where(or_(*audit_filter))):
            row.conversation_id = anonymise_conversation(row.conversation_id) if row.conversation_id else None
            row.inputs = scrub(row.inputs, email)
            row.decision = scrub(row.decision, email)
            count += 1
    anonymised["decision_audit"] = count

    # cases: kept (business records), anonymised
    for case_model in CASE_MODELS:
        where = [case_model.order_id.in_(order_ids)] if order_ids else []
        for chunk in _chunks(conversations):
            where.append(case_model.conversation_id.in_(chunk))
        count = 0
        if where:
            for case in session.scalars(select(case_model).where(or_(*where))):
                assert isinstance(case, CASE_MODELS)
                case.conversation_id = anonymise_conversation(case.conversation_id)
                case.decision = scrub(case.decision, email)
                if isinstance(case, WarrantyClaimRow):
                    case.defect = ERASED
                    case.serial_number = None
                count += 1
        anonymised[case_model.__tablename__] = count

    # personal data of the customers and their orders
    placeholder = {c.id: f"forgotten-{c.id}@invalid" for c in customers}
    for customer in customers:
        customer.email = placeholder[customer.id]
        customer.name = ""
        customer.birth_date = None
    for order in orders:
        order.email = placeholder.get(order.customer_id, f"forgotten-order-{order.id}@invalid")
    anonymised["customers"] = len(customers)
    anonymised["orders"] = len(orders)

    # claims for purchases elsewhere under this email, their code requests and uploaded files (forget_purchase.py)
    gone, kept, summary.upload_ids = erase_purchase_rows(
        session, email, conversations, anonymise=anonymise_conversation, scrub=scrub, erased=ERASED
    )
    deleted.update(gone)
    anonymised.update(kept)
