"""Warranty for a product bought elsewhere (WAR-9, WAR-12, WAR-20) and the evidence customers upload (WAR-7, WAR-9).

* ``find_product``: which of our products the customer names (SKU or model words).
* ``preview_purchase_claim``: the decision for the purchase as stated (``preview_warranty_purchase``: no order data is
  read, nothing is written, no verification needed).  A receipt counts once this conversation registered one.
* ``send_claim_email_code`` / ``verify_claim_email``: the customer's identity for follow-up.  A claim without an order
  is written under an email address only after a one-time code mailed to that address came back into the same
  conversation (RET-4's step-up, applied to an address; the same figures of ``identity:`` in policy.yml: code
  lifetime, tries per code, sends per hour per address and per conversation).  The answer to a send is the same
  whatever the address; only a salted HMAC of a code is stored.
* ``register_upload``: an upload the channel stored (``chat_channels/uploads.py``) is recorded as this conversation's
  ``receipt`` or ``defect`` evidence, only if its metadata names this conversation (an id from someone else's
  conversation is refused exactly like an unknown id).
* ``open_purchase_claim``: on the customer's yes, a ``WAR-E`` case (``purchase_claims``) with the decision, the
  conversation's evidence linked to it and the audit row, in one transaction; a second yes answers the same case.
* ``evidence_for_case`` (staff): the files of a case, for ``python -m policy_engine evidence`` or the agent inbox.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.decision import Decision, Outcome, to_jsonable
from ..core.errors import InvalidRequest, NotVerified
from ..core.formats import normalise_code, normalise_email
from ..core.topics import check_warranty_request
from ..core.warranty import decide_warranty
from ..core.warranty_purchase import StatedPurchase, match_product, purchase_from_statement
from ..core.warranty_request import SERIAL_NUMBER, WarrantyRequest
from ..store.db import unit_of_work
from ..store.evidence_models import EmailVerificationRow, EvidenceRow, PurchaseClaimRow
from ..store.identity import Verification, check_conversation_id, hash_code
from ..store.mail import MailError, code_message
from ..store.mapping import decision_from_dict, product_fact
from ..store.models import ProductRow
from ..store.upload_files import UploadFiles
from .base import CASE_OUTCOMES, ServiceBase, insert_into, jsonable_request, with_values

logger = logging.getLogger(__name__)

EVIDENCE_KINDS = ("receipt", "defect")
CASE_PREFIX = "WAR-E"


def purchase_case_id(row_id: int) -> str:
    """``WAR-E000001``: a warranty case for a purchase elsewhere (its numbers apart from the per-order ``WAR-``)."""
    return f"{CASE_PREFIX}{row_id:06d}"


@dataclass(frozen=True)
class Evidence:
    upload_id: str
    kind: str
    content_type: str
    size: int
    sha256: str
    channel: str
    received_at: datetime
    case_id: str | None
    path: Path | None = None  # staff only (evidence_for_case)


def _evidence(row: EvidenceRow, path: Path | None = None) -> Evidence:
    return Evidence(
        row.upload_id,
        row.kind,
        row.content_type,
        row.size_bytes,
        row.sha256,
        row.channel,
        row.received_at,
        row.case_id,
        path,
    )


class PurchaseClaimUseCases(ServiceBase):
    _upload_files: UploadFiles | None = None

    @property
    def upload_files(self) -> UploadFiles:
        """Where the channels store uploads (``UPLOAD_DIR``, default var/uploads), unless set."""
        if self._upload_files is None:
            self._upload_files = UploadFiles.from_env()
        return self._upload_files

    @upload_files.setter
    def upload_files(self, files: UploadFiles) -> None:
        self._upload_files = files

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

    # ------------------------------------------------------------------------------------------------ the email
    def send_claim_email_code(self, conversation_id: str, email: str) -> Verification:
        """A one-time code to ``email`` for this conversation: ``code_sent`` (whether or not it was really sent: the
        per-address and per-conversation send limits) or ``invalid_input``."""
        conversation_id = check_conversation_id(conversation_id)
        address = normalise_email(email)
        if address is None:
            return Verification(False, "invalid_input")
        limits = self.policy.identity
        now = self.now()
        since = now - timedelta(hours=1)
        code = f"{secrets.randbelow(1_000_000):06d}"
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            per_address = session.execute(
                select(func.count()).where(
                    EmailVerificationRow.email == address, EmailVerificationRow.created_at > since
                )
            ).scalar_one()
            per_conversation = session.execute(
                select(func.count()).where(
                    EmailVerificationRow.conversation_id == conversation_id, EmailVerificationRow.created_at > since
                )
            ).scalar_one()
            if max(per_address, per_conversation) >= limits.code_max_sends_per_hour:
                logger.info("claim email: the send limit is reached; no code sent")
                return Verification(False, "code_sent")
            salt = secrets.token_hex(16)
            session.add(
                EmailVerificationRow(
                    conversation_id=conversation_id,
                    email=address,
                    salt=salt,
                    code_hash=hash_code(salt, conversation_id, code),
                    tries=0,
                    created_at=now,
                    expires_at=now + timedelta(minutes=limits.code_lifetime_minutes),
                )
            )
            uow.commit()
        try:
            mailer = self.mailer
            mailer.send(
                code_message(
                    getattr(mailer, "sender", "support@localhost"), address, code, limits.code_lifetime_minutes
                )
            )
        except (MailError, ValueError) as error:
            logger.error("claim email: the one-time code could not be sent: %s", error)
        return Verification(False, "code_sent")

    def verify_claim_email(self, conversation_id: str, code: str) -> Verification:
        """The code of this conversation's latest request: ``verified``, ``invalid_code`` (``attempts_left``),
        ``code_expired`` or ``invalid_input``."""
        conversation_id = check_conversation_id(conversation_id)
        digits = normalise_code(code)
        limits = self.policy.identity
        if digits is None:
            return Verification(False, "invalid_input", attempts_left=limits.code_max_attempts)
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            row = uow.session.scalars(
                select(EmailVerificationRow)
                .where(EmailVerificationRow.conversation_id == conversation_id)
                .order_by(EmailVerificationRow.created_at.desc(), EmailVerificationRow.id.desc())
                .limit(1)
            ).first()
            if row is None or row.expires_at <= now or row.tries >= limits.code_max_attempts or row.verified_at:
                return Verification(False, "code_expired")
            if hmac.compare_digest(row.code_hash, hash_code(row.salt, conversation_id, digits)):
                row.verified_at = now
                uow.commit()
                return Verification(True, "verified", attempts_left=limits.code_max_attempts)
            row.tries += 1
            left = limits.code_max_attempts - row.tries
            uow.commit()
            return Verification(False, "invalid_code" if left > 0 else "code_expired", attempts_left=max(left, 0))

    def _verified_email(self, session: Session, conversation_id: str, now: datetime) -> str | None:
        since = now - timedelta(minutes=self.policy.identity.token_lifetime_minutes)
        return session.execute(
            select(EmailVerificationRow.email)
            .where(
                EmailVerificationRow.conversation_id == conversation_id,
                EmailVerificationRow.verified_at.is_not(None),
                EmailVerificationRow.verified_at > since,
            )
            .order_by(EmailVerificationRow.verified_at.desc())
            .limit(1)
        ).scalar_one_or_none()

    # ------------------------------------------------------------------------------------------------ uploads
    def register_upload(self, conversation_id: str, upload_id: str, kind: str) -> Evidence:
        """Record the channel's upload as this conversation's ``kind`` evidence.  ``InvalidRequest("no such
        upload")`` for an unknown id and for an id stored by another conversation alike."""
        conversation_id = check_conversation_id(conversation_id)
        if kind not in EVIDENCE_KINDS:
            raise InvalidRequest(f"kind must be one of {EVIDENCE_KINDS}, got {kind!r}")
        meta = self.upload_files.meta(upload_id)
        if meta is None or not hmac.compare_digest(meta.conversation_id.encode(), conversation_id.encode()):
            raise InvalidRequest("no such upload")
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            existing = session.scalars(select(EvidenceRow).where(EvidenceRow.upload_id == meta.upload_id)).first()
            if existing is not None:
                return _evidence(existing)
            row = EvidenceRow(
                upload_id=meta.upload_id,
                conversation_id=conversation_id,
                kind=kind,
                content_type=meta.content_type,
                size_bytes=meta.size,
                sha256=meta.sha256,
                channel=meta.channel,
                received_at=meta.received_at,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent registration of the same upload won
                session.rollback()
                won = session.scalars(select(EvidenceRow).where(EvidenceRow.upload_id == meta.upload_id)).one()
                return _evidence(won)
            evidence = _evidence(row)
            uow.commit()
            return evidence

    def conversation_evidence(self, conversation_id: str) -> tuple[Evidence, ...]:
        conversation_id = check_conversation_id(conversation_id)
        with unit_of_work(self._sessions) as uow:
            rows = uow.session.scalars(
                select(EvidenceRow).where(EvidenceRow.conversation_id == conversation_id).order_by(EvidenceRow.id)
            )
            return tuple(_evidence(r) for r in rows)

    def evidence_for_case(self, case_id: str) -> tuple[Evidence, ...]:
        """Staff only (the command line, the agent inbox): a case's files with their paths in the upload directory."""
        if not isinstance(case_id, str) or len(case_id) > 16:
            raise InvalidRequest("not a case id")
        with unit_of_work(self._sessions) as uow:
            rows = uow.session.scalars(
                select(EvidenceRow).where(EvidenceRow.case_id == case_id.strip().upper()).order_by(EvidenceRow.id)
            )
            return tuple(_evidence(r, self.upload_files.path(r.upload_id)) for r in rows)

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


__all__ = ["PurchaseClaimUseCases", "Evidence", "purchase_case_id", "Outcome"]
