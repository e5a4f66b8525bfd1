"""Reading the policy file: ``load_policy(path)`` checks every key's type and range and returns a ``Policy``.

A bad file raises ``PolicyError`` naming the file and the key, e.g.
``policy.yml: returns.return_window_days must be a positive integer, got 'abc'``.  Nothing is cached or global:
the caller keeps the value and passes it to the decision functions.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .errors import PolicyError
from .policy import (
    DEFAULT_POLICY_PATH,
    WEEKDAYS,
    CalendarPolicy,
    CancellationPolicy,
    ContactsPolicy,
    CreditsPolicy,
    IdentityPolicy,
    OpeningHours,
    Policy,
    RefundsPolicy,
    ReturnsPolicy,
    WarrantyPolicy,
    normalise_channel,
)
from .policy_shipping import shipping_policy

REMEDIES = ("refurbished", "new", "partial_refund")

#: sanity ceilings for the identity figures: a typo like 5000 attempts or a year-long token is refused
MAX_IDENTITY_ATTEMPTS = 100
MAX_IDENTITY_MINUTES = 7 * 24 * 60
#: ceilings for the one-time codes (RET-4 step-up): 6 digits guessed at most this often, alive at most an hour
MAX_CODE_MINUTES = 60
MAX_CODE_ATTEMPTS = 10
MAX_CODE_SENDS_PER_HOUR = 20


class _Reader:
    """Reads one mapping of the policy file; every error names ``<file>: <dotted.key>``."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        self.source = source
        self.where = where
        if not isinstance(data, Mapping):
            raise self.error("", "must be a mapping", data)
        self.data = data

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where and key else (self.where or key)

    def error(self, key: str, must: str, got: Any) -> PolicyError:
        return PolicyError(f"{self.source}: {self.path(key) or '<top level>'} {must}, got {got!r}")

    def raw(self, key: str) -> Any:
        if key not in self.data:
            raise PolicyError(f"{self.source}: {self.path(key)} is missing")
        return self.data[key]

    def section(self, key: str) -> _Reader:
        return _Reader(self.raw(key), self.path(key), self.source)

    def int(self, key: str, *, minimum: int = 1) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise self.error(key, f"must be {kind}", value)
        return value

    def bool(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false", value)
        return value

    def str(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string", value)
        return value.strip()

    def date(self, key: builtins.str) -> date:
        return _as_date(self.raw(key), lambda got: self.error(key, "must be a date (YYYY-MM-DD)", got))

    def time(self, key: builtins.str) -> time:
        value = self.raw(key)
        if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
            try:
                return time.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(key, "must be a time HH:MM in quotes", value)

    def list(self, key: builtins.str) -> list[Any]:
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.error(key, "must be a list", value)
        return value

    def weekdays(self, key: builtins.str) -> frozenset[builtins.int]:
        days = self.list(key)
        out = set()
        for d in days:
            if not isinstance(d, str) or d.lower() not in WEEKDAYS:
                raise self.error(key, f"must list weekdays from {list(WEEKDAYS)}", d)
            out.add(WEEKDAYS.index(d.lower()))
        if not out:
            raise self.error(key, "must list at least one weekday", days)
        return frozenset(out)

    def int_map(
        self, key: builtins.str, *, minimum: builtins.int = 1, required: tuple[builtins.str, ...] = ()
    ) -> Mapping[builtins.str, builtins.int]:
        value = self.raw(key)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a mapping", value)
        out: dict[str, int] = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
                raise PolicyError(
                    f"{self.source}: {self.path(key)}.{k} must be "
                    f"{'a positive integer' if minimum == 1 else f'an integer >= {minimum}'}, got {v!r}"
                )
            out[str(k)] = v
        for k in required:
            if k not in out:
                raise PolicyError(f"{self.source}: {self.path(key)}.{k} is missing")
        return MappingProxyType(out)


def _as_date(value: Any, error: Callable[[Any], PolicyError]) -> date:
    if isinstance(value, datetime):
        raise error(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise error(value)


def _currency(reader: _Reader) -> str:
    code = reader.str("currency")
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise reader.error("currency", "must be an ISO 4217 code like USD", code)
    return code


def _timezone(reader: _Reader, key: str) -> str:
    name = reader.str(key)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.error(key, "must be an IANA timezone name", name) from None
    return name


def _hours(reader: _Reader) -> OpeningHours:
    opening = OpeningHours(days=reader.weekdays("days"), open=reader.time("open"), close=reader.time("close"))
    if opening.close <= opening.open:
        raise reader.error("close", "must be later than open", reader.raw("close"))
    return opening


def policy_from_mapping(data: Any, source: str = "policy.yml") -> Policy:
    """Build and validate a ``Policy`` from the parsed YAML mapping (``source`` names the file in errors)."""
    top = _Reader(data, "", source)

    version = top.raw("version")
    if isinstance(version, bool) or not isinstance(version, (str, int, float)) or not str(version).strip():
        raise top.error("version", "must be a non-empty string", version)

    r = top.section("returns")
    returns = ReturnsPolicy(
        return_window_days=r.int("return_window_days"),
        bulk_threshold_units=r.int("bulk_threshold_units"),
        redeemed_damage_report_days=r.int("redeemed_damage_report_days"),
        prepaid_label_for_quality_returns=r.bool("prepaid_label_for_quality_returns"),
        estimated_return_transit_days=r.int("estimated_return_transit_days", minimum=0),
        estimated_inspection_business_days=r.int("estimated_inspection_business_days", minimum=0),
    )

    c = top.section("cancellation")
    cancellation = CancellationPolicy(self_cancel_minutes=c.int("self_cancel_minutes"))

    f = top.section("refunds")
    refunds = RefundsPolicy(
        processing_business_days_min=f.int("processing_business_days_min"),
        processing_business_days_max=f.int("processing_business_days_max"),
    )
    if refunds.processing_business_days_max < refunds.processing_business_days_min:
        raise f.error(
            "processing_business_days_max",
            f"must be >= processing_business_days_min ({refunds.processing_business_days_min})",
            refunds.processing_business_days_max,
        )

    k = top.section("calendar")
    raw_holidays = k.raw("holidays") or []
    if not isinstance(raw_holidays, list):
        raise k.error("holidays", "must be a list of dates", raw_holidays)
    holidays = frozenset(
        _as_date(h, lambda got: k.error("holidays", "must be a list of dates (YYYY-MM-DD)", got)) for h in raw_holidays
    )
    calendar = CalendarPolicy(business_days=k.weekdays("business_days"), holidays=holidays)

    w = top.section("warranty")
    remedy_order = tuple(w.list("remedy_order"))
    if sorted(remedy_order) != sorted(REMEDIES):
        raise w.error("remedy_order", f"must list each of {list(REMEDIES)} once", list(remedy_order))
    resellers = w.list("authorised_resellers")
    for name in resellers:
        if not isinstance(name, str) or not name.strip():
            raise w.error("authorised_resellers", "must be a list of seller names", name)
    url = w.str("smart_help_center_url")
    if not re.match(r"https?://", url):
        raise w.error("smart_help_center_url", "must be an http(s) URL", url)
    warranty = WarrantyPolicy(
        default_months=w.int("default_months"),
        category_months=w.int_map("category_months"),
        sku_months=w.int_map("sku_months"),
        extended_warranty_max_years=w.int("extended_warranty_max_years"),
        claim_window_days=w.int("claim_window_days"),
        non_quality_report_days=w.int("non_quality_report_days"),
        replacement_warranty_days=w.int("replacement_warranty_days"),
        remedy_order=remedy_order,
        smart_help_center_url=url,
        authorised_resellers=frozenset(normalise_channel(n) for n in resellers),
    )

    s = top.section("credits")
    min_age = s.int_map("minimum_age", required=("default",))
    credits = CreditsPolicy(
        programme_launch=s.date("programme_launch"),
        earn_points_per_currency_unit=s.int("earn_points_per_currency_unit", minimum=0),
        signup_reward=s.int("signup_reward", minimum=0),
        profile_reward=s.int("profile_reward", minimum=0),
        unlock_days=s.int("unlock_days", minimum=0),
        expiry_months=s.int("expiry_months"),
        expiring_soon_days=s.int("expiring_soon_days", minimum=0),
        minimum_age=MappingProxyType({key.upper() if key != "default" else key: v for key, v in min_age.items()}),
    )

    t = top.section("contacts")
    email = t.str("email")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise t.error("email", "must be an email address", email)
    contacts = ContactsPolicy(
        email=email,
        phone_us=t.str("phone_us"),
        phone_hours=_hours(t.section("phone_hours")),
        live_chat_hours=_hours(t.section("live_chat_hours")),
        hours_timezone=_timezone(t, "hours_timezone"),
        live_chat_wait_minutes=t.int("live_chat_wait_minutes"),
    )

    i = top.section("identity")
    identity = IdentityPolicy(
        max_failed_attempts=i.int("max_failed_attempts"),
        lockout_minutes=i.int("lockout_minutes"),
        token_lifetime_minutes=i.int("token_lifetime_minutes"),
        code_lifetime_minutes=i.int("code_lifetime_minutes"),
        code_max_attempts=i.int("code_max_attempts"),
        code_max_sends_per_hour=i.int("code_max_sends_per_hour"),
    )
    for key, limit in (
        ("max_failed_attempts", MAX_IDENTITY_ATTEMPTS),
        ("lockout_minutes", MAX_IDENTITY_MINUTES),
        ("token_lifetime_minutes", MAX_IDENTITY_MINUTES),
        ("code_lifetime_minutes", MAX_CODE_MINUTES),
        ("code_max_attempts", MAX_CODE_ATTEMPTS),
        ("code_max_sends_per_hour", MAX_CODE_SENDS_PER_HOUR),
    ):
        if getattr(identity, key) > limit:
            raise i.error(key, f"must be at most {limit}", getattr(identity, key))

    return Policy(
        version=str(version).strip(),
        effective_from=top.date("effective_from"),
        timezone=_timezone(top, "timezone"),
        currency=_currency(top),
        returns=returns,
        cancellation=cancellation,
        refunds=refunds,
        calendar=calendar,
        warranty=warranty,
        credits=credits,
        contacts=contacts,
        identity=identity,
        shipping=shipping_policy(top.section("shipping")),  # INS-1 lateness, carriers' tracking links
    )


def load_policy(path: str | Path = DEFAULT_POLICY_PATH) -> Policy:
    """Read and validate the policy file; raise ``PolicyError`` with ``<file name>: <key> ...`` on any problem."""
    path = Path(path)
    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{source}: cannot read policy file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    return policy_from_mapping(data, source)
