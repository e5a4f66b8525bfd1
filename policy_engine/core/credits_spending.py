"""AnkerCredits taken away or spent (CRD-11, CRD-12, CRD-13): the reversal of a refunded order's credits and a
redemption."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import partial

from .credits import TOPIC, points_for_amount
from .credits_ledger import summarise_ledger
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import LedgerEntry, LedgerKind, Order
from .policy import Policy

_decision = partial(make_decision, TOPIC)


# ---------------------------------------------------------------------------------------------------- reversal

REVERSAL_CAUSES = ("return", "cancellation", "price_adjustment")


def decide_credits_reversal(
    ledger: Iterable[LedgerEntry],
    order: Order,
    policy: Policy,
    now: datetime,
    *,
    cause: str,
    refunded_amount: Decimal | None = None,
) -> Decision:
    """CRD-11: a return or cancellation reverses the credits the order earned; a partial refund for a price
    adjustment deducts the credits of the refunded amount.  ``refunded_amount=None`` reverses all that is left.

    The ledger never goes negative: the deduction is capped at the current balance, the rest is reported as
    ``shortfall`` (nothing more is taken)."""
    if cause not in REVERSAL_CAUSES:
        raise InvalidRequest(f"cause must be one of {REVERSAL_CAUSES}, got {cause!r}")
    if refunded_amount is not None and (not isinstance(refunded_amount, Decimal) or refunded_amount < 0):
        raise InvalidRequest(f"refunded_amount must be a Decimal >= 0, got {refunded_amount!r}")
    if cause == "price_adjustment" and refunded_amount is None:
        raise InvalidRequest("a price adjustment needs the refunded_amount")
    ledger = tuple(ledger)
    mine = [e for e in ledger if e.order_number == order.order_number]
    earned = sum(e.points for e in mine if e.kind is LedgerKind.PURCHASE)
    taken = -sum(e.points for e in mine if e.kind in (LedgerKind.REVERSAL, LedgerKind.ADJUSTMENT) and e.points < 0)
    remaining = max(0, earned - taken)
    wanted = remaining if refunded_amount is None else min(remaining, points_for_amount(refunded_amount, policy))
    if wanted == 0:
        return _decision(
            Outcome.ANSWERED, [Reason("nothing_to_reverse", "CRD-11", {"earned": earned})], policy, values={"points": 0}
        )
    balance = summarise_ledger(ledger, policy, now).balance
    points = min(wanted, balance)
    if points == 0:
        return _decision(
            Outcome.ANSWERED,
            [Reason("nothing_to_reverse", "CRD-11", {"earned": earned, "shortfall": wanted})],
            policy,
            values={"points": 0, "shortfall": wanted},
        )
    kind = LedgerKind.ADJUSTMENT if cause == "price_adjustment" else LedgerKind.REVERSAL
    code = "credits_deducted_price_adjustment" if kind is LedgerKind.ADJUSTMENT else "credits_reversed"
    values = {
        "points": points,
        "shortfall": wanted - points,
        "earned": earned,
        "cause": cause,
        "order_number": order.order_number,
    }
    return _decision(
        Outcome.APPROVED,
        [Reason(code, "CRD-11", values)],
        policy,
        values=values,
        next_steps=[
            NextStep(
                "ledger_entry",
                "CRD-11",
                values={"kind": kind.value, "points": -points, "order_number": order.order_number},
            )
        ],
    )


# -------------------------------------------------------------------------------------------------- redemption


def decide_credits_redemption(ledger: Iterable[LedgerEntry], points: int, policy: Policy, now: datetime) -> Decision:
    """CRD-12: redeem available (unlocked, unexpired) credits in the account's redeem section; CRD-13: redeemed
    products cannot be cancelled, returned or exchanged, damage on arrival is reported within 7 days."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidRequest(f"points to redeem must be a positive integer, got {points!r}")
    s = summarise_ledger(ledger, policy, now)
    if points > s.available:
        return _decision(
            Outcome.DENIED,
            [
                Reason(
                    "insufficient_available_credits",
                    "CRD-12",
                    {
                        "requested": points,
                        "available": s.available,
                        "locked": s.locked,
                        "next_unlock_at": s.next_unlock_at,
                    },
                )
            ],
            policy,
            values={"requested": points, "available": s.available},
        )
    days = policy.returns.redeemed_damage_report_days
    return _decision(
        Outcome.APPROVED,
        [
            Reason("redemption_possible", "CRD-12", {"requested": points, "available_after": s.available - points}),
            Reason("redeemed_not_returnable", "CRD-13", {"damage_report_days": days}),
        ],
        policy,
        values={"requested": points, "available_after": s.available - points},
        next_steps=[
            NextStep("redeem_in_account", "CRD-12"),
            NextStep("shipped_separately", "CRD-12"),
            NextStep("track_in_my_rewards", "CRD-12"),
            NextStep("report_damage_on_arrival", "CRD-13", values={"days": days, "email": policy.contacts.email}),
        ],
    )
