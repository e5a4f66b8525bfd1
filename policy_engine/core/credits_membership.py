"""AnkerCredits membership (CRD-2, CRD-3, CRD-9): who can join, and the one-time rewards (sign-up, profile)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import partial

from .credits import TOPIC
from .credits_ledger import expiry_for_unlock
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import Customer, LedgerEntry, LedgerKind
from .policy import Policy

_decision = partial(make_decision, TOPIC)


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
