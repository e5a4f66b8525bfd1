"""The policy file as a typed, frozen value: one section per topic, every figure a typed field.

``policy_file.load_policy(path)`` reads ``policy/policy.yml``, checks every key's type and range, and returns a
``Policy``; ``figures.policy_figures`` lists the figures the FAQ answers quote.
A bad file raises ``PolicyError`` naming the file and the key, e.g.
``policy.yml: returns.return_window_days must be a positive integer, got 'abc'``.  Nothing is cached or global:
the caller keeps the value and passes it to the decision functions.

``InvalidRequest`` is the error every decision function raises for request facts that cannot be decided
(unknown order line, quantity out of range, naive datetime...).  It changes nothing.  Both live in ``errors.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .errors import InvalidRequest

DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "policy" / "policy.yml"

#: weekday keys used in the policy file, Monday first (``date.weekday()`` order)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --------------------------------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class ReturnsPolicy:
    return_window_days: int  # RET-1
    bulk_threshold_units: int  # RET-3 (more than this is bulk)
    redeemed_damage_report_days: int  # RET-10 / CRD-13
    prepaid_label_for_quality_returns: bool  # RET-8 / RET-9
    estimated_return_transit_days: int  # estimate only (RET-6)
    estimated_inspection_business_days: int  # estimate only (RET-6)


@dataclass(frozen=True)
class CancellationPolicy:
    self_cancel_minutes: int  # CAN-1


@dataclass(frozen=True)
class RefundsPolicy:
    processing_business_days_min: int  # REF-3
    processing_business_days_max: int  # REF-3


@dataclass(frozen=True)
class CalendarPolicy:
    business_days: frozenset[int]  # date.weekday() numbers, REF-3
    holidays: frozenset[date]


@dataclass(frozen=True)
class WarrantyPolicy:
    default_months: int  # WAR-1
    category_months: Mapping[str, int]  # WAR-1
    sku_months: Mapping[str, int]  # WAR-1 per-SKU overrides
    extended_warranty_max_years: int  # WAR-21
    claim_window_days: int  # WAR-10
    non_quality_report_days: int  # WAR-15
    replacement_warranty_days: int  # WAR-5
    remedy_order: tuple[str, ...]  # WAR-3
    smart_help_center_url: str  # WAR-6
    authorised_resellers: frozenset[str]  # WAR-9 / WAR-20 / RET-11

    def months_for(self, sku: str, category: str) -> int:
        """WAR-1: the SKU override, else the category's months, else the default."""
        if sku in self.sku_months:
            return self.sku_months[sku]
        return self.category_months.get(category, self.default_months)


@dataclass(frozen=True)
class CreditsPolicy:
    programme_launch: date  # CRD-8
    earn_points_per_currency_unit: int  # CRD-9
    signup_reward: int  # CRD-9
    profile_reward: int  # CRD-9
    unlock_days: int  # CRD-6
    expiry_months: int  # CRD-7
    expiring_soon_days: int
    minimum_age: Mapping[str, int]  # CRD-2, key "default" for other regions

    @property
    def expiry_days(self) -> int:
        """The expiry period in whole days for quoting ("365 days"); decisions use ``expiry_months`` (CRD-7)."""
        return round(self.expiry_months * 365 / 12)

    def minimum_age_for(self, region: str) -> int:
        return self.minimum_age.get(region.upper(), self.minimum_age["default"])


@dataclass(frozen=True)
class OpeningHours:
    days: frozenset[int]
    open: time
    close: time

    def is_open(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.open <= local.time() < self.close

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": [WEEKDAYS[d] for d in sorted(self.days)],
            "open": self.open.strftime("%H:%M"),
            "close": self.close.strftime("%H:%M"),
        }


@dataclass(frozen=True)
class ContactsPolicy:
    email: str
    phone_us: str
    phone_hours: OpeningHours
    live_chat_hours: OpeningHours
    hours_timezone: str
    #: the expected wait per place in the live-chat queue when no conversation was taken lately (issue 17)
    live_chat_wait_minutes: int = 5


@dataclass(frozen=True)
class IdentityPolicy:
    """RET-4 identity checks (order number + purchase email): how many wrong guesses, how long a lock-out lasts, how
    long a verification stays valid.  Security figures a support lead may tune, not policy text."""

    max_failed_attempts: int  # failures (per conversation, client, order number) before step-up
    lockout_minutes: int  # counting window and lock-out duration
    token_lifetime_minutes: int  # a verification (server-side grant) expires after this
    code_lifetime_minutes: int  # a one-time code sent to the purchase email expires after this
    code_max_attempts: int  # wrong entries of one code before it is void
    code_max_sends_per_hour: int  # codes sent per order number per hour


@dataclass(frozen=True)
class Carrier:
    """A parcel carrier: the name customers read and its tracking link, ``{tracking_number}`` standing for the
    parcel's number."""

    name: str
    tracking_url: str


@dataclass(frozen=True)
class ShippingPolicy:
    """Parcels on their way (the order status): when an undelivered parcel counts as late (INS-1 "delayed") and the
    carriers' tracking links."""

    late_after_days: int  # INS-1: late this many days after the latest expected delivery date (1: the next day)
    carriers: Mapping[str, Carrier]  # key: the carrier code of a shipment (ups, fedex...)


@dataclass(frozen=True)
class Policy:
    version: str
    effective_from: date
    timezone: str
    returns: ReturnsPolicy
    cancellation: CancellationPolicy
    refunds: RefundsPolicy
    calendar: CalendarPolicy
    warranty: WarrantyPolicy
    credits: CreditsPolicy
    contacts: ContactsPolicy
    identity: IdentityPolicy
    shipping: ShippingPolicy
    #: ISO 4217 code of the store's prices and refunds (the bot writes amounts with it)
    currency: str = "USD"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        """The calendar date of ``moment`` in the policy timezone (all day-based boundaries use it)."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidRequest(f"datetime must be timezone-aware, got naive {moment.isoformat()}")
        return moment.astimezone(self.tz).date()

    def start_of_day(self, day: date) -> datetime:
        """Midnight at the start of ``day`` in the policy timezone (timezone-aware)."""
        return datetime.combine(day, time(0, 0), tzinfo=self.tz)


def normalise_channel(name: str | None) -> str:
    """``"Best Buy"`` -> ``"best_buy"``; the web store's aliases (``anker.com``, ``anker``) -> ``"web_store"``."""
    from .facts import WEB_STORE

    if name is None:
        return ""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    key = key.replace("&", "_and_").replace("__", "_").strip("_")
    if key in {"web_store", "anker.com", "anker", "anker_com", "www.anker.com", "webstore", "anker_web_store"}:
        return WEB_STORE
    return key
