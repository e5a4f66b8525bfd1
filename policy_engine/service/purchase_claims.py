"""Warranty for a product bought elsewhere (WAR-9, WAR-12, WAR-20) and the evidence customers upload (WAR-7, WAR-9).

* ``find_product``: which of our products the customer names (SKU or model words).
* ``preview_purchase_claim``: the decision for the purchase as stated (``preview_warranty_purchase``: no order data is
  read, nothing is written, no verification needed).  A receipt counts once this conversation registered one.
* ``send_claim_email_code`` / ``verify_claim_email`` (``claim_email.py``): the customer's identity for follow-up. A
  claim without an order is written under an email address only after a one-time code mailed to that address came back
  into the same conversation (RET-4's step-up, applied to an address; the same figures of ``identity:`` in policy.yml:
  code lifetime, tries per code, sends per hour per address and per conversation). The answer to a send is the same
  whatever the address; only a salted HMAC of a code is stored.
* ``register_upload``: an upload the channel stored (``chat_channels/uploads.py``) is recorded as this conversation's
  ``receipt`` or ``defect`` evidence, only if its metadata names this conversation (an id from someone else's
  conversation is refused exactly like an unknown id).
* ``open_purchase_claim``: on the customer's yes, a ``WAR-E`` case (``purchase_claims``) with the decision, the
  conversation's evidence linked to it and the audit row, in one transaction; a second yes answers the same case.
* ``purchase_claim_status``: coming back to a ``WAR-E`` claim (issue 15, item 4): found only under the email this
  conversation proved by the same one-time code; an unknown number and another email's claim answer alike (RET-4).
* ``evidence_for_case`` (staff): the files of a case, for ``python -m policy_engine evidence`` or the agent inbox.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.cases import (
    PURCHASE_CASE_PREFIX,
    PurchaseClaimRecord,
    decide_purchase_claim_status,
    normalise_case_number,
)
from ..core.decision import Decision, Outcome, to_jsonable
from ..core.errors import InvalidRequest, NotVerified
from ..core.topics import check_warranty_request
from ..core.warranty import decide_warranty
from ..core.warranty_purchase import StatedPurchase, match_product, purchase_from_statement
from ..core.warranty_request import SERIAL_NUMBER, WarrantyRequest
from ..store.db import unit_of_work
from ..store.evidence_models import EvidenceRow, PurchaseClaimRow
from ..store.identity import check_conversation_id
from ..store.mapping import decision_from_dict, product_fact
from ..store.models import ProductRow
from .base import CASE_OUTCOMES, insert_into, jsonable_request, with_values
from .claim_email import ClaimEmailUseCases
from .evidence import Evidence, EvidenceUseCases

logger = logging.getLogger(__name__)

CASE_PREFIX = PURCHASE_CASE_PREFIX  # "WAR-E"


def purchase_case_id(row_id: int) -> str:
    """``WAR-E000001``: a warranty case for a purchase elsewhere (its numbers apart from the per-order ``WAR-``)."""
    return f"{CASE_PREFIX}{row_id:06d}"


class PurchaseClaimUseCases(ClaimEmailUseCases, EvidenceUseCases):
    # ------------------------------------------------------------------------------------------------ the product
    def find_product(self, text: str) -> dict[str, str] | None:
        """The catalogue product ``text`` names (``sku``, ``name``), or None."""
        if not isinstance(text, str) or len(text) > 200:
            return None
        with unit_of_work(self._sessions) as uow:
            products = [product_fact(p) for p in uow.session.scalars(select(ProductRow))]
        product = match_product(text, products)
        return None if product is None else {"sku": product.sku, "name": product.name}

    def _stated(self, session: Session, conversation_id: str, sku: str, stated: dict[str, Any]) -> StatedPurchase:
        row = session.get(ProductRow, sku) if isinstance(sku, str) and len(sku) <= 32 else None
        if row is None:
            raise InvalidRequest(f"no product {sku!r}")
        purchased_on = stated.get("purchased_on")
        if not isinstance(purchased_on, date) or isinstance(purchased_on, datetime):
            raise InvalidRequest("purchased_on must be a date")
        receipt = (
            session.execute(
                select(func.count()).where(
                    EvidenceRow.conversation_id == conversation_id, EvidenceRow.kind == "receipt"
                )
            ).scalar_one()
            > 0
        )
        return StatedPurchase(
            product=product_fact(row),
            seller=stated.get("seller", ""),
            purchased_on=purchased_on,
            price=stated.get("price"),  # type: ignore[arg-type]  # checked by purchase_from_statement
            country=stated.get("country") or "US",
            receipt=receipt,
        )

    def _decide(
        self, session: Session, conversation_id: str, sku: str, stated: dict[str, Any], request: WarrantyRequest
    ) -> tuple[Decision, StatedPurchase, datetime]:
        check_conversation_id(conversation_id)
        check_warranty_request(request)
        statement = self._stated(session, conversation_id, sku, stated)
        purchase = purchase_from_statement(statement)
        now = self.now()
        if statement.purchased_on > self.policy.local_date(now):
            raise InvalidRequest(f"purchase date {statement.purchased_on} is in the future")
        evidence = request.evidence_provided or self._has_evidence(session, conversation_id, "defect")
        request = replace(request, evidence_provided=evidence)
        return decide_warranty(None, request, self.policy, now, purchase=purchase), statement, now

    @staticmethod
    def _has_evidence(session: Session, conversation_id: str, kind: str) -> bool:
        stmt = select(func.count()).where(EvidenceRow.conversation_id == conversation_id, EvidenceRow.kind == kind)
        return session.execute(stmt).scalar_one() > 0

    def preview_purchase_claim(
        self, conversation_id: str, sku: str, stated: dict[str, Any], request: WarrantyRequest
    ) -> Decision:
        """WAR-9/12/20 for a purchase elsewhere: ``stated`` holds ``seller``, ``purchased_on`` (a date), ``price``
        (Decimal), ``country``.  Nothing is written."""
        with unit_of_work(self._sessions) as uow:
            decision, _, _ = self._decide(uow.session, conversation_id, sku, stated, request)
            return decision

    # ------------------------------------------------------------------------------------------------ the claim
    def open_purchase_claim(
        self, conversation_id: str, sku: str, stated: dict[str, Any], request: WarrantyRequest
    ) -> Decision:
        """On the customer's yes: a ``WAR-E`` case for a covered or for-review claim, written under the email this
        conversation verified (``NotVerified`` without one), with the conversation's evidence linked to it.  Other
        outcomes are only audited.  One open claim per conversation: a repeat answers the same case."""
        conversation_id = check_conversation_id(conversation_id)
        table = PurchaseClaimRow.__table__
        for attempt in range(3):
            with unit_of_work(self._sessions, write=True) as uow:
                session = uow.session
                email = self._verified_email(session, conversation_id, self.now())
                if email is None:
                    raise NotVerified()
                existing = session.execute(
                    select(PurchaseClaimRow.decision).where(
                        PurchaseClaimRow.conversation_id == conversation_id, PurchaseClaimRow.status == "open"
                    )
                ).scalar_one_or_none()
                if existing is not None:
                    return with_values(decision_from_dict(existing), repeated=True)
                decision, statement, now = self._decide(session, conversation_id, sku, stated, request)
                stored = None
                if decision.outcome in CASE_OUTCOMES:
                    serial = (request.serial_number or "").strip().upper()
                    deadline = decision.values.get("claim_deadline")
                    purchase = purchase_from_statement(statement)
                    try:
                        result = cast(
                            "CursorResult[Any]",
                            session.execute(
                                insert_into(table),
                                dict(
                                    email=email,
                                    status="open",
                                    seller=purchase.channel,
                                    sku=statement.product.sku,
                                    purchased_on=statement.purchased_on,
                                    price=statement.price,
                                    country=purchase.country,
                                    serial_number=serial if SERIAL_NUMBER.match(serial) else None,
                                    defect=request.defect,
                                    cause=request.cause,
                                    claim_deadline=deadline if isinstance(deadline, date) else None,
                                    outcome=decision.outcome.value,
                                    decision={},
                                    conversation_id=conversation_id,
                                    created_at=now,
                                ),
                            ),
                        )
                    except IntegrityError:
                        if attempt == 2:
                            raise
                        continue
                    key = result.inserted_primary_key
                    assert key is not None
                    case_id = purchase_case_id(key[0])
                    decision = with_values(decision.with_case(case_id), repeated=False)
                    stored = decision.to_dict()
                    session.execute(
                        update(PurchaseClaimRow)
                        .where(PurchaseClaimRow.id == key[0])
                        .values(case_id=case_id, decision=stored)
                    )
                    session.execute(
                        update(EvidenceRow)
                        .where(EvidenceRow.conversation_id == conversation_id, EvidenceRow.case_id.is_(None))
                        .values(case_id=case_id, linked_at=now)
                    )
                self._audit(
                    session,
                    decision,
                    conversation_id=conversation_id,
                    order_number=None,
                    inputs={
                        "request": jsonable_request(request),
                        "purchase": to_jsonable(
                            {**stated, "sku": sku, "receipt": statement.receipt, "email_verified": True}
                        ),
                    },
                    now=now,
                    stored=stored,
                )
                uow.commit()
                return decision
        raise RuntimeError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------------------------------ coming back to it
    def purchase_claim_status(self, conversation_id: str, case_number: str) -> Decision:
        """Where the ``WAR-E`` claim ``case_number`` stands (``core/cases.py`` ``decide_purchase_claim_status``), for
        a conversation that proved an email by a one-time code (``send_claim_email_code`` / ``verify_claim_email``;
        ``NotVerified`` otherwise).  One query by number *and* that email: an unknown number and another email's
        claim take the same path and get the same answer (RET-4).  Nothing is written."""
        conversation_id = check_conversation_id(conversation_id)
        wanted = normalise_case_number(case_number) if isinstance(case_number, str) else None
        now = self.now()
        with unit_of_work(self._sessions) as uow:
            session = uow.session
            email = self._verified_email(session, conversation_id, now)
            if email is None:
                raise NotVerified()
            found = session.execute(
                select(PurchaseClaimRow, ProductRow.name)
                .join(ProductRow, ProductRow.sku == PurchaseClaimRow.sku)
                .where(PurchaseClaimRow.case_id == (wanted or ""), PurchaseClaimRow.email == email)
            ).first()
            claim = None
            if found is not None and found[0].decision:
                row, product = found
                claim = PurchaseClaimRecord(
                    case_id=str(row.case_id),
                    status=row.status,
                    opened_at=row.created_at,
                    product=product,
                    purchased_on=row.purchased_on,
                    claim_deadline=row.claim_deadline,
                    decision=decision_from_dict(row.decision),
                )
            return decide_purchase_claim_status(claim, self.policy, now, case_number=wanted or "")


__all__ = ["PurchaseClaimUseCases", "Evidence", "purchase_case_id", "Outcome"]
