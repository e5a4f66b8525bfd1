"""RET-4 use cases: verify the customer (order number + purchase email, the step-up code) and the order overview."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ..core.decision import to_jsonable
from ..store.db import unit_of_work
from ..store.identity import CodeToSend, Verification, authorise, verify
from ..store.mail import MailError, code_message
from ..store.step_up import verify_code
from .base import ServiceBase

logger = logging.getLogger(__name__)


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


class IdentityUseCases(ServiceBase):
    def verify_customer(
        self, conversation_id: str, order_number: str, email: str, *, client: str | None = None
    ) -> Verification:
        """RET-4: order number + purchase email; same answer for unknown order and wrong email; throttled per
        conversation, per ``client`` (the channel's keyed hash of the caller's address; None when unknown) and per
        order number; past the lock-out figure a step-up (``code_sent``: a one-time code to the purchase email, only
        if the details match, same answer either way).  Success grants this conversation the order."""
        now = self.now()
        with unit_of_work(self._sessions, write=True) as uow:
            result, to_send = verify(
                uow.session, conversation_id, order_number, email, now, self.policy.identity, client
            )
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
            message = code_message(
                getattr(mailer, "sender", "support@localhost"), to_send.email, to_send.code, to_send.minutes
            )
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
                    LineOverview(
                        line.line_no, line.sku, line.product.name, line.quantity, tuple(s.serial for s in line.serials)
                    )
                    for line in order.lines
                ),
            )
