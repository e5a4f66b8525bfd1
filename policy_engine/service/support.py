"""``SupportService``: the API the action server and the command line call (architecture.md, "The service layer").

The use cases live in one module per topic; this facade joins them over the shared plumbing of ``base.py``:
* ``identity.py``: RET-4 verification, the step-up code, the order overview;
* ``orders.py``: returns, cancellation, refund status, order status, AnkerCredits balance;
* ``claims.py``: warranty claims (our orders and purchases elsewhere) and transit claims;
* ``purchase_claims.py``: the claim for a purchase elsewhere (``WAR-E`` cases under a verified email) and the
  evidence customers upload (proof of purchase, photos of a defect);
* ``staff.py``: the warehouse's inspection result and the refund issued;
* ``handoff.py``: a person takes over (CON-1): the queue, taking, replies, hand back, close, tickets, agent accounts.

Errors (``policy_engine/core/errors.py``): ``NotVerified`` when this conversation holds no unexpired verification
grant for the order (nothing is disclosed); ``InvalidRequest`` for request facts that cannot be decided (nothing is
written).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.contacts import contact_info
from ..core.decision import Decision
from ..core.figures import policy_figures
from ..core.policy import DEFAULT_POLICY_PATH
from ..core.policy_file import load_policy
from ..store.db import make_engine, make_session_factory
from ..store.mail import mailer_from_env
from .agents import AgentUseCases
from .base import utc_now
from .claims import ClaimUseCases
from .handoff import HandoffUseCases
from .identity import IdentityUseCases
from .orders import OrderUseCases
from .purchase_claims import PurchaseClaimUseCases
from .staff import StaffUseCases


class SupportService(
    IdentityUseCases, OrderUseCases, ClaimUseCases, PurchaseClaimUseCases, StaffUseCases, HandoffUseCases, AgentUseCases
):
    """Every use case, over one session factory, one policy, one clock and one mailer."""

    @classmethod
    def from_env(cls) -> SupportService:
        """``DATABASE_URL`` (default ``sqlite:///var/support.db``), ``POLICY_FILE`` (default policy/policy.yml),
        the real UTC clock, the mailer of ``mail.mailer_from_env()`` (SMTP_HOST...; else ``var/outbox/``).  The schema
        must exist (``python -m policy_engine migrate``)."""
        policy = load_policy(Path(os.environ.get("POLICY_FILE") or DEFAULT_POLICY_PATH))
        return cls(make_session_factory(make_engine()), policy, utc_now, mailer_from_env())

    def policy_values(self) -> dict[str, str]:
        """Figures the FAQ answers quote, as strings (template variables): ``policy.policy_figures``."""
        return policy_figures(self.policy)

    def contacts(self) -> Decision:
        """CON-1, for handoff."""
        return contact_info(self.policy, self.now())
