"""Business days and calendar arithmetic (REF-3: weekends and the policy's holidays are skipped).

All functions are pure: dates in, dates out.  Day-based boundaries elsewhere use the policy timezone's calendar
date (``Policy.local_date``).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from datetime import date, timedelta

from .errors import InvalidRequest
from .policy import CalendarPolicy, Policy

__all__ = ["is_business_day", "add_business_days", "business_day_range", "add_months", "days_between"]


def _cal(policy: Policy | CalendarPolicy) -> CalendarPolicy:
    return policy.calendar if isinstance(policy, Policy) else policy


def is_business_day(day: date, policy: Policy | CalendarPolicy) -> bool:
    """REF-3: a configured business weekday that is not a configured holiday."""
    cal = _cal(policy)
    return day.weekday() in cal.business_days and day not in cal.holidays


def add_business_days(start: date, days: int, policy: Policy | CalendarPolicy) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself never counts).

    REF-3 example: inspected on a Friday, 3 business days -> Wednesday, 5 -> the next Friday.
    ``days == 0`` returns ``start`` unchanged.
    """
    if days < 0:
        raise InvalidRequest(f"business days must be >= 0, got {days}")
    cal = _cal(policy)
    day = start
    counted = 0
    guard = 0
    while counted < days:
        day += timedelta(days=1)
        guard += 1
        if guard > 3660:  # a policy whose holidays block every day for 10 years is a broken policy
            raise InvalidRequest("no business day found within 10 years; check calendar.holidays")
        if is_business_day(day, cal):
            counted += 1
    return day


def business_day_range(start: date, policy: Policy) -> tuple[date, date]:
    """REF-3: (earliest, latest) refund date for processing that starts on ``start``."""
    r = policy.refunds
    return (
        add_business_days(start, r.processing_business_days_min, policy),
        add_business_days(start, r.processing_business_days_max, policy),
    )


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later; clamped to the month's last day (Jan 31 + 1 month -> Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def days_between(earlier: date, later: date) -> int:
    return (later - earlier).days
