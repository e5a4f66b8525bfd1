"""The policy as code: pure decisions over immutable facts (floor 0; never imports rasa or actions).

Every ``decide_*`` function takes facts, the ``Policy`` and the current time (``now``, timezone-aware) and returns
a ``Decision``; none reads the clock, the database or the environment.  Bad facts raise ``InvalidRequest``; a bad
policy file raises ``PolicyError``.
"""

from .core.cancellation import decide_cancellation
from .core.contacts import contact_info
from .core.credits import credits_for_order, credits_summary
from .core.credits_faq import credits_faq
from .core.credits_ledger import CreditsSummary, summarise_ledger, validate_ledger_entry
from .core.credits_membership import decide_credits_eligibility, decide_one_time_reward
from .core.credits_spending import decide_credits_redemption, decide_credits_reversal
from .core.decision import Decision, NextStep, Outcome, Reason
from .core.errors import InvalidRequest, PolicyError
from .core.facts import (
    WEB_STORE,
    Campaign,
    Customer,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    RefundRecord,
    Shipment,
    ShippedLine,
)
from .core.figures import policy_figures
from .core.order_status import decide_order_status
from .core.policy import Policy, normalise_channel
from .core.policy_file import load_policy
from .core.refunds import decide_refund_status
from .core.returns import ReturnRequest, decide_return, decide_return_requirements
from .core.transit import TransitRequest, decide_transit
from .core.warranty import decide_warranty
from .core.warranty_request import ProofOfPurchase, Purchase, WarrantyRequest

__all__ = [
    "Campaign",
    "CreditsSummary",
    "Customer",
    "Decision",
    "InvalidRequest",
    "LedgerEntry",
    "LedgerKind",
    "NextStep",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Outcome",
    "Policy",
    "PolicyError",
    "Product",
    "ProofOfPurchase",
    "Purchase",
    "Reason",
    "RefundRecord",
    "ShippedLine",
    "Shipment",
    "ReturnRequest",
    "TransitRequest",
    "WEB_STORE",
    "WarrantyRequest",
    "contact_info",
    "credits_faq",
    "credits_for_order",
    "credits_summary",
    "decide_cancellation",
    "decide_credits_eligibility",
    "decide_credits_redemption",
    "decide_credits_reversal",
    "decide_order_status",
    "decide_one_time_reward",
    "decide_refund_status",
    "decide_return",
    "decide_return_requirements",
    "decide_transit",
    "decide_warranty",
    "load_policy",
    "normalise_channel",
    "policy_figures",
    "summarise_ledger",
    "validate_ledger_entry",
]
