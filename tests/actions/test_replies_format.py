"""Answers a person reads (issue 15, item 7): dates as people write them in the store's time zone, amounts with their
currency, never through float."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from actions.replies import human_date, human_moment, money, template_values
from policy_engine.core.decision import Decision, NextStep, Outcome, Reason
from policy_engine.core.policy_file import load_policy

LA = ZoneInfo("America/Los_Angeles")


def test_a_date_is_written_with_its_weekday_and_month_name():
    assert human_date(date(2026, 12, 12)) == "Saturday 12 December 2026"
    assert human_date(date(2027, 1, 1)) == "Friday 1 January 2027"


def test_a_time_is_shown_in_the_store_time_zone():
    moment = datetime(2026, 12, 12, 3, 30, tzinfo=timezone.utc)  # 19:30 the evening before in Los Angeles
    assert human_moment(moment, LA) == "Friday 11 December 2026 at 19:30 PST"


@pytest.mark.parametrize(
    "amount,currency,text",
    [
        (Decimal("39.99"), "USD", "$39.99"),
        (Decimal("40"), "USD", "$40.00"),
        (Decimal("0.1") + Decimal("0.2"), "USD", "$0.30"),
        (Decimal("-5.5"), "EUR", "-€5.50"),
        (Decimal("12.5"), "CHF", "12.50 CHF"),
    ],
)
def test_amounts_carry_their_currency(amount, currency, text):
    assert money(amount, currency) == text


def test_template_values_use_the_policy_currency_and_time_zone():
    policy = load_policy()
    service = SimpleNamespace(policy=policy)
    decision = Decision(
        topic="refund",
        outcome=Outcome.ANSWERED,
        reasons=(Reason("refund_issued", "REF-2", {"amount": Decimal("19.99")}),),
        policy_version=policy.version,
        next_steps=(NextStep("refund_expected", "REF-3", due=date(2026, 12, 18)),),
        values={"issued_at": datetime(2026, 12, 3, 18, 0, tzinfo=timezone.utc)},
    )
    reason_values = template_values(decision, decision.reasons[0], service)
    assert reason_values["amount"] == "$19.99"
    assert reason_values["issued_at"] == "Thursday 3 December 2026 at 10:00 PST"
    assert template_values(decision, decision.next_steps[0], service)["due"] == "Friday 18 December 2026"
