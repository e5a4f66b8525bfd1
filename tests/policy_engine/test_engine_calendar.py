"""REF-3 business days: weekends and the policy's holidays are skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from policy_engine.core.calendar import add_business_days, add_months, business_day_range, is_business_day
from policy_engine.core.errors import InvalidRequest


def test_friday_plus_one_business_day_is_monday_REF_3(policy):
    """REF-3: Friday -> Monday (the weekend is skipped); Thursday -> Friday."""
    assert add_business_days(date(2024, 3, 8), 1, policy) == date(2024, 3, 11)  # Fri -> Mon
    assert add_business_days(date(2024, 3, 7), 1, policy) == date(2024, 3, 8)  # Thu -> Fri


def test_friday_inspection_refund_range_is_wednesday_to_friday_REF_3(policy):
    """REF-3: 3..5 business days from a Friday: Wednesday .. the next Friday."""
    assert business_day_range(date(2024, 3, 8), policy) == (date(2024, 3, 13), date(2024, 3, 15))


def test_saturday_and_sunday_are_not_business_days(policy):
    assert not is_business_day(date(2024, 3, 9), policy)
    assert not is_business_day(date(2024, 3, 10), policy)
    assert is_business_day(date(2024, 3, 11), policy)


def test_configured_holiday_is_skipped_REF_3(policy):
    """REF-3 reading: holidays from the policy are skipped (2024-07-04 is configured)."""
    assert not is_business_day(date(2024, 7, 4), policy)
    assert add_business_days(date(2024, 7, 3), 1, policy) == date(2024, 7, 5)
    no_holidays = replace(policy, calendar=replace(policy.calendar, holidays=frozenset()))
    assert add_business_days(date(2024, 7, 3), 1, no_holidays) == date(2024, 7, 4)


def test_zero_and_negative_business_days(policy):
    assert add_business_days(date(2024, 3, 9), 0, policy) == date(2024, 3, 9)
    with pytest.raises(InvalidRequest):
        add_business_days(date(2024, 3, 9), -1, policy)


@pytest.mark.parametrize(
    "start,months,expected",
    [
        (date(2024, 1, 15), 18, date(2025, 7, 15)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 12, 10), 1, date(2025, 1, 10)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected
