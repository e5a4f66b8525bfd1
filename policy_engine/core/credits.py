"""AnkerCredits (CRD-1..14): earning, the balance, eligibility, one-time rewards, reversal and redemption.

The ledger replay lives in ``credits_ledger.py``, the programme's fixed rules as answers in ``credits_faq.py``;
``REASON_CODES`` here covers the three modules.

Points are integers.  The ledger is a tuple of signed ``LedgerEntry`` rows; ``summarise_ledger`` replays it
chronologically as *lots* (one per earning) so the balance splits into locked / available / expiring soon, and
raises ``InvalidRequest`` if any entry would take the ledger below zero: the ledger can never go negative.

Day boundaries (CRD-6/7) are calendar dates in the policy timezone: credits of a payment made on day D unlock at
the start of day D + ``unlock_days`` ("day 30 unlocks") and expire at the start of the same date ``expiry_months``
(12) later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from functools import partial

from .credits_ledger import expiry_for_unlock, summarise_ledger, unlock_and_expiry
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import WEB_STORE, Customer, LedgerEntry, LedgerKind, Order, OrderStatus
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


# ------------------------------------------------------------------------------------------------- eligibility


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day`` (a 29 February birthday counts from 1 March in common years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _birthday(birth_date: date, years: int) -> date:
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:  # 29 February in a common year
        return date(birth_date.year + years, 3, 1)


def decide_credits_eligibility(customer: Customer, policy: Policy, now: datetime) -> Decision:
    """CRD-2 age by region (eligible from the birthday on which the customer reaches the minimum age),
    CRD-3 enrolment (an account is already enrolled; joining is free), CRD-9 one-time rewards as next steps."""
    today = policy.local_date(now)
    minimum = policy.credits.minimum_age_for(customer.region)
    if customer.birth_date is None:
        return _decision(
            Outcome.NEEDS_INFORMATION,
            [Reason("age_unknown", "CRD-2", {"minimum_age": minimum, "region": customer.region})],
            policy,
            missing=("birth_date",),
        )
    age = age_on(customer.birth_date, today)
    if age < minimum:
        return _decision(
            Outcome.DENIED,
            [
                Reason(
                    "under_minimum_age",
                    "CRD-2",
                    {
                        "minimum_age": minimum,
                        "region": customer.region,
                        "age": age,
                        "eligible_from": _birthday(customer.birth_date, minimum),
                    },
                )
            ],
            policy,
        )
    age_reason = Reason("eligibility", "CRD-2", {"minimum_age": minimum, "region": customer.region, "age": age})
    if customer.registered_at is not None:
        steps = []
        if customer.profile_completed_at is None:
            steps.append(NextStep("complete_profile", "CRD-9", values={"points": policy.credits.profile_reward}))
        return _decision(Outcome.APPROVED, [Reason("enrolled", "CRD-3"), age_reason], policy, next_steps=steps)
    return _decision(
        Outcome.APPROVED,
        [Reason("eligible_join_free", "CRD-3"), age_reason],
        policy,
        next_steps=[NextStep("register_account", "CRD-9", values={"points": policy.credits.signup_reward})],
    )


def decide_one_time_reward(
    customer: Customer, ledger: Iterable[LedgerEntry], kind: LedgerKind, policy: Policy, now: datetime
) -> Decision:
    """CRD-9: 500 credits once for registering, a reward once for completing the profile (name, phone, birth date);
    none for actions before the programme launch (CRD-8)."""
    if kind not in (LedgerKind.SIGNUP, LedgerKind.PROFILE):
        raise InvalidRequest(f"one-time reward kind must be signup or profile, got {kind!r}")
    policy.local_date(now)
    done_at = customer.registered_at if kind is LedgerKind.SIGNUP else customer.profile_completed_at
    if customer.registered_at is None:
        return _decision(
            Outcome.DENIED,
            [Reason("not_registered", "CRD-3")],
            policy,
            next_steps=[NextStep("register_account", "CRD-3")],
        )
    if done_at is None:
        return _decision(
            Outcome.NEEDS_INFORMATION,
            [Reason("profile_incomplete", "CRD-9")],
            policy,
            missing=("name", "phone_number", "birth_date"),
        )
    if policy.local_date(done_at) < policy.credits.programme_launch:
        return _decision(
            Outcome.DENIED,
            [Reason("before_programme_launch", "CRD-8", {"programme_launch": policy.credits.programme_launch})],
            policy,
        )
    if any(e.kind is kind for e in ledger):
        return _decision(Outcome.DENIED, [Reason("reward_already_given", "CRD-9", {"kind": kind.value})], policy)
    points = policy.credits.signup_reward if kind is LedgerKind.SIGNUP else policy.credits.profile_reward
    code = "signup_reward" if kind is LedgerKind.SIGNUP else "profile_reward"
    return _decision(
        Outcome.APPROVED,
        [Reason(code, "CRD-9", {"points": points})],
        policy,
        values={
            "points": points,
            "kind": kind.value,
            "unlock_at": done_at,
            "expires_at": expiry_for_unlock(done_at, policy),
        },
    )


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
