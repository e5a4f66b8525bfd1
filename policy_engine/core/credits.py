"""AnkerCredits (CRD-1..14): earning and the balance.

Also of the topic: ``credits_ledger.py`` (the ledger replay), ``credits_membership.py`` (eligibility, one-time
rewards), ``credits_spending.py`` (reversal, redemption), ``credits_faq.py`` (the programme's rules as answers);
``REASON_CODES`` here covers all five.

Points are integers.  The ledger is a tuple of signed ``LedgerEntry`` rows; ``summarise_ledger`` replays it
chronologically as *lots* (one per earning) so the balance splits into locked / available / expiring soon, and
raises ``InvalidRequest`` if any entry would take the ledger below zero: the ledger can never go negative.

Day boundaries (CRD-6/7) are calendar dates in the policy timezone: credits of a payment made on day D unlock at
the start of day D + ``unlock_days`` ("day 30 unlocks") and expire at the start of the same date ``expiry_months``
(12) later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from functools import partial

from .credits_ledger import summarise_ledger, unlock_and_expiry
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .facts import WEB_STORE, LedgerEntry, Order, OrderStatus
from .policy import Policy

TOPIC = "credits"

REASON_CODES = (
    # earning on an order (credits_for_order)
    "credits_earned",
    "not_web_store_order",
    "not_logged_in_at_purchase",
    "before_programme_launch",
    "order_cancelled",
    "no_qualifying_amount",
    "shipping_tax_discounts_excluded",
    "awaiting_payment",
    # balance (credits_summary)
    "balance",
    "credits_locked",
    "credits_expiring_soon",
    # eligibility
    "age_unknown",
    "under_minimum_age",
    "enrolled",
    "eligible_join_free",
    # one-time rewards
    "signup_reward",
    "profile_reward",
    "reward_already_given",
    "not_registered",
    "profile_incomplete",
    # reversal
    "credits_reversed",
    "credits_deducted_price_adjustment",
    "nothing_to_reverse",
    # redemption
    "redemption_possible",
    "insufficient_available_credits",
    "redeemed_not_returnable",
    # rules (credits_faq)
    "earned_on_web_store_only",
    "no_cash_value",
    "not_transferable",
    "accounts_cannot_merge",
    "gift_card_anker_customer_service",
    "gift_card_third_party_provider",
    "how_to_earn",
    "when_credited",
    "expiry",
    "how_to_redeem",
    "reversed_on_return",
    "eligibility",
    "free_to_join",
    "no_credits_before_launch",
)

_decision = partial(make_decision, TOPIC)


# --------------------------------------------------------------------------------------------- dates and amounts


def qualifying_amount(order: Order) -> Decimal:
    """CRD-10: merchandise actually paid for, without shipping, tax, discounts, credits applied, free gifts and
    products redeemed with credits.  Never below zero."""
    lines = sum((ln.paid for ln in order.lines if not ln.redeemed_with_credits and not ln.free_gift), Decimal("0"))
    return max(Decimal("0"), lines - order.discount - order.credits_applied)


def points_for_amount(amount: Decimal, policy: Policy) -> int:
    """CRD-9: ``earn_points_per_currency_unit`` per whole currency unit, rounded down; never negative."""
    if amount <= 0:
        return 0
    return int((amount * policy.credits.earn_points_per_currency_unit).to_integral_value(rounding=ROUND_FLOOR))


def earned_points(order: Order, policy: Policy) -> int:
    """Points an order earns (0 when it earns none); the same rules as ``credits_for_order``."""
    d = credits_for_order(order, policy)
    return int(d.values.get("points", 0)) if d.outcome is Outcome.APPROVED else 0


def credits_for_order(order: Order, policy: Policy) -> Decision:
    """Whether and how many credits an order earns, with unlock and expiry (CRD-1, 5, 6, 7, 8, 9, 10, 11)."""
    if order.channel != WEB_STORE:
        return _decision(Outcome.DENIED, [Reason("not_web_store_order", "CRD-1", {"channel": order.channel})], policy)
    if not order.logged_in:
        return _decision(Outcome.DENIED, [Reason("not_logged_in_at_purchase", "CRD-5")], policy)
    placed_on = policy.local_date(order.placed_at)
    if placed_on < policy.credits.programme_launch:
        return _decision(
            Outcome.DENIED,
            [
                Reason(
                    "before_programme_launch",
                    "CRD-8",
                    {"placed_on": placed_on, "programme_launch": policy.credits.programme_launch},
                )
            ],
            policy,
        )
    if order.status is OrderStatus.CANCELLED:
        return _decision(Outcome.DENIED, [Reason("order_cancelled", "CRD-11")], policy)
    amount = qualifying_amount(order)
    points = points_for_amount(amount, policy)
    excluded = Reason(
        "shipping_tax_discounts_excluded",
        "CRD-10",
        {
            "shipping": order.shipping,
            "tax": order.tax,
            "discount": order.discount,
            "credits_applied": order.credits_applied,
            "qualifying_amount": amount,
        },
    )
    if points == 0:
        return _decision(
            Outcome.DENIED,
            [Reason("no_qualifying_amount", "CRD-10", {"qualifying_amount": amount}), excluded],
            policy,
            values={"points": 0},
        )
    values = {
        "points": points,
        "qualifying_amount": amount,
        "rate": policy.credits.earn_points_per_currency_unit,
        "unlock_at": None,
        "expires_at": None,
    }
    steps = []
    if order.paid_at is None:
        steps.append(NextStep("awaiting_payment", "CRD-6"))
    else:
        unlock_at, expires_at = unlock_and_expiry(order.paid_at, policy)
        values.update(unlock_at=unlock_at, expires_at=expires_at)
        steps.append(NextStep("credits_unlock", "CRD-6", due=unlock_at, values={"points": points}))
        steps.append(NextStep("credits_expire", "CRD-7", due=expires_at, values={"points": points}))
    return _decision(
        Outcome.APPROVED,
        [Reason("credits_earned", "CRD-9", {"points": points, "qualifying_amount": amount}), excluded],
        policy,
        next_steps=steps,
        values=values,
    )


def credits_summary(ledger: Iterable[LedgerEntry], policy: Policy, now: datetime) -> Decision:
    """The customer's balance: locked / available / expiring soon, with the dates (CRD-6, CRD-7)."""
    s = summarise_ledger(ledger, policy, now)
    values = {
        "balance": s.balance,
        "locked": s.locked,
        "available": s.available,
        "expiring_soon": s.expiring_soon,
        "expiring_soon_days": policy.credits.expiring_soon_days,
        "pending_expiry": s.pending_expiry,
        "next_unlock_at": s.next_unlock_at,
        "next_unlock_points": s.next_unlock_points,
        "next_expiry_at": s.next_expiry_at,
        "next_expiry_points": s.next_expiry_points,
    }
    reasons = [Reason("balance", "CRD-6", {"balance": s.balance, "locked": s.locked, "available": s.available})]
    steps = []
    if s.locked:
        reasons.append(
            Reason(
                "credits_locked",
                "CRD-6",
                {"locked": s.locked, "next_unlock_at": s.next_unlock_at, "next_unlock_points": s.next_unlock_points},
            )
        )
        steps.append(NextStep("credits_unlock", "CRD-6", due=s.next_unlock_at, values={"points": s.next_unlock_points}))
    if s.expiring_soon:
        reasons.append(
            Reason(
                "credits_expiring_soon",
                "CRD-7",
                {
                    "expiring_soon": s.expiring_soon,
                    "next_expiry_at": s.next_expiry_at,
                    "next_expiry_points": s.next_expiry_points,
                },
            )
        )
        steps.append(NextStep("credits_expire", "CRD-7", due=s.next_expiry_at, values={"points": s.next_expiry_points}))
    return _decision(Outcome.ANSWERED, reasons, policy, next_steps=steps, values=values)
