"""The AnkerCredits programme's fixed rules as answered decisions, with the figures from the policy (CRD-1..14)."""

from __future__ import annotations

from functools import partial

from .decision import Decision, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .policy import Policy

TOPIC = "credits"
_decision = partial(make_decision, TOPIC)


FAQ_KEYS = (
    "how_to_earn",
    "when_credited",
    "expiry",
    "redeem",
    "reversed",
    "eligibility",
    "cash_value",
    "merge_accounts",
    "transfer",
    "third_party_purchase",
    "gift_card_anker",
    "gift_card_third_party",
    "join_fee",
    "previous_transactions",
)


def credits_faq(key: str, policy: Policy) -> Decision:
    """The programme's fixed rules as an answered decision with the figures from the policy (CRD-1..14)."""
    c = policy.credits
    table = {
        "how_to_earn": [
            Reason(
                "how_to_earn",
                "CRD-9",
                {
                    "signup_reward": c.signup_reward,
                    "profile_reward": c.profile_reward,
                    "rate": c.earn_points_per_currency_unit,
                },
            ),
            Reason("earned_on_web_store_only", "CRD-1"),
            Reason("shipping_tax_discounts_excluded", "CRD-10"),
        ],
        "when_credited": [
            Reason("when_credited", "CRD-6", {"unlock_days": c.unlock_days}),
            Reason("not_logged_in_at_purchase", "CRD-5"),
        ],
        "expiry": [Reason("expiry", "CRD-7", {"expiry_months": c.expiry_months})],
        "redeem": [
            Reason("how_to_redeem", "CRD-12"),
            Reason(
                "redeemed_not_returnable", "CRD-13", {"damage_report_days": policy.returns.redeemed_damage_report_days}
            ),
        ],
        "reversed": [Reason("reversed_on_return", "CRD-11")],
        "eligibility": [
            Reason("eligibility", "CRD-2", {"minimum_age": dict(c.minimum_age)}),
            Reason("free_to_join", "CRD-3"),
        ],
        "cash_value": [Reason("no_cash_value", "CRD-4")],
        "transfer": [Reason("not_transferable", "CRD-4")],
        "merge_accounts": [Reason("accounts_cannot_merge", "CRD-4")],
        "third_party_purchase": [Reason("earned_on_web_store_only", "CRD-1")],
        "gift_card_anker": [Reason("gift_card_anker_customer_service", "CRD-14", {"email": policy.contacts.email})],
        "gift_card_third_party": [Reason("gift_card_third_party_provider", "CRD-14")],
        "join_fee": [Reason("free_to_join", "CRD-3")],
        "previous_transactions": [
            Reason("no_credits_before_launch", "CRD-8", {"programme_launch": c.programme_launch})
        ],
    }
    if key not in table:
        raise InvalidRequest(f"unknown credits question {key!r}; one of {FAQ_KEYS}")
    return _decision(Outcome.ANSWERED, table[key], policy, values={"question": key})
